// Failures an app must be able to tell apart: AuthError codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BROWSER, PASSWORD, USER, pageHooks, secToMs, sleepUntil, startServer,
} from './harness.mjs';

const TTL_SECONDS = 3;

describe(`AuthError codes [${BROWSER}]`, { timeout: 60000 }, () => {
  let api;
  let short;
  let noexpose;
  let t;

  pageHooks({ api: {}, short: { ttl: `${TTL_SECONDS}s` }, noexpose: { exposeTokenHeaders: false } }, {
    onSuite(s) { ({ api, short, noexpose } = s.api); },
    onPage(p) { t = p; },
  });

  it('rejects with TOKEN_EXPIRED once the token is past exp, without sending, and emits expired', async () => {
    await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, expiryLeewaySeconds: 0 });
      await c.login({ username, password });
    }, short.endpoint, USER.username, PASSWORD);
    const before = await short.tokens();
    assert.equal(before.issued.length, 1);
    const exp = secToMs(before.issued[0].exp);
    assert.ok(exp - Date.now() <= TTL_SECONDS * 1000 + 500, 'the server honours -token-ttl');
    await sleepUntil(exp + 300);

    const r = await t.run(async () => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      const stateBefore = { isAuthenticated: c.isAuthenticated(), expiresIn: c.tokenExpiresIn() };
      const res = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      await u.sleep(50);
      return { stateBefore, res, state: u.state('c') };
    });
    assert.deepEqual(r.stateBefore, { isAuthenticated: false, expiresIn: 0 });
    assert.equal(r.res.ok, false);
    assert.equal(r.res.error.name, 'AuthError');
    assert.equal(r.res.error.code, 'TOKEN_EXPIRED');
    assert.equal(r.state.isAuthenticated, false);
    assert.equal(r.state.expiresIn, 0);
    const reasons = r.state.events.map((e) => e.reason);
    assert.equal(reasons[0], 'login');
    assert.equal(reasons.filter((x) => x === 'expired').length, 1, `one expired event, got ${reasons}`);
    assert.equal(reasons.at(-1), 'expired');
    const afterTok = await short.tokens();
    assert.equal(afterTok.graphqlRequests, before.graphqlRequests, 'no request was sent');
  });

  it('stops using the token expiryLeewaySeconds early but still reports the server exp', async () => {
    const leeway = 2;
    const r1 = await t.run(async (endpoint, username, password, leeway) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, expiryLeewaySeconds: leeway });
      await c.login({ username, password });
      return u.state('c');
    }, short.endpoint, USER.username, PASSWORD, leeway);
    const tok = await short.tokens();
    const exp = secToMs(tok.issued[0].exp);
    assert.ok(Math.abs(r1.expiresAt - exp) <= 1, 'tokenExpiresAt is exp, not exp - leeway');
    assert.equal(r1.isAuthenticated, true);

    await sleepUntil(exp - leeway * 1000 + 300);
    const r2 = await t.run(async () => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      const res = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      return { res, state: u.state('c') };
    });
    assert.ok(r2.state.now < exp, 'the check ran before the real expiry (machine too slow?)');
    assert.equal(r2.res.ok, false);
    assert.equal(r2.res.error.code, 'TOKEN_EXPIRED');
    assert.equal(r2.state.isAuthenticated, false);
    assert.equal((await short.tokens()).graphqlRequests, 1, 'only the login reached the server');
  });

  it('rejects with UNAUTHORIZED and the server errors when the server refuses the token, and drops it', async () => {
    const query = 'query Who {\n    me { id }\n}';
    await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      await c.fetchWithAuth('{ me { id } }');
    }, api.endpoint, USER.username, PASSWORD);
    // A restarted server signs with a new key: the token the client holds is now refused.
    await api.restart();

    const r = await t.run(async (query) => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      const res = await u.attempt(() => c.fetchWithAuth(query));
      await u.sleep(50);
      const state = u.state('c');
      const next = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      return { res, state, next };
    }, query);

    assert.equal(r.res.ok, false);
    const e = r.res.error;
    assert.equal(e.name, 'AuthError');
    assert.equal(e.code, 'UNAUTHORIZED');
    assert.equal(e.isAuthErrorInstance, true);
    assert.deepEqual(e.graphQLErrors, [
      { message: 'Unauthorized', locations: [{ line: 2, column: 5 }], customer_facing: false },
    ]);
    assert.equal(r.state.isAuthenticated, false);
    assert.equal(r.state.expiresAt, null);
    assert.deepEqual(r.state.events.map((x) => x.reason), ['login', 'rotate', 'unauthorized']);
    assert.equal(r.state.events[2].expiresAt, null);
    assert.equal(r.next.ok, false);
    assert.equal(r.next.error.code, 'NOT_AUTHENTICATED', 'the refused token is not sent again');
    assert.equal((await api.tokens()).graphqlRequests, 1, 'one request: the refused one');
  });

  it('rejects login with TOKEN_HEADER_MISSING naming Access-Control-Expose-Headers when the header is not exposed', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      const res = await u.attempt(() => c.login({ username, password }));
      return { res, state: u.state('c') };
    }, noexpose.endpoint, USER.username, PASSWORD);
    assert.equal(r.res.ok, false);
    assert.equal(r.res.error.name, 'AuthError');
    assert.equal(r.res.error.code, 'TOKEN_HEADER_MISSING');
    assert.match(r.res.error.message, /Access-Control-Expose-Headers/);
    assert.equal(r.state.isAuthenticated, false);
    const tok = await noexpose.tokens();
    assert.equal(tok.issued.length, 1, 'the server did log the user in');
  });

  it('refuses plain http to a non-loopback host with INSECURE_ENDPOINT and sends nothing', async () => {
    const r = await t.run(async (username, password) => {
      const u = await import('/e2e-util.js');
      const insecure = await u.attempt(async () => {
        const c = await u.gqlauth.createClient({ endpoint: 'http://example.com/graphql' });
        return c.login({ username, password });
      });
      const optIn = await u.attempt(async () => {
        const c = await u.gqlauth.createClient({ endpoint: 'http://example.com/graphql', allowInsecureHTTP: true });
        return c.isAuthenticated();
      });
      const https = await u.attempt(async () => {
        const c = await u.gqlauth.createClient({ endpoint: 'https://example.com/graphql' });
        return c.isAuthenticated();
      });
      return { insecure, optIn, https };
    }, USER.username, PASSWORD);
    assert.equal(r.insecure.ok, false);
    assert.equal(r.insecure.error.name, 'AuthError');
    assert.equal(r.insecure.error.code, 'INSECURE_ENDPOINT');
    assert.deepEqual(r.optIn, { ok: true, value: false }, 'allowInsecureHTTP lets the client be created');
    assert.deepEqual(r.https, { ok: true, value: false }, 'https endpoints are accepted');
    assert.deepEqual(t.requests.filter((q) => q.url.includes('example.com')), [], 'no request to example.com');
  });

  it('rejects bad arguments with INVALID_ARGUMENT, sends nothing, and keeps working', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const { createClient } = u.gqlauth;
      const out = {};
      out['createClient()'] = await u.attempt(() => createClient());
      out['createClient({})'] = await u.attempt(() => createClient({}));
      out['endpoint not a URL'] = await u.attempt(() => createClient({ endpoint: 'not a url' }));
      out['negative leeway'] = await u.attempt(() => createClient({ endpoint, expiryLeewaySeconds: -5 }));
      out['timeoutMs not a number'] = await u.attempt(() => createClient({ endpoint, timeoutMs: 'soon' }));
      out['header value with CRLF'] = await u.attempt(
        () => createClient({ endpoint, headers: { 'X-Test': 'a\r\nX-Injected: 1' } }));
      const c = await u.newClient('c', { endpoint });
      out['login()'] = await u.attempt(() => c.login());
      out['login without password'] = await u.attempt(() => c.login({ username }));
      out['login without username or email'] = await u.attempt(() => c.login({ password }));
      await c.login({ username, password });
      out['query not a string'] = await u.attempt(() => c.fetchWithAuth(42));
      out['variables not an object'] = await u.attempt(() => c.fetchWithAuth('{ me { id } }', 'x'));
      out['onTokenChange(non-function)'] = await u.attempt(() => c.onTokenChange('nope'));
      const still = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      return { out, still, state: u.state('c') };
    }, api.endpoint, USER.username, PASSWORD);

    for (const [call, res] of Object.entries(r.out)) {
      assert.equal(res.ok, false, `${call} must fail`);
      assert.equal(res.error.name, 'AuthError', `${call}: ${JSON.stringify(res.error)}`);
      assert.equal(res.error.code, 'INVALID_ARGUMENT', `${call}: ${JSON.stringify(res.error)}`);
    }
    assert.equal(r.still.ok, true, 'the module still works');
    assert.deepEqual(r.still.value.data, { me: { id: USER.id } });
    assert.equal(r.state.isAuthenticated, true);
    assert.equal((await api.tokens()).graphqlRequests, 2, 'only the good login and the good query were sent');
  });

  it('rejects with TIMEOUT when the server answers after timeoutMs', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const slow = new URL(endpoint);
      slow.searchParams.set('delay', '2000');
      const c = await u.newClient('c', { endpoint: slow.href, timeoutMs: 300 });
      const started = Date.now();
      const res = await u.attempt(() => c.login({ username, password }));
      return { res, took: Date.now() - started, state: u.state('c') };
    }, api.endpoint, USER.username, PASSWORD);
    assert.equal(r.res.ok, false);
    assert.equal(r.res.error.code, 'TIMEOUT');
    assert.ok(r.took < 1800, `gave up after ${r.took} ms`);
    assert.equal(r.state.isAuthenticated, false);
  });

  it('rejects with ABORTED when the caller aborts, and the session survives', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      const slowClient = await u.newClient('slow', {
        endpoint: endpoint + (endpoint.includes('?') ? '&' : '?') + 'delay=1500',
      });
      await slowClient.login({ username, password });
      const ac = new AbortController();
      const started = Date.now();
      const p = u.attempt(() => slowClient.fetchWithAuth('{ me { id } }', undefined, { signal: ac.signal }));
      setTimeout(() => ac.abort(), 100);
      const res = await p;
      const took = Date.now() - started;
      const pre = new AbortController();
      pre.abort();
      const preAborted = await u.attempt(() => c.fetchWithAuth('{ me { id } }', undefined, { signal: pre.signal }));
      const after = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      return { res, took, preAborted, after, state: u.state('c') };
    }, api.endpoint, USER.username, PASSWORD);
    assert.equal(r.res.ok, false);
    assert.equal(r.res.error.code, 'ABORTED');
    assert.ok(r.took < 1200, `settled ${r.took} ms after the call`);
    assert.equal(r.preAborted.ok, false);
    assert.equal(r.preAborted.error.code, 'ABORTED');
    assert.equal(r.after.ok, true);
    assert.deepEqual(r.after.value.data, { me: { id: USER.id } });
    assert.equal(r.state.isAuthenticated, true);
  });

  it('rejects broken answers: HTTP_ERROR with the status, BAD_RESPONSE, TOKEN_MALFORMED', async () => {
    const cases = {
      '500html': { code: 'HTTP_ERROR', status: 500 },
      '502json': { code: 'HTTP_ERROR', status: 502 },
      nonjson: { code: 'BAD_RESPONSE' },
      truncated: { code: 'BAD_RESPONSE' },
      empty: { code: 'BAD_RESPONSE' },
      badtoken: { code: 'TOKEN_MALFORMED' },
    };
    const endpoints = Object.fromEntries(Object.keys(cases).map((f) => [f, api.endpointWith({ fault: f })]));
    const r = await t.run(async (endpoints, username, password) => {
      const u = await import('/e2e-util.js');
      const out = {};
      for (const [fault, endpoint] of Object.entries(endpoints)) {
        const c = await u.newClient(fault, { endpoint });
        out[fault] = { res: await u.attempt(() => c.login({ username, password })), auth: c.isAuthenticated() };
      }
      return out;
    }, endpoints, USER.username, PASSWORD);
    for (const [fault, want] of Object.entries(cases)) {
      const { res, auth } = r[fault];
      assert.equal(res.ok, false, `${fault}: login must fail`);
      assert.equal(res.error.name, 'AuthError', fault);
      assert.equal(res.error.code, want.code, `${fault}: ${JSON.stringify(res.error)}`);
      if (want.status) assert.equal(res.error.status, want.status, `${fault}: status`);
      assert.equal(auth, false, `${fault}: not logged in`);
    }
  });

  it('rejects with NETWORK_ERROR when the server is unreachable or refuses the origin', async () => {
    const gone = await startServer({});
    const goneEndpoint = gone.endpoint;
    await gone.stop();
    const stranger = await startServer({ origins: ['http://not-this-page.test'] });
    try {
      const r = await t.run(async (a, b, username, password) => {
        const u = await import('/e2e-util.js');
        const out = {};
        for (const [name, endpoint] of [['closed port', a], ['origin not allowed', b]]) {
          const c = await u.gqlauth.createClient({ endpoint });
          out[name] = await u.attempt(() => c.login({ username, password }));
        }
        return out;
      }, goneEndpoint, stranger.endpoint, USER.username, PASSWORD);
      for (const [name, res] of Object.entries(r)) {
        assert.equal(res.ok, false, name);
        assert.equal(res.error.name, 'AuthError', name);
        assert.equal(res.error.code, 'NETWORK_ERROR', `${name}: ${JSON.stringify(res.error)}`);
      }
    } finally {
      await stranger.stop();
    }
  });
  it('a field error "Unauthorized" that comes with data is an ordinary GraphQL error: it resolves and the session goes on', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      const res = await u.attempt(() => c.fetchWithAuth('{ me { id } restricted }'));
      const next = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      return { res, next, state: u.state('c') };
    }, api.endpoint, USER.username, PASSWORD);
    assert.equal(r.res.ok, true, JSON.stringify(r.res));
    assert.deepEqual(r.res.value.data, { me: { id: USER.id }, restricted: null });
    assert.equal(r.res.value.errors[0].message, 'Unauthorized');
    assert.deepEqual(r.res.value.errors[0].path, ['restricted']);
    assert.equal(r.state.isAuthenticated, true, 'the session goes on');
    assert.equal(r.next.ok, true);
    assert.deepEqual(r.state.events.map((e) => e.reason), ['login', 'rotate', 'rotate']);
  });

  it('a mutation is sent once: a field "Unauthorized" in an answer that brings a new token is a permission error that resolves, with data or with data null, the session goes on, and neither is replayed', async () => {
    const count = `{ items(first: 0) { totalCount } }`;
    const r = await t.run(async (endpoint, username, password, count) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      const total = async () => (await c.fetchWithAuth(count)).data.items.totalCount;
      const out = { before: await total() };
      out.partial = await u.attempt(() => c.fetchWithAuth('mutation Partial { addItem(name: "once") { id } forbidden }'));
      out.afterPartial = await total();
      out.strict = await u.attempt(() => c.fetchWithAuth('mutation Strict { addItem(name: "strict") { id } forbiddenStrict }'));
      out.authenticated = c.isAuthenticated();
      out.afterStrict = await total();
      return { out, state: u.state('c') };
    }, api.endpoint, USER.username, PASSWORD, count);
    const o = r.out;
    assert.equal(o.partial.ok, true, JSON.stringify(o.partial));
    assert.ok(o.partial.value.data.addItem.id, 'the item was added');
    assert.equal(o.partial.value.errors[0].message, 'Unauthorized');
    assert.equal(o.afterPartial, o.before + 1, 'the partial mutation ran once');
    assert.equal(o.strict.ok, true, JSON.stringify(o.strict));
    assert.equal(o.strict.value.data, null, 'a non-null field failed: no data at all');
    assert.equal(o.strict.value.errors[0].message, 'Unauthorized');
    assert.deepEqual(o.strict.value.errors[0].path, ['forbiddenStrict']);
    assert.equal(o.authenticated, true, 'the answer brought a new token: the session goes on');
    assert.equal(o.afterStrict, o.before + 2, 'the strict mutation ran once, not twice');
    const log = await api.tokens();
    assert.equal(log.received.filter((x) => x.op === 'Strict').length, 1, 'the strict mutation was sent once');
    assert.deepEqual(r.state.events.map((e) => e.reason), ['login', 'rotate', 'rotate', 'rotate', 'rotate', 'rotate']);
  });

  it('a header value outside Latin-1 is INVALID_ARGUMENT at createClient, naming the header', async () => {
    const r = await t.run(async (endpoint) => {
      const u = await import('/e2e-util.js');
      return {
        wide: await u.attempt(() => u.gqlauth.createClient({ endpoint, headers: { 'X-Client-Name': 'Zoë ✓' } })),
        latin1: await u.attempt(async () => (await u.gqlauth.createClient({ endpoint, headers: { 'X-Client-Name': 'Zoë' } })).isAuthenticated()),
      };
    }, api.endpoint);
    assert.equal(r.wide.error?.code, 'INVALID_ARGUMENT', JSON.stringify(r.wide));
    assert.match(r.wide.error.message, /X-Client-Name/);
    assert.match(r.wide.error.message, /Latin-1/);
    assert.deepEqual(r.latin1, { ok: true, value: false });
  });
});
