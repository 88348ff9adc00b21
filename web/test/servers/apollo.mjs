// Apollo Server 5 on Express 5, with the seed's contract (contract.mjs) as
// an API team adds it: a context that verifies the bearer token, and a
// plugin that puts a fresh token on every authenticated answer. A protected
// field without a valid token throws Unauthorized with the code
// UNAUTHENTICATED, which nulls the field.
//
// Environment: PORT (default 4000, 0 for any), ORIGINS (comma-separated
// origins CORS allows), TOKEN_TTL_SECONDS (default 3600), JWT_SECRET
// (default: a random key per process). For the tests it also serves
// GET /test/log and POST /test/reset (testlog.mjs).
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import { GraphQLError } from 'graphql';
import { issueToken, setTokenHeaders, userFromAuthorization } from './contract.mjs';
import { resolvers, typeDefs } from './schema.mjs';
import { log, serveTestLog } from './testlog.mjs';

const origins = (process.env.ORIGINS ?? '').split(',').filter(Boolean);

// A fresh token on every authenticated answer: a login's, and every answer
// to a request whose token was valid.
const tokenRotation = {
  async requestDidStart() {
    return {
      async willSendResponse({ contextValue, response }) {
        if (contextValue.user) setTokenHeaders(response.http.headers, await issueToken(contextValue.user));
      },
    };
  },
};

const server = new ApolloServer({
  typeDefs,
  resolvers: resolvers({
    unauthorized: () => new GraphQLError('Unauthorized', { extensions: { code: 'UNAUTHENTICATED' } }),
    forbidden: () => new GraphQLError('Unauthorized', { extensions: { code: 'FORBIDDEN' } }),
  }),
  plugins: [tokenRotation],
});
await server.start();

// Test only: every GraphQL request and its answer in the log.
function logRequests(req, res, next) {
  if (req.method !== 'OPTIONS') {
    const entry = log.begin(req.method, (name) => req.headers[name]);
    res.on('finish', () => {
      log.named(entry, req.method === 'GET' ? req.query : req.body);
      log.answered(entry, {
        status: res.statusCode, contentType: res.getHeader('content-type'), token: res.getHeader('x-authorization'),
      });
    });
  }
  next();
}

const app = express();
app.use('/test', (req, res, next) => serveTestLog(req, res) || next());
app.use(
  '/graphql',
  logRequests,
  cors({
    origin: origins,
    allowedHeaders: ['Authorization', 'Content-Type'],
    exposedHeaders: ['Authorization', 'X-Authorization'],
  }),
  express.json(),
  expressMiddleware(server, {
    // Each operation gets a shallow copy of this object, which its resolvers
    // and plugins share: loggedIn sets user on that copy.
    context: async ({ req }) => ({
      user: await userFromAuthorization(req.headers.authorization),
      loggedIn(user) { this.user = user; },
    }),
  }),
);

const listener = app.listen(Number(process.env.PORT ?? 4000), '127.0.0.1', (err) => {
  if (err) throw err;
  console.log(`apollo listening on http://127.0.0.1:${listener.address().port}`);
});
