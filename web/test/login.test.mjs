// Logging in and sending protected queries, as an app sees it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSER, PASSWORD, USER, pageHooks, secToMs, sleep } from './harness.mjs';

describe(`login and protected queries [${BROWSER}]`, { timeout: 60000 }, () => {
  let api;
  let t;
  pageHooks({ api: {} }, {
    onSuite(s) { api = s.api.api; },
    onPage(p) { t = p; },
  });

  for (const by of ['username', 'email']) {
    it(`logs in by ${by} and reports the user and the server's expiry`, async () => {
      const credentials = { [by]: USER[by], password: PASSWORD };
      const r = await t.run(async (endpoint, credentials) => {
        const u = await import('/e2e-util.js');
        const c = await u.newClient('c', { endpoint });
        const before = u.state('c');
        const res = await c.login(credentials);
        return {
          before,
          user: res.user,
          expiresAtIsDate: res.expiresAt instanceof Date,
          expiresAt: u.ms(res.expiresAt),
          after: u.state('c'),
        };
      }, api.endpoint, credentials);

      assert.equal(r.before.isAuthenticated, false);
      assert.equal(r.before.expiresAt, null);
      assert.equal(r.before.expiresIn, 0);

      // loginUser's selection is { id }: the user is data.loginUser, exactly.
      assert.deepEqual(r.user, { id: USER.id });

      const tok = await api.tokens();
      assert.equal(tok.issued.length, 1, 'one token issued by login');
      assert.equal(tok.graphqlRequests, 1, 'login is one GraphQL request');
      const exp = secToMs(tok.issued[0].exp);
      assert.equal(r.expiresAtIsDate, true, 'expiresAt is a Date');
      assert.ok(Math.abs(r.expiresAt - exp) <= 1, `login expiresAt ${r.expiresAt} != server exp ${exp}`);

      assert.equal(r.after.isAuthenticated, true);
      assert.ok(Math.abs(r.after.expiresAt - exp) <= 1, `tokenExpiresAt ${r.after.expiresAt} != exp ${exp}`);
      const left = exp - r.after.now;
      assert.ok(Math.abs(r.after.expiresIn - left) <= 2000,
        `tokenExpiresIn ${r.after.expiresIn} ms, expected about ${left} ms`);
      assert.deepEqual(r.after.events.map((e) => e.reason), ['login']);
      assert.ok(Math.abs(r.after.events[0].expiresAt - exp) <= 1, 'login event carries the expiry');
    });
  }

  it('rejects a wrong password with LOGIN_FAILED and the server errors, staying logged out', async () => {
    const r = await t.run(async (endpoint, username) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      const res = await u.attempt(() => c.login({ username, password: 'not-the-password' }));
      await u.sleep(50);
      return { res, state: u.state('c') };
    }, api.endpoint, USER.username);

    assert.equal(r.res.ok, false);
    const e = r.res.error;
    assert.equal(e.name, 'AuthError');
    assert.equal(e.code, 'LOGIN_FAILED');
    assert.equal(e.isAuthErrorInstance, true, 'instanceof AuthError');
    assert.equal(e.isAuthErrorFn, true, 'isAuthError()');
    assert.equal(e.isError, true, 'instanceof Error');
    assert.ok(Array.isArray(e.graphQLErrors) && e.graphQLErrors.length > 0, 'graphQLErrors from the server');
    assert.equal(typeof e.graphQLErrors[0].message, 'string');
    assert.equal(r.state.isAuthenticated, false);
    assert.deepEqual(r.state.events, []);
    const tok = await api.tokens();
    assert.equal(tok.issued.length, 0);
    assert.equal(tok.graphqlRequests, 1);
  });

  it('refuses a protected query before login with NOT_AUTHENTICATED and sends nothing', async () => {
    const r = await t.run(async (endpoint) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      return u.attempt(() => c.fetchWithAuth('{ me { id } }'));
    }, api.endpoint);
    assert.equal(r.ok, false);
    assert.equal(r.error.name, 'AuthError');
    assert.equal(r.error.code, 'NOT_AUTHENTICATED');
    const tok = await api.tokens();
    assert.equal(tok.graphqlRequests, 0, 'no GraphQL request reached the server');
    assert.deepEqual(t.requestsTo(api.base).filter((q) => q.method === 'POST'), [], 'the browser sent no POST');
  });

  it('returns protected data for me, with variables, operationName and a mutation', async () => {
    const name = `e2e-${Date.now()}`;
    const r = await t.run(async (endpoint, username, password, name) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      const me = await c.fetchWithAuth('{ me { id username email } }');
      const itemsQ = 'query Items($first: Int) { items(first: $first) { nodes { id name } pageInfo { endCursor hasNextPage } totalCount } }';
      const items1 = await c.fetchWithAuth(itemsQ, { first: 1 });
      const added = await c.fetchWithAuth(
        'mutation Add($name: String!) { addItem(name: $name) { id name } }', { name });
      // Page through every item with the cursor to find the new one.
      const pagedQ = 'query Page($first: Int, $after: String) { items(first: $first, after: $after) { nodes { id name } pageInfo { endCursor hasNextPage } totalCount } }';
      const all = [];
      let after = null;
      let total = null;
      for (let page = 0; page < 50; page++) {
        const res = await c.fetchWithAuth(pagedQ, { first: 20, after });
        const conn = res.data.items;
        all.push(...conn.nodes);
        total = conn.totalCount;
        if (!conn.pageInfo.hasNextPage) break;
        after = conn.pageInfo.endCursor;
      }
      const items2 = { total, all };
      const op = await c.fetchWithAuth(
        'query A { me { id } } query B { me { username } }', undefined, { operationName: 'B' });
      return { me, items1, added, items2, op };
    }, api.endpoint, USER.username, PASSWORD, name);

    assert.deepEqual(r.me.data, { me: USER });
    assert.equal(r.me.errors, undefined);

    const c1 = r.items1.data.items;
    assert.ok(c1.nodes.length <= 1, 'first: 1 returns at most one node');
    assert.equal(typeof c1.totalCount, 'number');
    assert.equal(r.added.errors, undefined);
    assert.equal(r.added.data.addItem.name, name);
    assert.equal(r.items2.total, c1.totalCount + 1, 'the mutation added one item');
    assert.equal(r.items2.all.length, r.items2.total, 'paging with after: reaches every item once');
    assert.equal(new Set(r.items2.all.map((n) => n.id)).size, r.items2.total, 'no item twice');
    assert.ok(r.items2.all.some((n) => n.name === name && n.id === r.added.data.addItem.id), 'the new item is listed');

    assert.deepEqual(r.op.data, { me: { username: USER.username } }, 'operation B was run');
  });

  it('resolves ordinary GraphQL errors as data and stays logged in', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      const bad = await u.attempt(() => c.fetchWithAuth('{ me { id noSuchField } }'));
      const good = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      return { bad, good, state: u.state('c') };
    }, api.endpoint, USER.username, PASSWORD);
    assert.equal(r.bad.ok, true, `a validation error must not reject: ${JSON.stringify(r.bad.error)}`);
    assert.ok(Array.isArray(r.bad.value.errors) && r.bad.value.errors.length > 0);
    assert.match(r.bad.value.errors[0].message, /noSuchField/);
    assert.equal(r.state.isAuthenticated, true);
    assert.equal(r.good.ok, true);
    assert.deepEqual(r.good.value.data, { me: { id: USER.id } });
  });

  it('returns a large response intact', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      const res = await c.fetchWithAuth('query($n: Int!) { blob(bytes: $n) }', { n: 1 << 20 });
      return { length: res.data.blob.length, errors: res.errors };
    }, api.endpoint, USER.username, PASSWORD);
    assert.equal(r.errors, undefined);
    assert.equal(r.length, 1 << 20);
  });

  it('counts tokenExpiresIn down and keeps tokenExpiresAt at the server exp, whatever the leeway', async () => {
    const first = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, expiryLeewaySeconds: 120 });
      await c.login({ username, password });
      return u.state('c');
    }, api.endpoint, USER.username, PASSWORD);
    await sleep(1100);
    const second = await t.run(async () => (await import('/e2e-util.js')).state('c'));

    const exp = secToMs((await api.tokens()).issued[0].exp);
    for (const s of [first, second]) {
      assert.ok(Math.abs(s.expiresAt - exp) <= 1, `tokenExpiresAt ${s.expiresAt} != exp ${exp}`);
      assert.ok(Math.abs(s.expiresIn - (exp - s.now)) <= 2000, `tokenExpiresIn ${s.expiresIn}, exp - now ${exp - s.now}`);
      assert.equal(s.isAuthenticated, true);
    }
    const dropped = first.expiresIn - second.expiresIn;
    const elapsed = second.now - first.now;
    assert.ok(Math.abs(dropped - elapsed) <= 500, `expiresIn fell by ${dropped} ms in ${elapsed} ms`);
  });
});
