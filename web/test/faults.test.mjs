// Faults of the network and the server, each on a logged-in session: the
// right AuthError code, the session intact (isAuthenticated() and the next
// query, which must carry the same token as before the fault), the fetch
// really aborted where the module gives up, and, after every scenario, no
// token readable by page scripts (storage, cookies, console, error
// messages, the client object, globals).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import {
  BROWSER, PASSWORD, TESTHOOKS_WASM, USER, leaksIn, pageHooks, secToMs, startProxy, tokenSecrets,
  assertNoLeaks as assertNothingLeaked,
} from './harness.mjs';

/** The tokens of the log that became a session's newest, by iat. */
function realTokens(log) {
  return log.issued.filter((x) => !x.forged).sort((a, b) => a.iat - b.iat);
}

/** The resident memory, in bytes, of process pid and every process under it. */
function treeRSS(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch { /* gone */ }
  }
  let total = 0;
  for (const todo = [pid]; todo.length > 0;) {
    const p = todo.pop();
    try { total += Number(readFileSync(`/proc/${p}/statm`, 'utf8').split(' ')[1]) * 4096; } catch { /* gone */ }
    todo.push(...(children.get(p) ?? []));
  }
  return total;
}

describe(`faults [${BROWSER}]`, { timeout: 120000 }, () => {
  let api;
  let t;
  let browserPID;
  pageHooks({ api: {} }, {
    onSuite(s) { api = s.api.api; browserPID = s.browser.process()?.pid; },
    onPage(p) { t = p; },
  });

  /** No token the server issued, nor the password, is readable by page scripts; nothing was stored. */
  const assertNoLeaks = (clients = ['c']) => assertNothingLeaked(t, [api], { clients, secrets: [PASSWORD] });

  /** Logs in client c; testBuild starts it with the test worker and the module built with test hooks. */
  async function login(endpoint, options = {}, { testBuild = false } = {}) {
    await t.run(async (endpoint, options, testBuild, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, ...options, ...(testBuild ? u.TEST_BUILD : {}) });
      u.results.push(await c.login({ username, password }));
    }, endpoint, options, testBuild, USER.username, PASSWORD);
  }

  it('broken answers reject with their code (HTTP_ERROR, BAD_RESPONSE, NETWORK_ERROR), the session stays and the next query works', async () => {
    const cases = [
      { name: '500 with an HTML body', hook: { fault: '500html' }, code: 'HTTP_ERROR', status: 500 },
      {
        name: '502 with a JSON body', hook: { fault: '502json' }, code: 'HTTP_ERROR', status: 502,
        graphQLErrors: [{ message: 'bad gateway', customer_facing: false }],
      },
      { name: '200 with truncated JSON', hook: { fault: 'truncated' }, code: 'BAD_RESPONSE', status: 200 },
      { name: '200 with an empty body', hook: { fault: 'empty' }, code: 'BAD_RESPONSE', status: 200 },
      { name: '200 with a non-JSON body', hook: { fault: 'nonjson' }, code: 'BAD_RESPONSE', status: 200 },
      // The headers had arrived (200), then the connection closed: the status is kept.
      { name: 'connection closed mid-body', hook: { fault: 'close' }, code: 'NETWORK_ERROR', status: 200 },
      // An answer refused for its size keeps the status it came with.
      {
        name: 'over maxResponseBytes, announced by Content-Length', hook: { fault: 'huge', bytes: 200000 },
        code: 'BAD_RESPONSE', status: 200,
      },
      {
        name: 'over maxResponseBytes, without Content-Length', hook: { fault: 'huge', bytes: 200000, nolength: 1 },
        code: 'BAD_RESPONSE', status: 200,
      },
    ];
    await login(api.endpoint, { maxResponseBytes: 100000 });
    const r = await t.run(async (cases) => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      const out = [];
      for (const { hook } of cases) {
        const res = await u.attempt(() => c.fetchWithAuth('query Broken { me { id } }', { __hook: hook }));
        const auth = c.isAuthenticated();
        const next = await u.attempt(() => c.fetchWithAuth('query Next { session { jti } }'));
        u.results.push(res, next);
        out.push({ res, auth, next });
      }
      return { out, state: u.state('c') };
    }, cases);

    const log = await api.tokens();
    const tokens = realTokens(log);
    assert.equal(tokens.length, 1 + cases.length, 'only login and the normal queries issued tokens');
    cases.forEach((want, i) => {
      const { res, auth, next } = r.out[i];
      assert.equal(res.ok, false, `${want.name}: must reject`);
      assert.equal(res.error.name, 'AuthError', want.name);
      assert.equal(res.error.code, want.code, `${want.name}: ${JSON.stringify(res.error)}`);
      assert.equal(res.error.status, want.status, `${want.name}: status`);
      if (want.graphQLErrors) assert.deepEqual(res.error.graphQLErrors, want.graphQLErrors, want.name);
      assert.equal(auth, true, `${want.name}: still authenticated`);
      assert.equal(next.ok, true, `${want.name}: the next query works: ${JSON.stringify(next)}`);
      assert.equal(next.value.data.session.jti, tokens[i].jti,
        `${want.name}: the next query carries the token held before the fault`);
    });
    assert.deepEqual(r.state.events.map((e) => e.reason), ['login', ...cases.map(() => 'rotate')]);
    assert.equal(log.graphqlRequests, 1 + 2 * cases.length, 'every broken request reached the server once');
    await assertNoLeaks();
  });

  it('server not listening: NETWORK_ERROR, and the session survives the outage', async () => {
    const proxy = await startProxy(api);
    try {
      await login(proxy.endpoint);
      await t.run(async () => (await import('/e2e-util.js')).client('c').fetchWithAuth('{ me { id } }'));
      await proxy.down();
      const down = await t.run(async () => {
        const u = await import('/e2e-util.js');
        const c = u.client('c');
        const res = await u.attempt(() => c.fetchWithAuth('query Down { me { id } }'));
        const res2 = await u.attempt(() => c.fetchWithAuth('query Down2 { me { id } }'));
        u.results.push(res, res2);
        return { res, res2, auth: c.isAuthenticated() };
      });
      await proxy.up();
      const upAgain = await t.run(async () => {
        const u = await import('/e2e-util.js');
        const res = await u.attempt(() => u.client('c').fetchWithAuth('query Up { session { jti } }'));
        u.results.push(res);
        return res;
      });
      for (const res of [down.res, down.res2]) {
        assert.equal(res.ok, false);
        assert.equal(res.error.code, 'NETWORK_ERROR', JSON.stringify(res.error));
        assert.equal(res.error.status, undefined, 'no status without a response');
      }
      assert.equal(down.auth, true, 'still authenticated while the server is down');
      const log = await api.tokens();
      assert.equal(log.received.filter((x) => x.op?.startsWith('Down')).length, 0, 'nothing reached the server');
      assert.equal(upAgain.ok, true, JSON.stringify(upAgain));
      assert.equal(upAgain.value.data.session.jti, realTokens(log)[1].jti,
        'once the server is back, the next query carries the token held before the outage');
      await assertNoLeaks();
    } finally {
      await proxy.down();
    }
  });

  it('a slow server: TIMEOUT at timeoutMs, the fetch is really aborted, and the session stays', async () => {
    const timeoutMs = 800;
    await login(api.endpoint, { timeoutMs });
    const r = await t.run(async () => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      const began = performance.now();
      const res = await u.attempt(() => c.fetchWithAuth('query Slow { me { id } }', { __hook: { delay: 5000 } }));
      const took = performance.now() - began;
      u.results.push(res);
      const next = await u.attempt(() => c.fetchWithAuth('query Next { session { jti } }'));
      return { res, took, auth: c.isAuthenticated(), next };
    });
    assert.equal(r.res.ok, false);
    assert.equal(r.res.error.code, 'TIMEOUT', JSON.stringify(r.res.error));
    assert.ok(r.took >= timeoutMs - 20 && r.took < timeoutMs + 1500, `gave up after ${r.took} ms`);
    const log = await api.waitForLog((l) => l.cancelled.length > 0, 'the server to see the fetch aborted');
    const [cancelled] = log.cancelled;
    assert.equal(cancelled.op, 'Slow');
    assert.equal(cancelled.stage, 'delay');
    assert.ok(cancelled.waitedMs < 5000 - 1000, `the connection closed after ${cancelled.waitedMs} ms of a 5000 ms delay`);
    assert.equal(r.auth, true);
    assert.equal(r.next.ok, true);
    assert.equal(r.next.value.data.session.jti, realTokens(log)[0].jti, 'the session is unchanged');
    await assertNoLeaks();
  });

  it("the caller's AbortSignal: ABORTED, the fetch is really aborted, and the session stays", async () => {
    await login(api.endpoint);
    const r = await t.run(async () => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      const ac = new AbortController();
      const began = performance.now();
      const p = u.attempt(() => c.fetchWithAuth('query Slow { me { id } }', { __hook: { delay: 5000 } }, { signal: ac.signal }));
      setTimeout(() => ac.abort(), 300);
      const res = await p;
      const took = performance.now() - began;
      u.results.push(res);
      const next = await u.attempt(() => c.fetchWithAuth('query Next { session { jti } }'));
      return { res, took, auth: c.isAuthenticated(), next };
    });
    assert.equal(r.res.ok, false);
    assert.equal(r.res.error.code, 'ABORTED', JSON.stringify(r.res.error));
    assert.ok(r.took < 1500, `settled ${r.took} ms after the call`);
    const log = await api.waitForLog((l) => l.cancelled.length > 0, 'the server to see the fetch aborted');
    assert.equal(log.cancelled[0].op, 'Slow');
    assert.ok(log.cancelled[0].waitedMs < 4000, `closed after ${log.cancelled[0].waitedMs} ms`);
    assert.equal(r.auth, true);
    assert.equal(r.next.value?.data.session.jti, realTokens(log)[0].jti, 'the session is unchanged');
    await assertNoLeaks();
  });

  it('with the default 32 MiB limit, a 40 MiB answer is refused by its Content-Length before its body is read', async (ctx) => {
    const size = 40 << 20;
    await login(api.endpoint);
    const r = await t.run(async (size) => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      const res = await u.attempt(() => c.fetchWithAuth('query Huge { me { id } }', { __hook: { fault: 'huge', bytes: size } }));
      u.results.push(res);
      const next = await u.attempt(() => c.fetchWithAuth('query Next { session { jti } }'));
      return { res, auth: c.isAuthenticated(), next };
    }, size);
    assert.equal(r.res.ok, false);
    assert.equal(r.res.error.code, 'BAD_RESPONSE', JSON.stringify(r.res.error));
    assert.match(r.res.error.message, /33554432/, 'the message names the limit');
    const log = await api.waitForLog((l) => l.cancelled.length > 0, 'the server to see the download cut');
    const [cut] = log.cancelled;
    assert.equal(cut.stage, 'body');
    assert.ok(cut.written < size, `the server wrote ${cut.written} of ${size} bytes before the browser went away`);
    assert.equal(r.auth, true);
    assert.equal(r.next.value?.data.session.jti, realTokens(log)[0].jti);
    ctx.diagnostic(`refused after the server wrote ${cut.written} of ${size} bytes`);
    await assertNoLeaks();
  });

  it('a 1 GiB gzip bomb from another origin (CORS hides its Content-Encoding) is cut off at maxResponseBytes as it inflates: BAD_RESPONSE, the browser\'s memory bounded', async (ctx) => {
    assert.ok(browserPID, 'the browser process is known');
    await login(api.endpoint);
    const before = treeRSS(browserPID);
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, treeRSS(browserPID)); }, 25);
    let r;
    try {
      r = await t.run(async () => {
        const u = await import('/e2e-util.js');
        const c = u.client('c');
        const res = await u.attempt(() => c.fetchWithAuth('query Bomb { me { id } }', { __hook: { fault: 'gzipbomb' } }));
        u.results.push(res);
        const next = await u.attempt(() => c.fetchWithAuth('query Next { session { jti } }'));
        return { res, auth: c.isAuthenticated(), next };
      });
    } finally {
      clearInterval(sampler);
    }
    assert.equal(r.res.ok, false);
    assert.equal(r.res.error.code, 'BAD_RESPONSE', JSON.stringify(r.res.error));
    assert.match(r.res.error.message, /33554432/, 'the message names the limit');
    const grew = peak - before;
    ctx.diagnostic(`browser memory ${Math.round(before / 2 ** 20)} MiB, peak +${Math.round(grew / 2 ** 20)} MiB for a 1024 MiB bomb`);
    assert.ok(grew < 400 * 2 ** 20, `the browser's memory grew by ${Math.round(grew / 2 ** 20)} MiB while refusing a 1 GiB body`);
    assert.equal(r.auth, true);
    assert.equal(r.next.ok, true, JSON.stringify(r.next));
    await assertNoLeaks();
  });

  it('an answer over the limit without Content-Length is cut off as it streams in, and never reaches Go memory (test build)', async (ctx) => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const size = 40 << 20;
    const limit = 1 << 20;
    await login(api.endpoint, { maxResponseBytes: limit }, { testBuild: true });
    const r = await t.run(async (size) => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      const before = (await u.bridgeStats()).sysBytes;
      const refused = await u.attempt(() => c.fetchWithAuth('query Huge { me { id } }',
        { __hook: { fault: 'huge', bytes: size, nolength: 1 } }));
      const after = (await u.bridgeStats()).sysBytes;
      u.results.push(refused);
      const next = await u.attempt(() => c.fetchWithAuth('query Next { session { jti } }'));
      return { refused, before, after, auth: c.isAuthenticated(), next };
    }, size);
    assert.equal(r.refused.ok, false);
    assert.equal(r.refused.error.code, 'BAD_RESPONSE', JSON.stringify(r.refused.error));
    // Copying the body into Go would grow the runtime's memory by its size.
    assert.ok(r.after - r.before < 8 << 20,
      `Go memory grew by ${r.after - r.before} bytes for a refused ${size}-byte answer`);
    const log = await api.waitForLog((l) => l.cancelled.length > 0, 'the server to see the download cut');
    const [cut] = log.cancelled;
    assert.equal(cut.stage, 'body');
    // The kernel's socket buffers take a few MiB the browser never reads.
    assert.ok(cut.written < size / 2, `the server wrote ${cut.written} of ${size} bytes before the browser went away`);
    assert.equal(r.auth, true);
    assert.equal(r.next.value?.data.session.jti, realTokens(log)[0].jti);
    ctx.diagnostic(`limit ${limit}: refused after the server wrote ${cut.written} of ${size} bytes; Go sys ${r.before} -> ${r.after} bytes`);
    await assertNoLeaks();
  });

  it('a rotated token that is not a JWT, expired, for another sub, or with CR/LF is ignored: the held token is kept and console.warn says why, never printing it', async () => {
    const cases = [
      { fault: 'badtoken', reason: /ignored the token in a response: token is not a well-formed JWT/ },
      { fault: 'expiredtoken', reason: /ignored the token in a response: token is already expired/ },
      { fault: 'othersub', reason: /ignored the token in a response: token belongs to another subject/ },
      { fault: 'crlftoken', reason: /ignored the token in a response: token holds characters not allowed in a header/ },
    ];
    await login(api.endpoint);
    const r = await t.run(async (faults) => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      const out = [];
      for (const fault of faults) {
        const before = u.ms(c.tokenExpiresAt());
        const warned = [];
        const realWarn = console.warn;
        console.warn = function (...args) { warned.push(args.map(String)); return realWarn.apply(this, args); };
        let res;
        try {
          res = await u.attempt(() => c.fetchWithAuth('query Forged { me { id } }', { __hook: { fault } }));
        } finally {
          console.warn = realWarn;
        }
        await u.sleep(20);
        const after = u.ms(c.tokenExpiresAt());
        const auth = c.isAuthenticated();
        const next = await u.attempt(() => c.fetchWithAuth('query Next { session { jti } }'));
        u.results.push(res, next);
        out.push({ res, warned, before, after, auth, next });
      }
      return { out, state: u.state('c') };
    }, cases.map((x) => x.fault));

    const log = await api.tokens();
    const tokens = realTokens(log);
    const forged = log.issued.filter((x) => x.forged);
    assert.equal(forged.length, 3, 'expired, other-sub and CR/LF tokens were issued (not-a-jwt is not a token)');
    cases.forEach((want, i) => {
      const o = r.out[i];
      assert.equal(o.res.ok, true, `${want.fault}: the answer itself is fine: ${JSON.stringify(o.res)}`);
      assert.deepEqual(o.res.value.data, { me: { id: USER.id } });
      assert.equal(o.warned.length, 1, `${want.fault}: one warning, got ${JSON.stringify(o.warned)}`);
      assert.match(o.warned[0].join(' '), want.reason, want.fault);
      assert.equal(o.after, o.before, `${want.fault}: tokenExpiresAt() unchanged`);
      assert.equal(o.auth, true);
      assert.equal(o.next.value?.data.session.jti, tokens[i].jti, `${want.fault}: the next query carries the held token`);
    });
    const warnings = r.out.flatMap((o) => o.warned.flat());
    const secrets = tokenSecrets(log.issued.map((x) => x.raw));
    assert.deepEqual(leaksIn({ warnings }, [...secrets, 'not-a-jwt']), [], 'a warning printed a token');
    assert.deepEqual(r.state.events.map((e) => e.reason), ['login', ...cases.map(() => 'rotate')],
      'forged tokens caused no event');
    assert.ok(forged.every((x) => !tokens.some((y) => y.jti === x.jti)));
    assert.ok(secToMs(forged[0].exp) < Date.now(), 'the expired token is expired');
    await assertNoLeaks();
  });
  it('a redirect is never followed: the login and the query reject NETWORK_ERROR, nothing reaches the target, and no token from it is installed', async () => {
    // The target records every request that reaches it, preflights included.
    const reached = [];
    const target = http.createServer((req, res) => {
      reached.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/json' }).end('{"data":{}}');
    });
    await new Promise((r) => target.listen(0, '127.0.0.1', r));
    const to = `http://127.0.0.1:${target.address().port}/graphql`;
    try {
      const r = await t.run(async (redirecting, endpoint, to, username, password) => {
        const u = await import('/e2e-util.js');
        const out = {};
        // A login whose answer is a 307 would re-send the password to the target.
        const d = await u.newClient('d', { endpoint: redirecting });
        out.login = await u.attempt(() => d.login({ username, password }));
        out.dAuthenticated = d.isAuthenticated();
        // A query on a live session would re-send the token.
        const c = await u.newClient('c', { endpoint });
        await c.login({ username, password });
        out.query = await u.attempt(() => c.fetchWithAuth('query Redirected { me { id } }', { __hook: { fault: 'redirect', to } }));
        out.next = await u.attempt(() => c.fetchWithAuth('query Next { session { jti } }'));
        u.results.push(out.login, out.query);
        return { out, state: u.state('c') };
      }, api.endpointWith({ fault: 'redirect', to }), api.endpoint, to, USER.username, PASSWORD);
      assert.equal(r.out.login.error?.code, 'NETWORK_ERROR', JSON.stringify(r.out.login));
      assert.match(r.out.login.error.message, /redirect/, 'the message names redirects as a cause');
      assert.equal(r.out.dAuthenticated, false);
      assert.equal(r.out.query.error?.code, 'NETWORK_ERROR', JSON.stringify(r.out.query));
      assert.deepEqual(reached, [], 'a request reached the redirect\'s target');
      const log = await api.tokens();
      const [loginToken] = realTokens(log);
      assert.equal(r.out.next.value?.data.session.jti, loginToken.jti, 'the next query carries the login\'s token');
      assert.deepEqual(r.state.events.map((e) => e.reason), ['login', 'rotate'], 'the redirect installed nothing');
      await assertNoLeaks(['c', 'd']);
    } finally {
      await new Promise((r) => target.close(r));
    }
  });

  it('an answer nested 5000 levels deep rejects BAD_RESPONSE (no stack overflow), the session stays, and a login answered so leaves no password (test build)', async () => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const secret = `deep-${Math.random().toString(36).slice(2)}`;
    const r = await t.run(async (endpoint, deep, username, password, secret) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, ...u.TEST_BUILD });
      await c.login({ username, password });
      const out = {};
      for (const fault of ['deep', 'deepdata']) {
        out[fault] = await u.attempt(() => c.fetchWithAuth('query Deep { me { id } }', { __hook: { fault } }));
      }
      out.authenticated = c.isAuthenticated();
      out.next = await u.attempt(() => c.fetchWithAuth('query Next { me { id } }'));
      const d = await u.newClient('d', { endpoint: deep });
      out.login = await u.attempt(() => d.login({ username, password: secret }));
      out.copies = await u.workerTest('memoryHas', secret);
      out.stats = await u.bridgeStats();
      return out;
    }, api.endpoint, api.endpointWith({ fault: 'deep' }), USER.username, PASSWORD, secret);
    for (const fault of ['deep', 'deepdata', 'login']) {
      assert.equal(r[fault].error?.name, 'AuthError', `${fault}: ${JSON.stringify(r[fault])}`);
      assert.equal(r[fault].error.code, 'BAD_RESPONSE', `${fault}: ${JSON.stringify(r[fault])}`);
      assert.match(r[fault].error.message, /deeper than 256 levels/, fault);
    }
    assert.equal(r.authenticated, true);
    assert.deepEqual(r.next.value?.data, { me: { id: USER.id } });
    assert.equal(r.copies, 0, 'the password of the login answered with a deep body is in the module\'s memory');
    assert.equal(r.stats.inFlight, 0);
  });

  it('a token header sent twice: the same token is read, two different ones fall back to Authorization', async () => {
    await login(api.endpointWith({ fault: 'duptoken' }));
    const r = await t.run(async () => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      const out = { loggedIn: c.isAuthenticated() };
      out.dup = await u.attempt(() => c.fetchWithAuth('query Dup { me { id } }'));
      out.mixed = await u.attempt(() => c.fetchWithAuth('query Mixed { me { id } }', { __hook: { fault: 'mixedtoken' } }));
      out.next = await u.attempt(() => c.fetchWithAuth('query Next { session { jti } }'));
      return { out, state: u.state('c') };
    });
    assert.equal(r.out.loggedIn, true, 'a login answered with X-Authorization on two lines logs in');
    assert.equal(r.out.dup.ok, true, JSON.stringify(r.out.dup));
    assert.equal(r.out.mixed.ok, true, JSON.stringify(r.out.mixed));
    const log = await api.tokens();
    const mixedSeq = log.received.find((x) => x.op === 'Mixed').seq;
    const real = log.issued.find((x) => x.request === mixedSeq && !x.forged);
    assert.ok(log.issued.some((x) => x.request === mixedSeq && x.forged), 'the server sent a decoy');
    assert.equal(r.out.next.value?.data.session.jti, real.jti, 'the next query carries the token of Authorization, not the decoy');
    assert.deepEqual(r.state.events.map((e) => e.reason), ['login', 'rotate', 'rotate', 'rotate']);
    await assertNoLeaks();
  });
});
