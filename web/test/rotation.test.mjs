// Token rotation, token events and logout.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSER, PASSWORD, USER, pageHooks, secToMs } from './harness.mjs';

describe(`rotation, events and logout [${BROWSER}]`, { timeout: 60000 }, () => {
  let api;
  let t;
  pageHooks({ api: {} }, {
    onSuite(s) { api = s.api.api; },
    onPage(p) { t = p; },
  });

  it('sends, on each request, the token that the previous response issued', async () => {
    const rounds = 4;
    const r = await t.run(async (endpoint, username, password, rounds) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      const seen = [];
      for (let i = 0; i < rounds; i++) {
        const res = await c.fetchWithAuth('{ session { jti subject issuedAt expiresAt } }');
        seen.push({ session: res.data.session, expiresAt: u.ms(c.tokenExpiresAt()) });
      }
      return seen;
    }, api.endpoint, USER.username, PASSWORD, rounds);

    const tok = await api.tokens();
    assert.equal(tok.issued.length, rounds + 1, 'login plus one fresh token per response');
    const jtis = tok.issued.map((x) => x.jti);
    assert.equal(new Set(jtis).size, jtis.length, 'every issued token is new');
    for (let i = 0; i < rounds; i++) {
      const { session, expiresAt } = r[i];
      assert.equal(session.jti, tok.issued[i].jti, `request ${i + 1} carried the token issued by response ${i}`);
      assert.equal(String(session.subject), USER.id);
      assert.ok(Math.abs(session.expiresAt - tok.issued[i].exp) < 0.002, 'session describes the carried token');
      assert.ok(Math.abs(expiresAt - secToMs(tok.issued[i + 1].exp)) <= 1,
        `after response ${i + 1} tokenExpiresAt is the newest token's exp`);
    }
    assert.deepEqual(tok.received.map((x) => x.jti).filter(Boolean), jtis.slice(0, rounds),
      'the server received exactly the chain of rotated tokens, in order');
  });

  it('emits login, rotate and logout events asynchronously, and unsubscribe stops delivery', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      const second = [];
      const unsubscribe = c.onTokenChange((e) => second.push(e.reason));
      const syncCounts = [];
      const count = () => u.events.get('c').length;

      await c.login({ username, password });
      await u.sleep(50);
      const afterLogin = count();
      unsubscribe();
      unsubscribe(); // a second call is harmless

      await c.fetchWithAuth('{ me { id } }');
      await u.sleep(50);
      const afterRotate = u.ms(c.tokenExpiresAt());

      const n = count();
      c.logout();
      syncCounts.push(count() - n);
      const stateRightAfterLogout = { auth: c.isAuthenticated(), at: c.tokenExpiresAt(), in: c.tokenExpiresIn() };
      await u.sleep(50);
      return {
        afterLogin,
        afterRotate,
        syncCounts,
        stateRightAfterLogout,
        typeofUnsubscribe: typeof unsubscribe,
        second,
        state: u.state('c'),
      };
    }, api.endpoint, USER.username, PASSWORD);

    assert.equal(r.typeofUnsubscribe, 'function');
    const ev = r.state.events;
    assert.deepEqual(ev.map((e) => e.reason), ['login', 'rotate', 'logout']);
    assert.equal(r.afterLogin, 1, 'the login event arrives without further calls');
    assert.deepEqual(r.syncCounts, [0], 'the logout event is delivered after logout() returns, not inside it');
    assert.deepEqual(r.second, ['login'], 'an unsubscribed listener hears nothing more');

    const tok = await api.tokens();
    assert.ok(Math.abs(ev[0].expiresAt - secToMs(tok.issued[0].exp)) <= 1, 'login event: exp of the login token');
    assert.ok(Math.abs(ev[1].expiresAt - secToMs(tok.issued[1].exp)) <= 1, 'rotate event: exp of the rotated token');
    assert.ok(Math.abs(r.afterRotate - secToMs(tok.issued[1].exp)) <= 1);
    assert.equal(ev[2].expiresAt, null, 'logout event: no expiry');
    assert.ok(ev.every((e) => e.expiresAtIsDateOrNull), 'expiresAt is a Date or null');

    assert.deepEqual(r.stateRightAfterLogout, { auth: false, at: null, in: 0 }, 'logout takes effect at once');
  });

  it('close() still delivers its logout event, and an already-aborted login overtakes nothing', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      const heard = [];
      c.onTokenChange((e) => heard.push(e.reason));
      // A login in flight, then one whose signal is already aborted: the
      // second must fail at once without overtaking the first.
      const first = u.attempt(() => c.login({ username, password }));
      const ac = new AbortController();
      ac.abort();
      const second = await u.attempt(() => c.login({ username, password }, { signal: ac.signal }));
      const firstResult = await first;
      const authenticated = c.isAuthenticated();
      c.close();
      await u.sleep(50);
      return { second, firstOk: firstResult.ok, authenticated, heard };
    }, api.endpoint, USER.username, PASSWORD);
    assert.equal(r.second.error?.code, 'ABORTED', JSON.stringify(r.second));
    assert.equal(r.firstOk, true, 'the login in flight was not overtaken');
    assert.equal(r.authenticated, true);
    assert.deepEqual(r.heard, ['login', 'logout'], 'close() delivered its logout event');
    assert.equal((await api.tokens()).graphqlRequests, 1, 'the aborted login sent nothing');
  });

  it('logs out: no token, the next query is NOT_AUTHENTICATED and sends nothing, and login works again', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      await c.fetchWithAuth('{ me { id } }');
      c.logout();
      const afterLogout = u.state('c');
      const refused = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      return { afterLogout, refused };
    }, api.endpoint, USER.username, PASSWORD);

    assert.equal(r.afterLogout.isAuthenticated, false);
    assert.equal(r.afterLogout.expiresAt, null);
    assert.equal(r.afterLogout.expiresIn, 0);
    assert.equal(r.refused.ok, false);
    assert.equal(r.refused.error.code, 'NOT_AUTHENTICATED');
    const tok = await api.tokens();
    assert.equal(tok.graphqlRequests, 2, 'login and one query; nothing after logout');

    const again = await t.run(async (username, password) => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      await c.login({ username, password });
      const me = await c.fetchWithAuth('{ me { username } }');
      return { me: me.data, state: u.state('c') };
    }, USER.username, PASSWORD);
    assert.deepEqual(again.me, { me: { username: USER.username } });
    assert.equal(again.state.isAuthenticated, true);
  });

  it('does not let a response to a request sent before logout log the client back in', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const slow = new URL(endpoint);
      slow.searchParams.set('delay', '400');
      const c = await u.newClient('c', { endpoint: slow.href });
      await c.login({ username, password });
      const inflight = u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      await u.sleep(100);
      c.logout();
      const settled = await inflight;
      await u.sleep(50);
      return { settled, state: u.state('c') };
    }, api.endpoint, USER.username, PASSWORD);

    // The module may let the request finish (the server then sends a fresh
    // token) or abort it; either way that token must not be installed.
    const tok = await api.tokens();
    assert.ok([1, 2].includes(tok.issued.length), `issued ${tok.issued.length}`);
    assert.equal(r.state.isAuthenticated, false, 'still logged out');
    assert.equal(r.state.expiresAt, null);
    assert.deepEqual(r.state.events.map((e) => e.reason), ['login', 'logout']);
  });
});
