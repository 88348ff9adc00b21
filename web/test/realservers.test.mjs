// gqlauth against the GraphQL servers API teams run: Apollo Server 5 (on
// Express 5) and GraphQL Yoga 5, each with the seed's contract added the
// short way (web/test/servers). They differ as real ones do: a refused
// token nulls the field with Unauthorized, with the code UNAUTHENTICATED
// from Apollo and none from Yoga; both answer a validation error with 400
// in application/graphql-response+json. What the browser really sent is
// read from each server's log (GET /test/log).
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSER, PASSWORD, USER, openSuite, runtimeFailures, secToMs, sleepUntil } from './harness.mjs';
import { KINDS, startTestServer } from './servers/start.mjs';

const SHORT_TTL_SECONDS = 3;

/** What each server sends when it refuses the token of `{ me { id } }`. */
const REFUSAL = {
  apollo: [{ message: 'Unauthorized', locations: [{ line: 1, column: 3 }], path: ['me'], extensions: { code: 'UNAUTHENTICATED' } }],
  yoga: [{ message: 'Unauthorized', locations: [{ line: 1, column: 3 }], path: ['me'] }],
};

/** Each request after the first carried the token issued in the answer to the one before it. */
function assertChain(log, what) {
  const { requests } = log;
  assert.ok(requests.length >= 2, `${what}: at least two requests, got ${requests.length}`);
  for (const r of requests.slice(1)) {
    const previous = requests[r.seq - 2];
    assert.ok(previous.issued, `${what}: the answer to request ${previous.seq} (${previous.op}) carried a token`);
    assert.equal(r.jti, previous.issued,
      `${what}: request ${r.seq} (${r.op}) carried the token of the answer to request ${previous.seq} (${previous.op})`);
  }
}

