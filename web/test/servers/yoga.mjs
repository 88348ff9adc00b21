// GraphQL Yoga 5 on node:http, with the seed's contract (contract.mjs) as
// an API team adds it: a plugin that verifies the bearer token of every
// request and puts a fresh token on every authenticated answer, and a
// context that hands resolvers the user. A protected field without a valid
// token throws a plain GraphQLError('Unauthorized'), which nulls the field.
// Yoga answers GET queries too, and speaks application/graphql-response+json.
//
// Environment: PORT (default 4000, 0 for any), ORIGINS (comma-separated
// origins CORS allows), TOKEN_TTL_SECONDS (default 3600), JWT_SECRET
// (default: a random key per process). For the tests it also serves
// GET /test/log and POST /test/reset (testlog.mjs).
import { createServer } from 'node:http';
import { GraphQLError } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { issueToken, setTokenHeaders, userFromAuthorization } from './contract.mjs';
import { resolvers, typeDefs } from './schema.mjs';
import { log, serveTestLog } from './testlog.mjs';

const origins = (process.env.ORIGINS ?? '').split(',').filter(Boolean);

// The user each answer is authenticated for: its bearer's, or the one
// loginUser logged in.
const authenticated = new WeakMap();

// Verifies every request's bearer token, and puts a fresh token on every
// authenticated answer.
const tokenRotation = {
  async onRequest({ request }) {
    const user = await userFromAuthorization(request.headers.get('authorization'));
    if (user) authenticated.set(request, user);
  },
  async onResponse({ request, response }) {
    const user = authenticated.get(request);
    if (user) setTokenHeaders(response.headers, await issueToken(user));
  },
};

// Test only: every GraphQL request and its answer in the log (after
// tokenRotation, so that it sees the token).
const entries = new WeakMap();
const logRequests = {
  onRequest({ request }) {
    if (request.method !== 'OPTIONS') entries.set(request, log.begin(request.method, (name) => request.headers.get(name)));
  },
  onParams({ request, params }) {
    log.named(entries.get(request), params);
  },
  onResponse({ request, response }) {
    log.answered(entries.get(request), {
      status: response.status,
      contentType: response.headers.get('content-type'),
      token: response.headers.get('x-authorization'),
    });
  },
};

const yoga = createYoga({
  schema: createSchema({
    typeDefs,
    resolvers: resolvers({
      unauthorized: () => new GraphQLError('Unauthorized'),
      forbidden: () => new GraphQLError('Unauthorized'),
    }),
  }),
  context: ({ request }) => ({
    user: authenticated.get(request) ?? null,
    loggedIn: (user) => authenticated.set(request, user),
  }),
  cors: {
    origin: origins,
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    exposedHeaders: ['Authorization', 'X-Authorization'],
  },
  plugins: [tokenRotation, logRequests],
});

const server = createServer((req, res) => serveTestLog(req, res) || yoga(req, res));
server.listen(Number(process.env.PORT ?? 4000), '127.0.0.1', () => {
  console.log(`yoga listening on http://127.0.0.1:${server.address().port}`);
});
