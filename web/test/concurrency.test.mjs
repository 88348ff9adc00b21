// Rotation under concurrency: answers that arrive out of order, strict
// rotation with its replay, and logout() or a second login() while requests
// are in flight. The server's test hooks make it deterministic where it must
// be: hold=1 parks a request until the test releases it, lag= delays an
// answer after its token was issued, and GET /test/tokens tells what the
// browser really sent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BROWSER, NOTHING_STORED, PASSWORD, USER, leakReport, pageHooks, secToMs,
} from './harness.mjs';

const REQUESTS = 200;

/** The tokens of the log that became a session's newest, by iat (strictly increasing per server). */
function realTokens(log) {
  return log.issued.filter((x) => !x.forged).sort((a, b) => a.iat - b.iat);
}

describe(`rotation under concurrency [${BROWSER}]`, { timeout: 120000 }, () => {
  let api;
  let strict;
  let t;

  pageHooks({ api: {}, strict: { strictRotation: true } }, {
    onSuite(s) { ({ api, strict } = s.api); },
    onPage(p) { t = p; },
    release: true,
  });

  it(`after ${REQUESTS} concurrent requests answered out of order, the held token is the newest issued, ` +
    'and no request carried a token older than the one held when it was sent', async (ctx) => {
    // Every request waits 0-40 ms before its token is checked and 0-80 ms
    // after its answer's token was issued, so answers, and their tokens,
    // reach the browser in another order than they were sent and issued in.
    const endpoint = api.endpointWith({ delay: '0-40', lag: '0-80' });
    const r = await t.run(async (endpoint, username, password, n) => {
      const u = await import('/e2e-util.js');
      let sends;
      // What "the token held when it was sent" is, observed from outside.
      // The server cannot tell: the browser queues requests (6 connections
      // per host) and they arrive in another order than they were sent, so
      // arrival order says nothing about what the client held. The test
      // worker can: the module sends through the worker's fetch (the one
      // there when it started), so a wrapper installed before it starts
      // sees each request at the moment it leaves the module, with the
      // token it carries (only its claims are kept) and, read at that same
      // instant from the module, the expiry of the token it holds. Tokens
      // have one TTL and strictly increasing iat, so that expiry names the
      // held token exactly (checked below against the server's log).
      const c = await u.newClient('c', { endpoint, ...u.TEST_BUILD });
      await c.login({ username, password });
      await u.workerTest('recordSends');
      let settled;
      const began = Date.now();
      try {
        // Started over ~1.5 s, so that the held token moves on while requests
        // are still being sent; the browser keeps at most 6 in flight per host.
        settled = await Promise.all(Array.from({ length: n }, (_, i) =>
          u.sleep(Math.random() * 1500).then(() =>
            u.attempt(() => c.fetchWithAuth(`query Burst${i} { session { jti issuedAt } }`)))));
      } finally {
        sends = await u.workerTest('sends');
      }
      const took = Date.now() - began;
      await u.sleep(50);
      const heldAfter = u.ms(c.tokenExpiresAt());
      const final = await u.attempt(() => c.fetchWithAuth('query Final { session { jti } }'));
      return {
        failed: settled.filter((x) => !x.ok).map((x) => x.error),
        carried: settled.filter((x) => x.ok).map((x) => x.value.data.session.jti),
        sends,
        took,
        heldAfter,
        final,
        state: u.state('c'),
      };
    }, endpoint, USER.username, PASSWORD, REQUESTS);

    assert.deepEqual(r.failed, [], 'every request succeeded');
    assert.equal(r.final.ok, true, JSON.stringify(r.final));
    const log = await api.tokens();
    const issued = realTokens(log);
    const byJti = new Map(issued.map((x) => [x.jti, x]));
    const byExp = new Map(issued.map((x) => [secToMs(x.exp), x]));
    assert.equal(byExp.size, issued.length, 'exp identifies a token (same TTL, strictly increasing iat)');
    assert.equal(issued.length, REQUESTS + 2, 'login, one token per answer, and the final request');

    // 1. The held token ends as the newest issued. The final request carries
    // the token held after the burst; the newest issued before it is the
    // newest by iat among all but the final answer's own token.
    const finalReceived = log.received.find((x) => x.op === 'Final');
    const finalToken = issued.find((x) => x.request === finalReceived.seq);
    const newest = issued.filter((x) => x !== finalToken).at(-1);
    assert.equal(finalReceived.jti, newest.jti, 'the request after the burst carried the newest token issued');
    assert.equal(r.final.value.data.session.jti, newest.jti);
    assert.equal(r.heldAfter, secToMs(newest.exp), 'tokenExpiresAt() is the newest token\'s exp');
    assert.equal(r.state.expiresAt, secToMs(finalToken.exp), 'and the final answer rotated it once more');

    // 2. No request was sent with a token older than the one held at that
    // moment. The wrapper saw every request leave the module.
    assert.equal(r.sends.length, REQUESTS, 'the worker\'s fetch wrapper saw every request');
    const older = r.sends.filter((s) => {
      const held = byExp.get(s.heldExp);
      return !held || !byJti.has(s.jti) || s.iat < held.iat;
    });
    assert.deepEqual(older, [], 'requests sent with a token older than the one held');
    // Hence, in the order they left the module, carried tokens never go back.
    for (let i = 1; i < r.sends.length; i++) {
      assert.ok(r.sends[i].iat >= r.sends[i - 1].iat, `send ${i} carried an older token than send ${i - 1}`);
    }
    // The server agrees: each request carried the token the wrapper saw.
    assert.deepEqual([...r.carried].sort(), r.sends.map((s) => s.jti).sort());

    // The scenario really raced: the held token moved during the burst, and
    // some tokens arrived after a newer one had been installed (the module
    // ignores those with a warning).
    // (How many tokens the burst sees depends on how fast answers come back:
    // about 20-40 here, fewer on a loaded machine; a few prove the point.)
    const distinct = new Set(r.sends.map((s) => s.jti)).size;
    assert.ok(distinct >= 3, `requests carried only ${distinct} different tokens`);
    await t.consoleTexts();
    const olderWarnings = t.console.filter((m) => /ignored the token in a response: token is older/.test(m.text)).length;
    assert.ok(olderWarnings > 0, 'no answer arrived out of order: the test did not race');
    const rotations = r.state.events.filter((e) => e.reason === 'rotate').map((e) => e.expiresAt);
    for (let i = 1; i < rotations.length; i++) {
      assert.ok(rotations[i] > rotations[i - 1], 'every rotate event moves the expiry forward');
    }
    // Hundreds of rotations and warnings later, no token is readable by page scripts.
    const report = await leakReport(t, [api], { clients: ['c'], secrets: [PASSWORD] });
    assert.deepEqual(report.leaks, []);
    assert.deepEqual(report.stored, NOTHING_STORED);
    ctx.diagnostic(`${REQUESTS} requests in ${r.took} ms: ${distinct} distinct tokens carried, ` +
      `${rotations.length} rotations, ${olderWarnings} out-of-order tokens ignored`);
  });

  /** Starts, in the page, a request parked by the server; resolves to its seq. */
  async function startHeld(server, name, query, variables = {}) {
    await t.run(async (name, query, variables) => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      u.pending.set(name, u.attempt(() => c.fetchWithAuth(query, { ...variables, __hook: { hold: 1 } })));
    }, name, query, variables);
    const log = await server.waitForLog((l) => l.held.some((h) => h.op === name), `${name} to be held`);
    return log.held.find((h) => h.op === name);
  }

  /** Awaits, in the page, a request started by startHeld. */
  async function settle(name) {
    return t.run(async (name) => {
      const u = await import('/e2e-util.js');
      return u.pending.get(name);
    }, name);
  }

  async function login(endpoint) {
    return t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
    }, endpoint, USER.username, PASSWORD);
  }

  async function query(q) {
    return t.run(async (q) => {
      const u = await import('/e2e-util.js');
      return u.attempt(() => u.client('c').fetchWithAuth(q));
    }, q);
  }

  async function state() {
    return t.run(async () => (await import('/e2e-util.js')).state('c'));
  }

  it('strict rotation: a request refused because it raced a rotation is replayed once with the current token and succeeds', async () => {
    await login(strict.endpoint);
    const first = await startHeld(strict, 'Slow', 'query Slow { session { jti } }');
    const rotated = await query('query Fast { me { id } }'); // the server issues T1, which supersedes T0
    assert.equal(rotated.ok, true);
    await strict.release(first.seq); // Slow, carrying T0, is now refused ...
    const replay = await strict.waitForLog((l) => l.held.some((h) => h.op === 'Slow'), 'the replay to be held');
    await strict.release(); // ... and its replay, carrying T1, answered
    const slow = await settle('Slow');

    const log = await strict.tokens();
    const [t0, t1, t2] = realTokens(log);
    const attempts = log.received.filter((x) => x.op === 'Slow');
    assert.deepEqual(attempts.map((x) => [x.jti, !!x.refused]), [[t0.jti, true], [t1.jti, false]],
      'sent twice: with the superseded token (refused), then with the current one');
    assert.equal(replay.held.find((h) => h.op === 'Slow').jti, t1.jti);
    assert.equal(slow.ok, true, JSON.stringify(slow));
    assert.deepEqual(slow.value.data, { session: { jti: t1.jti } }, 'the caller gets the replay\'s answer');
    const s = await state();
    assert.equal(s.isAuthenticated, true);
    assert.deepEqual(s.events.map((e) => e.reason), ['login', 'rotate', 'rotate'], 'no unauthorized event');
    assert.equal(s.expiresAt, secToMs(t2.exp), 'the replay\'s answer rotated the token');
    const next = await query('query Next { session { jti } }');
    assert.deepEqual(next.value.data, { session: { jti: t2.jti } });
  });

  it('strict rotation: a replay refused again is not replayed a second time (UNAUTHORIZED after exactly two attempts), and the newer session is kept', async () => {
    await login(strict.endpoint);
    const first = await startHeld(strict, 'Slow', 'query Slow { session { jti } }');
    assert.equal((await query('query Fast { me { id } }')).ok, true); // T1 supersedes T0
    await strict.release(first.seq);
    await strict.waitForLog((l) => l.held.some((h) => h.op === 'Slow'), 'the replay to be held');
    assert.equal((await query('query Faster { me { id } }')).ok, true); // T2 supersedes T1, which the replay carries
    await strict.release();
    const slow = await settle('Slow');

    assert.equal(slow.ok, false);
    assert.equal(slow.error.name, 'AuthError');
    assert.equal(slow.error.code, 'UNAUTHORIZED');
    assert.deepEqual(slow.error.graphQLErrors,
      [{ message: 'Unauthorized', locations: [{ line: 1, column: 14 }], customer_facing: false }]);
    const log = await strict.tokens();
    const [t0, t1, t2] = realTokens(log);
    assert.deepEqual(log.received.filter((x) => x.op === 'Slow').map((x) => [x.jti, !!x.refused]),
      [[t0.jti, true], [t1.jti, true]], 'exactly two attempts, both refused');
    // Neither refused token was the one held, so the session stays.
    const s = await state();
    assert.equal(s.isAuthenticated, true);
    assert.deepEqual(s.events.map((e) => e.reason), ['login', 'rotate', 'rotate']);
    const next = await query('query Next { session { jti } }');
    assert.deepEqual(next.value?.data, { session: { jti: t2.jti } }, 'the next request carries the newest token');
  });

  it('strict rotation: a real Unauthorized (the server restarted with a new key) ends the session without a replay', async () => {
    await login(strict.endpoint);
    assert.equal((await query('{ me { id } }')).ok, true);
    await strict.restart();
    const refused = await query('query Refused { me { id } }');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(refused.ok, false);
    assert.equal(refused.error.code, 'UNAUTHORIZED');
    const s = await state();
    assert.equal(s.isAuthenticated, false);
    assert.equal(s.expiresAt, null);
    assert.deepEqual(s.events.map((e) => e.reason), ['login', 'rotate', 'unauthorized']);
    const log = await strict.tokens();
    assert.equal(log.graphqlRequests, 1, 'sent once: the refused token was the one held, nothing to replay');
    assert.equal(log.received[0].refused, true);
    const next = await query('{ me { id } }');
    assert.equal(next.error?.code, 'NOT_AUTHENTICATED');
  });

  it('answers to requests sent before logout() never install their token, even when they arrive after it', async (ctx) => {
    await login(api.endpoint);
    const held = [];
    for (const name of ['A', 'B', 'C']) held.push(await startHeld(api, name, `query ${name} { session { jti } }`));
    // And a burst with random delays, some answered before logout, some after.
    const loggedOut = await t.run(async () => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      u.pending.set('burst', Promise.all(Array.from({ length: 30 }, (_, i) =>
        u.attempt(() => c.fetchWithAuth(`query Burst${i} { me { id } }`, { __hook: { delay: '0-300' } })))));
      await u.sleep(150);
      c.logout();
      return { at: Date.now(), state: u.state('c') };
    });
    assert.equal(loggedOut.state.isAuthenticated, false);
    await api.release();
    const results = await Promise.all(['A', 'B', 'C', 'burst'].map(settle));
    await new Promise((r) => setTimeout(r, 100));

    const log = await api.tokens();
    const loginToken = realTokens(log)[0];
    const answeredAfter = log.issued.filter((x) => held.some((h) => h.seq === x.request));
    assert.equal(answeredAfter.length, 3, 'the server answered the parked requests with fresh tokens after logout');
    assert.ok(answeredAfter.every((x) => x.iat > loginToken.iat));
    for (const r of results.slice(0, 3)) {
      assert.ok(r.ok || r.error.name === 'AuthError', JSON.stringify(r));
    }
    const s = await state();
    assert.equal(s.isAuthenticated, false, 'still logged out');
    assert.equal(s.expiresAt, null);
    const reasons = s.events.map((e) => e.reason);
    assert.equal(reasons.at(-1), 'logout', `nothing after logout: ${reasons}`);
    assert.equal(reasons.filter((x) => x === 'logout').length, 1);
    const sentBefore = log.graphqlRequests;
    const next = await query('{ me { id } }');
    assert.equal(next.error?.code, 'NOT_AUTHENTICATED');
    assert.equal((await api.tokens()).graphqlRequests, sentBefore, 'nothing sent after logout');
    const report = await leakReport(t, [api], { clients: ['c'], secrets: [PASSWORD] });
    assert.deepEqual(report.leaks, [], 'no token is readable, also from answers that arrived after logout');
    const burst = results[3];
    ctx.diagnostic(`burst around logout: ${burst.filter((x) => x.ok).length} resolved, ` +
      `${burst.filter((x) => !x.ok).length} rejected`);
  });

  it('answers to requests sent before a second login() never install their token, though they are newer by iat', async () => {
    await login(api.endpoint);
    const held = [];
    for (const name of ['A', 'B', 'C']) held.push(await startHeld(api, name, `query ${name} { session { jti } }`));
    await t.run(async (username, password) => {
      const u = await import('/e2e-util.js');
      await u.client('c').login({ username, password });
    }, USER.username, PASSWORD);
    await api.release();
    const results = await Promise.all(['A', 'B', 'C'].map(settle));
    await new Promise((r) => setTimeout(r, 50));
    const next = await query('query Next { session { jti } }');

    const log = await api.tokens();
    const [firstLogin] = realTokens(log);
    const secondLogin = log.issued.find((x) => x.chain !== firstLogin.chain);
    const lateAnswers = log.issued.filter((x) => held.some((h) => h.seq === x.request));
    assert.equal(lateAnswers.length, 3);
    assert.ok(lateAnswers.every((x) => x.chain === firstLogin.chain && x.iat > secondLogin.iat),
      'the late answers carry tokens of the first session issued after the second login: newer by iat');
    for (const r of results) assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual(next.value?.data, { session: { jti: secondLogin.jti } },
      'the next request carries the second login\'s token');
    const s = await state();
    assert.deepEqual(s.events.map((e) => e.reason), ['login', 'login', 'rotate']);
  });

  it('a login overtaken by a newer login() or by logout() rejects ABORTED and never installs its token', async () => {
    // Every request of this client is parked, logins included.
    const parked = api.endpointWith({ hold: 1 });
    await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      u.pending.set('L1', u.attempt(() => c.login({ username, password })));
    }, parked, USER.username, PASSWORD);
    const l1 = (await api.waitForLog((l) => l.held.length === 1, 'the first login')).held[0];
    await t.run(async (username, password) => {
      const u = await import('/e2e-util.js');
      u.pending.set('L2', u.attempt(() => u.client('c').login({ username, password })));
    }, USER.username, PASSWORD);
    const l2 = (await api.waitForLog((l) => l.held.length === 2, 'the second login')).held[1];
    await api.release(l2.seq); // the newer login completes first ...
    const second = await settle('L2');
    await api.release(l1.seq); // ... then the older one's answer arrives
    const first = await settle('L1');
    assert.equal(second.ok, true, JSON.stringify(second));
    assert.equal(first.ok, false);
    assert.equal(first.error.code, 'ABORTED', JSON.stringify(first.error));

    await t.run(async () => {
      const u = await import('/e2e-util.js');
      u.pending.set('Q', u.attempt(() => u.client('c').fetchWithAuth('query Next { session { jti } }')));
    });
    await api.waitForLog((l) => l.held.length === 1, 'the query');
    await api.release();
    const next = await settle('Q');
    let log = await api.tokens();
    const tokenOf = (seq) => log.issued.find((x) => x.request === seq);
    assert.deepEqual(next.value?.data, { session: { jti: tokenOf(l2.seq).jti } },
      'the session is the newer login\'s, though the older login\'s token was issued later');
    assert.ok(tokenOf(l1.seq).iat > tokenOf(l2.seq).iat);

    // A login overtaken by logout().
    await t.run(async (username, password) => {
      const u = await import('/e2e-util.js');
      u.pending.set('L3', u.attempt(() => u.client('c').login({ username, password })));
    }, USER.username, PASSWORD);
    const l3 = (await api.waitForLog((l) => l.held.length === 1, 'the third login')).held[0];
    await t.run(async () => { (await import('/e2e-util.js')).client('c').logout(); });
    await api.release(l3.seq);
    const third = await settle('L3');
    assert.equal(third.error?.code, 'ABORTED', JSON.stringify(third));
    log = await api.tokens();
    assert.ok(tokenOf(l3.seq), 'the server did log in');
    await new Promise((r) => setTimeout(r, 50));
    const s = await state();
    assert.equal(s.isAuthenticated, false);
    assert.deepEqual(s.events.map((e) => e.reason), ['login', 'rotate', 'logout']);
  });

  it('a login that is aborted, or fails, gives up its place: an earlier login that succeeds afterwards installs its token', async () => {
    const parked = api.endpointWith({ hold: 1 });
    await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      u.pending.set('L1', u.attempt(() => c.login({ username, password })));
    }, parked, USER.username, PASSWORD);
    const l1 = (await api.waitForLog((l) => l.held.length === 1, 'the first login')).held[0];
    await t.run(async (username, password) => {
      const u = await import('/e2e-util.js');
      const ac = new AbortController();
      u.pending.set('abortL2', () => ac.abort());
      u.pending.set('L2', u.attempt(() => u.client('c').login({ username, password }, { signal: ac.signal })));
    }, USER.username, PASSWORD);
    await api.waitForLog((l) => l.held.length === 2, 'the second login');
    await t.run(async () => (await import('/e2e-util.js')).pending.get('abortL2')());
    const second = await settle('L2');
    assert.equal(second.error?.code, 'ABORTED', JSON.stringify(second));
    await api.waitForLog((l) => l.cancelled.length === 1, 'the browser to give up the aborted login');
    await api.release(l1.seq);
    const first = await settle('L1');
    assert.equal(first.ok, true, `the earlier login: ${JSON.stringify(first)}`);
    let s = await state();
    assert.equal(s.isAuthenticated, true);
    assert.deepEqual(s.events.map((e) => e.reason), ['login']);

    // The same with a newer login the server refuses.
    await t.run(async (username, password) => {
      const u = await import('/e2e-util.js');
      u.pending.set('L3', u.attempt(() => u.client('c').login({ username, password })));
    }, USER.username, PASSWORD);
    const l3 = (await api.waitForLog((l) => l.held.length === 1, 'the third login')).held[0];
    await t.run(async (username) => {
      const u = await import('/e2e-util.js');
      u.pending.set('L4', u.attempt(() => u.client('c').login({ username, password: 'wrong' })));
    }, USER.username);
    const l4 = (await api.waitForLog((l) => l.held.length === 2, 'the fourth login')).held.find((x) => x.seq !== l3.seq);
    await api.release(l4.seq);
    assert.equal((await settle('L4')).error?.code, 'LOGIN_FAILED');
    await api.release(l3.seq);
    assert.equal((await settle('L3')).ok, true, 'the earlier login after a newer one failed');
    s = await state();
    assert.deepEqual(s.events.map((e) => e.reason), ['login', 'login']);
    const log = await api.tokens();
    assert.equal(s.expiresAt, secToMs(log.issued.find((x) => x.request === l3.seq).exp), 'the session is the third login\'s');
  });
});
