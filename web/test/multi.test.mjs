// Several clients, for different endpoints, in one page share the module
// but not their sessions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSER, PASSWORD, USER, pageHooks, secToMs } from './harness.mjs';

describe(`two clients in one page [${BROWSER}]`, { timeout: 60000 }, () => {
  let a;
  let b;
  let t;

  pageHooks({ a: {}, b: { ttl: '30m' } }, {
    onSuite(s) { ({ a, b } = s.api); },
    onPage(p) { t = p; },
  });

  it('keeps independent sessions, rotation chains, expiries and events per endpoint', async () => {
    const r = await t.run(async (ea, eb, username, email, password) => {
      const u = await import('/e2e-util.js');
      const ca = await u.newClient('a', { endpoint: ea });
      const cb = await u.newClient('b', { endpoint: eb });
      const out = {};
      await ca.login({ username, password });
      out.bBeforeLogin = u.state('b');
      out.bRefused = await u.attempt(() => cb.fetchWithAuth('{ me { id } }'));
      await cb.login({ email, password });
      // Interleave the two clients' requests.
      out.sessions = [];
      for (let i = 0; i < 3; i++) {
        const [ra, rb] = await Promise.all([
          ca.fetchWithAuth('{ session { jti } }'),
          cb.fetchWithAuth('{ session { jti } }'),
        ]);
        out.sessions.push([ra.data.session.jti, rb.data.session.jti]);
      }
      out.aBeforeLogout = u.state('a');
      out.bBeforeLogout = u.state('b');
      ca.logout();
      await u.sleep(50);
      out.aAfterLogout = u.state('a');
      out.bAfterLogout = u.state('b');
      out.aRefused = await u.attempt(() => ca.fetchWithAuth('{ me { id } }'));
      out.bStill = await u.attempt(() => cb.fetchWithAuth('{ me { email } }'));
      return out;
    }, a.endpoint, b.endpoint, USER.username, USER.email, PASSWORD);

    assert.equal(r.bBeforeLogin.isAuthenticated, false, 'logging in to A does not log in B');
    assert.equal(r.bRefused.error?.code, 'NOT_AUTHENTICATED');

    const ta = await a.tokens();
    const tb = await b.tokens();
    const aj = ta.issued.map((x) => x.jti);
    const bj = tb.issued.map((x) => x.jti);
    assert.equal(aj.length, 4);
    assert.equal(bj.length, 5, 'login, three queries and the final query after A logged out');
    for (let i = 0; i < 3; i++) {
      assert.equal(r.sessions[i][0], aj[i], `A request ${i + 1} carried A's token ${i}`);
      assert.equal(r.sessions[i][1], bj[i], `B request ${i + 1} carried B's token ${i}`);
    }
    const recvA = ta.received.map((x) => x.jti).filter(Boolean);
    const recvB = tb.received.map((x) => x.jti).filter(Boolean);
    assert.ok(recvA.every((j) => aj.includes(j)), 'A never received a token of B');
    assert.ok(recvB.every((j) => bj.includes(j)), 'B never received a token of A');

    assert.ok(Math.abs(r.aBeforeLogout.expiresAt - secToMs(ta.issued.at(-1).exp)) <= 1);
    assert.ok(Math.abs(r.bBeforeLogout.expiresAt - secToMs(tb.issued[3].exp)) <= 1);
    assert.ok(r.aBeforeLogout.expiresAt - r.bBeforeLogout.expiresAt > 20 * 60 * 1000,
      'each client reports its own server\'s expiry (60m vs 30m)');

    assert.equal(r.aAfterLogout.isAuthenticated, false);
    assert.equal(r.bAfterLogout.isAuthenticated, true, 'logging out of A leaves B logged in');
    assert.equal(r.aRefused.error?.code, 'NOT_AUTHENTICATED');
    assert.equal(r.bStill.ok, true);
    assert.deepEqual(r.bStill.value.data, { me: { email: USER.email } });

    assert.deepEqual(r.aAfterLogout.events.map((e) => e.reason), ['login', 'rotate', 'rotate', 'rotate', 'logout']);
    assert.deepEqual(r.bAfterLogout.events.map((e) => e.reason), ['login', 'rotate', 'rotate', 'rotate']);
  });

  it('closing one client ends its request under way and leaves the other working', async () => {
    await t.run(async (ea, eb, username, password) => {
      const u = await import('/e2e-util.js');
      const ca = await u.newClient('a', { endpoint: ea });
      const cb = await u.newClient('b', { endpoint: eb });
      await ca.login({ username, password });
      await cb.login({ username, password });
      u.pending.set('held', u.attempt(() => ca.fetchWithAuth('query Held { me { id } }', { __hook: { hold: 1 } })));
    }, a.endpoint, b.endpoint, USER.username, PASSWORD);
    await a.waitForLog((l) => l.held.length === 1, 'the held request');
    const r = await t.run(async (ea, username, password) => {
      const u = await import('/e2e-util.js');
      const [ca, cb] = [u.client('a'), u.client('b')];
      const sharing = ca.sharing;
      ca.close();
      const underWay = await u.pending.get('held');
      const aAfterClose = await u.attempt(() => ca.fetchWithAuth('{ me { id } }'));
      const bStill = await u.attempt(() => cb.fetchWithAuth('{ me { id } }'));
      const c3 = await u.newClient('c', { endpoint: ea });
      await c3.login({ username, password });
      const fresh = await u.attempt(() => c3.fetchWithAuth('{ me { id } }'));
      return { sharing, underWay, aAfterClose, bStill, fresh };
    }, a.endpoint, USER.username, PASSWORD);
    await a.release();
    assert.equal(r.sharing, 'none');
    assert.equal(r.underWay.error?.code, 'NOT_AUTHENTICATED', `the request under way: ${JSON.stringify(r.underWay)}`);
    assert.match(r.underWay.error.message, /close\(\) ended the request/);
    assert.equal(r.aAfterClose.ok, false, 'a closed client sends nothing');
    assert.equal(r.aAfterClose.error.code, 'NOT_AUTHENTICATED');
    assert.equal(r.bStill.ok, true);
    assert.deepEqual(r.bStill.value.data, { me: { id: USER.id } });
    assert.equal(r.fresh.ok, true, 'a new client works after another was closed');
    const ta = await a.tokens();
    assert.equal(ta.graphqlRequests, 4, 'A saw two logins and two queries (one ended by close()), nothing from the closed client');
  });
});