describe(`gqlauth against Apollo Server and GraphQL Yoga [${BROWSER}]`, { timeout: 120000 }, () => {
  let suite;
  const api = {};
  const short = {};
  let t;

  before(async () => {
    suite = await openSuite({});
    for (const kind of KINDS) {
      api[kind] = await startTestServer(kind, { origins: [suite.pageOrigin] });
      short[kind] = await startTestServer(kind, { origins: [suite.pageOrigin], ttlSeconds: SHORT_TTL_SECONDS });
    }
  });
  after(async () => {
    await Promise.all([...Object.values(api), ...Object.values(short)].map((s) => s.stop()));
    await suite?.close();
  });
  beforeEach(async () => {
    await Promise.all([...Object.values(api), ...Object.values(short)].map((s) => s.reset()));
    t = await suite.newPage();
  });
  afterEach(async () => {
    const failures = t ? await runtimeFailures(t) : [];
    await t?.close();
    assert.deepEqual(failures, [], 'the page reported errors');
  });

  for (const kind of KINDS) {
    describe(kind, () => {
      for (const by of ['username', 'email']) {
        it(`logs in by ${by}: the user, expiresAt = the token's exp, and protected data`, async () => {
          const r = await t.run(async (endpoint, credentials) => {
            const u = await import('/e2e-util.js');
            const c = await u.newClient('c', { endpoint });
            const res = await c.login(credentials);
            const me = await c.fetchWithAuth('query Me { me { id username email } }');
            return { user: res.user, expiresAt: u.ms(res.expiresAt), me, state: u.state('c') };
          }, api[kind].endpoint, { [by]: USER[by], password: PASSWORD });

          assert.equal(r.user.id, USER.id);
          assert.deepEqual(r.me.data, { me: USER });
          assert.equal(r.me.errors, undefined);
          assert.equal(r.state.isAuthenticated, true);
          assert.deepEqual(r.state.events.map((e) => e.reason), ['login', 'rotate']);
          const log = await api[kind].log();
          assert.deepEqual(log.requests.map((q) => q.op), ['Login', 'Me']);
          assert.equal(log.requests[0].jti, null, 'the login carried no token');
          assert.equal(r.expiresAt, secToMs(log.issued[0].exp), "login's expiresAt is the exp of the login's token");
          assert.equal(r.state.expiresAt, secToMs(log.issued[1].exp), 'tokenExpiresAt is the exp of the newest token');
        });
      }

      it('rotates: every request carries the token of the answer before it (by the server log)', async () => {
        const r = await t.run(async (endpoint, username, password) => {
          const u = await import('/e2e-util.js');
          const c = await u.newClient('c', { endpoint });
          await c.login({ username, password });
          const out = [];
          out.push(await c.fetchWithAuth('query One { me { id } }'));
          out.push(await c.fetchWithAuth('query Two($first: Int) { items(first: $first) { totalCount nodes { id name } } }', { first: 2 }));
          out.push(await c.fetchWithAuth('query A { me { id } } query Three { me { username } }', undefined, { operationName: 'Three' }));
          out.push(await c.fetchWithAuth('query Four { me { email } }'));
          return { out, state: u.state('c') };
        }, api[kind].endpoint, USER.username, PASSWORD);

        assert.deepEqual(r.out.map((x) => x.data), [
          { me: { id: USER.id } },
          { items: { totalCount: 50, nodes: [{ id: '1', name: 'Item 1' }, { id: '2', name: 'Item 2' }] } },
          { me: { username: USER.username } },
          { me: { email: USER.email } },
        ]);
        const log = await api[kind].log();
        assert.deepEqual(log.requests.map((q) => q.op), ['Login', 'One', 'Two', 'Three', 'Four']);
        assertChain(log, kind);
        assert.equal(log.issued.length, 5, 'a token for the login and for each answer');
        assert.deepEqual(r.state.events.map((e) => e.reason), ['login', 'rotate', 'rotate', 'rotate', 'rotate']);
        assert.equal(r.state.expiresAt, secToMs(log.issued.at(-1).exp));
      });

      it('runs a mutation once', async () => {
        const r = await t.run(async (endpoint, username, password) => {
          const u = await import('/e2e-util.js');
          const c = await u.newClient('c', { endpoint });
          await c.login({ username, password });
          const added = await c.fetchWithAuth('mutation Add($name: String!) { addItem(name: $name) { id name } }', { name: 'once' });
          const items = await c.fetchWithAuth('query Count { items(first: 0) { totalCount } }');
          return { added, items };
        }, api[kind].endpoint, USER.username, PASSWORD);

        assert.deepEqual(r.added, { data: { addItem: { id: '51', name: 'once' } } });
        assert.equal(r.items.data.items.totalCount, 51);
        const log = await api[kind].log();
        assert.equal(log.mutations.addItem, 1, 'addItem ran once');
        assert.equal(log.requests.filter((q) => q.op === 'Add').length, 1, 'the mutation was sent once');
        assertChain(log, kind);
      });

      it('resolves partial data with an ordinary resolver error, and the session goes on', async () => {
        const r = await t.run(async (endpoint, username, password) => {
          const u = await import('/e2e-util.js');
          const c = await u.newClient('c', { endpoint });
          await c.login({ username, password });
          const partial = await u.attempt(() => c.fetchWithAuth('query Partial { me { id } broken }'));
          const next = await u.attempt(() => c.fetchWithAuth('query Next { me { id } }'));
          return { partial, next, state: u.state('c') };
        }, api[kind].endpoint, USER.username, PASSWORD);

        assert.equal(r.partial.ok, true, JSON.stringify(r.partial));
        assert.deepEqual(r.partial.value.data, { me: { id: USER.id }, broken: null });
        assert.equal(r.partial.value.errors.length, 1);
        assert.deepEqual(r.partial.value.errors[0].path, ['broken']);
        assert.equal(r.partial.value.errors[0].extensions?.code, 'INTERNAL_SERVER_ERROR');
        assert.equal(r.state.isAuthenticated, true);
        assert.deepEqual(r.next.value?.data, { me: { id: USER.id } });
        assertChain(await api[kind].log(), kind);
      });

      it('resolves a validation error (400, application/graphql-response+json) as {data: null, errors}, and the session goes on', async () => {
        const r = await t.run(async (endpoint, username, password) => {
          const u = await import('/e2e-util.js');
          const c = await u.newClient('c', { endpoint });
          await c.login({ username, password });
          const bad = await u.attempt(async () => {
            const res = await c.fetchWithAuth('query Bad { me { id noSuchField } }');
            return { dataIsNull: 'data' in res && res.data === null, errors: res.errors };
          });
          const next = await u.attempt(() => c.fetchWithAuth('query Next { me { id } }'));
          return { bad, next, state: u.state('c') };
        }, api[kind].endpoint, USER.username, PASSWORD);

        const log = await api[kind].log();
        const sent = log.requests.find((q) => q.op === 'Bad');
        assert.match(sent.accept ?? '', /^application\/graphql-response\+json\b/, 'gqlauth asks for application/graphql-response+json first');
        assert.equal(sent.status, 400, `${kind} answered the validation error with 400`);
        assert.equal(sent.contentType, 'application/graphql-response+json');
        assert.equal(r.bad.ok, true, `a validation error resolves: ${JSON.stringify(r.bad)}`);
        assert.equal(r.bad.value.dataIsNull, true, 'data: null');
        assert.equal(r.bad.value.errors.length, 1);
        assert.match(r.bad.value.errors[0].message, /noSuchField/);
        assert.equal(r.bad.value.errors[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
        assert.equal(r.state.isAuthenticated, true);
        assert.deepEqual(r.next.value?.data, { me: { id: USER.id } });
        assertChain(log, kind);
      });

      it('rejects a wrong password with LOGIN_FAILED and the server errors, staying logged out', async () => {
        const r = await t.run(async (endpoint, username) => {
          const u = await import('/e2e-util.js');
          const c = await u.newClient('c', { endpoint });
          const res = await u.attempt(() => c.login({ username, password: 'not-the-password' }));
          return { res, state: u.state('c') };
        }, api[kind].endpoint, USER.username);

        assert.equal(r.res.ok, false);
        assert.equal(r.res.error.name, 'AuthError');
        assert.equal(r.res.error.code, 'LOGIN_FAILED');
        assert.equal(r.res.error.graphQLErrors?.[0]?.message, 'invalid username, email or password');
        assert.deepEqual(r.res.error.graphQLErrors[0].path, ['loginUser']);
        assert.equal(r.state.isAuthenticated, false);
        assert.deepEqual(r.state.events, []);
        const log = await api[kind].log();
        assert.equal(log.graphqlRequests, 1);
        assert.deepEqual(log.issued, []);
      });

      it('a refused token on a nullable field ends the session: UNAUTHORIZED with the server errors, then NOT_AUTHENTICATED without sending', async () => {
        await t.run(async (endpoint, username, password) => {
          const u = await import('/e2e-util.js');
          const c = await u.newClient('c', { endpoint });
          await c.login({ username, password });
          await c.fetchWithAuth('{ me { id } }');
        }, api[kind].endpoint, USER.username, PASSWORD);
        const held = (await api[kind].log()).issued.at(-1).jti;
        await api[kind].restart(); // a new signing key: the token the client holds is refused

        const r = await t.run(async () => {
          const u = await import('/e2e-util.js');
          const c = u.client('c');
          const refused = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
          const state = u.state('c');
          const next = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
          return { refused, state, next };
        });

        assert.equal(r.refused.ok, false, `the refusal must reject: ${JSON.stringify(r.refused)}`);
        assert.equal(r.refused.error.name, 'AuthError');
        assert.equal(r.refused.error.code, 'UNAUTHORIZED');
        assert.deepEqual(r.refused.error.graphQLErrors, REFUSAL[kind]);
        assert.equal(r.state.isAuthenticated, false);
        assert.equal(r.state.expiresAt, null);
        assert.deepEqual(r.state.events.map((e) => e.reason), ['login', 'rotate', 'unauthorized']);
        assert.equal(r.next.ok, false);
        assert.equal(r.next.error.code, 'NOT_AUTHENTICATED');
        const log = await api[kind].log();
        assert.equal(log.graphqlRequests, 1, 'one request reached the restarted server: the refused one');
        assert.equal(log.requests[0].jti, held, 'it carried the newest token');
        assert.equal(log.requests[0].status, 200);
        assert.deepEqual(log.issued, [], 'the refusal brought no token');
      });

      it('a permission error (Unauthorized) in an answer with a new token keeps the session, with data and with data null', async () => {
        const r = await t.run(async (endpoint, username, password) => {
          const u = await import('/e2e-util.js');
          const c = await u.newClient('c', { endpoint });
          await c.login({ username, password });
          const out = {};
          out.restricted = await u.attempt(() => c.fetchWithAuth('query Restricted { me { id } restricted }'));
          out.afterRestricted = c.isAuthenticated();
          out.next = await u.attempt(() => c.fetchWithAuth('query Next { me { id } }'));
          out.strict = await u.attempt(async () => {
            const res = await c.fetchWithAuth('mutation Strict { addItem(name: "strict") { id } forbiddenStrict }');
            return { dataIsNull: 'data' in res && res.data === null, errors: res.errors };
          });
          out.afterStrict = c.isAuthenticated();
          out.last = await u.attempt(() => c.fetchWithAuth('query Last { me { id } }'));
          return { out, state: u.state('c') };
        }, api[kind].endpoint, USER.username, PASSWORD);

        const o = r.out;
        const log = await api[kind].log();
        // Tokens issued in the same second have the same iat and exp (NumericDate is in seconds).
        const iats = log.issued.map((x) => x.iat).join(', ');
        assert.equal(o.restricted.ok, true, `the permission error must resolve (iats ${iats}): ${JSON.stringify(o.restricted)}`);
        assert.deepEqual(o.restricted.value.data, { me: { id: USER.id }, restricted: null });
        assert.equal(o.restricted.value.errors[0].message, 'Unauthorized');
        assert.deepEqual(o.restricted.value.errors[0].path, ['restricted']);
        assert.equal(o.afterRestricted, true);
        assert.deepEqual(o.next.value?.data, { me: { id: USER.id } });

        assert.equal(o.strict.ok, true, `data null with a permission error must resolve (iats ${iats}): ${JSON.stringify(o.strict)}`);
        assert.equal(o.strict.value.dataIsNull, true);
        assert.equal(o.strict.value.errors[0].message, 'Unauthorized');
        assert.deepEqual(o.strict.value.errors[0].path, ['forbiddenStrict']);
        assert.equal(o.afterStrict, true);
        assert.deepEqual(o.last.value?.data, { me: { id: USER.id } });

        assert.deepEqual(log.requests.map((q) => q.op), ['Login', 'Restricted', 'Next', 'Strict', 'Last']);
        assertChain(log, kind);
        assert.equal(log.mutations.addItem, 1, 'the mutation with the permission error ran once');
        assert.equal(r.state.isAuthenticated, true);
        assert.deepEqual(r.state.events.map((e) => e.reason).filter((e) => e !== 'rotate'), ['login']);
      });

      it('rejects TOKEN_EXPIRED once the token is past exp, sending nothing', async () => {
        const s = short[kind];
        await t.run(async (endpoint, username, password) => {
          const u = await import('/e2e-util.js');
          const c = await u.newClient('c', { endpoint, expiryLeewaySeconds: 0 });
          await c.login({ username, password });
        }, s.endpoint, USER.username, PASSWORD);
        const before = await s.log();
        assert.equal(before.issued.length, 1);
        const { iat, exp } = before.issued[0];
        assert.equal(exp - iat, SHORT_TTL_SECONDS, 'the server honours TOKEN_TTL_SECONDS');
        // iat is whole seconds, so the client's estimate of the server's
        // clock may run up to a second behind: wait past exp + 1 s.
        await sleepUntil(secToMs(exp) + 1300);

        const r = await t.run(async () => {
          const u = await import('/e2e-util.js');
          const c = u.client('c');
          const authenticated = c.isAuthenticated();
          const res = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
          return { authenticated, res, state: u.state('c') };
        });
        assert.equal(r.authenticated, false);
        assert.equal(r.res.ok, false);
        assert.equal(r.res.error.code, 'TOKEN_EXPIRED');
        assert.equal(r.state.events.map((e) => e.reason).at(-1), 'expired');
        const afterLog = await s.log();
        assert.equal(afterLog.graphqlRequests, 1, 'nothing was sent after the login');
      });
    });
  }
});
