// Hostile input from JavaScript: every export with missing, wrong, huge and
// booby-trapped arguments, re-entrant calls from listeners and hooks, a
// fetch that returns junk, forced panics in every export, and a thousand
// bad calls in a row. Never a crash: INVALID_ARGUMENT or the documented
// behaviour, nothing sent for a refused call, and the module keeps working.
// (robustness.test.mjs has the first hostile arguments and the panics of
// fetchWithAuth and isAuthenticated; this file covers the rest.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  BROWSER, PASSWORD, TESTHOOKS_WASM, USER, pageHooks,
  assertNoLeaks as assertNothingLeaked,
} from './harness.mjs';

/**
 * The hostile calls, as source run in the page with u (e2e-util), c (a
 * logged-in client), endpoint, username, password, boom (throws), trap (a
 * Proxy whose every trap throws) and cyclic in scope. Each must be refused
 * with INVALID_ARGUMENT before anything is sent.
 */
const INVALID_CALLS = {
  'createClient()': 'u.gqlauth.createClient()',
  'createClient(null)': 'u.gqlauth.createClient(null)',
  'createClient(42)': 'u.gqlauth.createClient(42)',
  'createClient(string)': 'u.gqlauth.createClient(endpoint)',
  'createClient(Symbol)': 'u.gqlauth.createClient(Symbol("o"))',
  'createClient(BigInt)': 'u.gqlauth.createClient(1n)',
  'createClient([])': 'u.gqlauth.createClient([])',
  'createClient(trap)': 'u.gqlauth.createClient(trap)',
  'createClient({})': 'u.gqlauth.createClient({})',
  'endpoint: 42': 'u.gqlauth.createClient({ endpoint: 42 })',
  'endpoint: null': 'u.gqlauth.createClient({ endpoint: null })',
  'endpoint: BigInt': 'u.gqlauth.createClient({ endpoint: 1n })',
  'endpoint: String object': 'u.gqlauth.createClient({ endpoint: new String(endpoint) })',
  'endpoint: object with toString': 'u.gqlauth.createClient({ endpoint: { toString: () => endpoint } })',
  'endpoint: empty': 'u.gqlauth.createClient({ endpoint: "" })',
  'endpoint: ftp': 'u.gqlauth.createClient({ endpoint: "ftp://127.0.0.1/graphql" })',
  'endpoint with user:password': 'u.gqlauth.createClient({ endpoint: endpoint.replace("//", "//u:p@") })',
  'endpoint getter throws': 'u.gqlauth.createClient({ get endpoint() { return boom(); } })',
  'one option getter throws (Proxy)': 'u.gqlauth.createClient(new Proxy({ endpoint }, { get: (o, k) => (k === "timeoutMs" ? boom() : o[k]) }))',
  'timeoutMs: 0': 'u.gqlauth.createClient({ endpoint, timeoutMs: 0 })',
  'timeoutMs: -1': 'u.gqlauth.createClient({ endpoint, timeoutMs: -1 })',
  'timeoutMs: Infinity': 'u.gqlauth.createClient({ endpoint, timeoutMs: Infinity })',
  'timeoutMs: "5"': 'u.gqlauth.createClient({ endpoint, timeoutMs: "5" })',
  'timeoutMs: Symbol': 'u.gqlauth.createClient({ endpoint, timeoutMs: Symbol("t") })',
  'maxResponseBytes: 0': 'u.gqlauth.createClient({ endpoint, maxResponseBytes: 0 })',
  'maxResponseBytes: NaN': 'u.gqlauth.createClient({ endpoint, maxResponseBytes: NaN })',
  'maxResponseBytes: BigInt': 'u.gqlauth.createClient({ endpoint, maxResponseBytes: 10n })',
  'allowInsecureHTTP: "yes"': 'u.gqlauth.createClient({ endpoint, allowInsecureHTTP: "yes" })',
  'headers: Authorization': 'u.gqlauth.createClient({ endpoint, headers: { Authorization: "Bearer x" } })',
  'headers: bad name': 'u.gqlauth.createClient({ endpoint, headers: { "bad name": "x" } })',
  'headers: number value': 'u.gqlauth.createClient({ endpoint, headers: { "X-A": 1 } })',
  'headers: LF in value': 'u.gqlauth.createClient({ endpoint, headers: { "X-A": "a\\nb" } })',
  'headers: Proxy that throws': 'u.gqlauth.createClient({ endpoint, headers: trap })',
  'headers: getter throws': 'u.gqlauth.createClient({ endpoint, headers: { get "X-A"() { return boom(); } } })',
  'credentials: "always"': 'u.gqlauth.createClient({ endpoint, credentials: "always" })',
  'wasmURL: {}': 'u.gqlauth.createClient({ endpoint, wasmURL: {} })',

  'login()': 'c.login()',
  'login(null)': 'c.login(null)',
  'login(42)': 'c.login(42)',
  'login(string)': 'c.login(password)',
  'login(Symbol)': 'c.login(Symbol("c"))',
  'login(BigInt)': 'c.login(1n)',
  'login([])': 'c.login([])',
  'login(trap)': 'c.login(trap)',
  'login({})': 'c.login({})',
  'login: password missing': 'c.login({ username })',
  'login: password null': 'c.login({ username, password: null })',
  'login: password String object': 'c.login({ username, password: new String(password) })',
  'login: password object with toString': 'c.login({ username, password: { toString: () => password } })',
  'login: username Symbol': 'c.login({ username: Symbol("u"), password })',
  'login: email BigInt': 'c.login({ email: 1n, password })',
  'login: username getter throws': 'c.login({ get username() { return boom(); }, password })',
  'login: options a string': 'c.login({ username, password }, "fast")',
  'login: signal a string': 'c.login({ username, password }, { signal: "stop" })',
  'login: signal a plain object': 'c.login({ username, password }, { signal: { aborted: false } })',
  'login: signal getter throws': 'c.login({ username, password }, { get signal() { return boom(); } })',
  'login: options Proxy that throws': 'c.login({ username, password }, trap)',

  'fetchWithAuth()': 'c.fetchWithAuth()',
  'fetchWithAuth(null)': 'c.fetchWithAuth(null)',
  'fetchWithAuth(42)': 'c.fetchWithAuth(42)',
  'fetchWithAuth(Symbol)': 'c.fetchWithAuth(Symbol("q"))',
  'fetchWithAuth(BigInt)': 'c.fetchWithAuth(1n)',
  'fetchWithAuth({})': 'c.fetchWithAuth({})',
  'fetchWithAuth("")': 'c.fetchWithAuth("")',
  'fetchWithAuth(String object)': 'c.fetchWithAuth(new String("{ me { id } }"))',
  'fetchWithAuth(trap)': 'c.fetchWithAuth(trap)',
  'variables a string': 'c.fetchWithAuth("{ me { id } }", "{}")',
  'variables a number': 'c.fetchWithAuth("{ me { id } }", 42)',
  'variables an array': 'c.fetchWithAuth("{ me { id } }", [])',
  'variables a Symbol': 'c.fetchWithAuth("{ me { id } }", Symbol("v"))',
  'variables a BigInt': 'c.fetchWithAuth("{ me { id } }", 1n)',
  'variables a function': 'c.fetchWithAuth("{ me { id } }", () => ({}))',
  'variables cyclic': 'c.fetchWithAuth("{ me { id } }", cyclic)',
  'variables hold a BigInt': 'c.fetchWithAuth("{ me { id } }", { n: 1n })',
  'variables toJSON throws': 'c.fetchWithAuth("{ me { id } }", { toJSON: boom })',
  'variables getter throws': 'c.fetchWithAuth("{ me { id } }", { get n() { return boom(); } })',
  'variables Proxy that throws': 'c.fetchWithAuth("{ me { id } }", trap)',
  'fetch options a string': 'c.fetchWithAuth("{ me { id } }", {}, "x")',
  'fetch options a number': 'c.fetchWithAuth("{ me { id } }", {}, 42)',
  'operationName a number': 'c.fetchWithAuth("{ me { id } }", {}, { operationName: 42 })',
  'operationName a Symbol': 'c.fetchWithAuth("{ me { id } }", {}, { operationName: Symbol("o") })',
  'operationName getter throws': 'c.fetchWithAuth("{ me { id } }", {}, { get operationName() { return boom(); } })',
  'fetch signal a plain object': 'c.fetchWithAuth("{ me { id } }", {}, { signal: {} })',
  'fetch options Proxy that throws': 'c.fetchWithAuth("{ me { id } }", {}, trap)',

  'onTokenChange()': 'c.onTokenChange()',
  'onTokenChange(null)': 'c.onTokenChange(null)',
  'onTokenChange(string)': 'c.onTokenChange("alert(1)")',
  'onTokenChange({})': 'c.onTokenChange({ handleEvent() {} })',
  'onTokenChange(Symbol)': 'c.onTokenChange(Symbol("f"))',
  'onTokenChange(trap)': 'c.onTokenChange(trap)',
};

/** Page-side prelude that puts the names INVALID_CALLS use in scope and runs one call by its source. */
async function runCalls(t, endpoint, calls, times = 1) {
  return t.run(async (endpoint, username, password, calls, times) => {
    const u = await import('/e2e-util.js');
    const boom = () => { throw new Error('boom from a hostile getter'); };
    const trap = new Proxy({}, {
      get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom, apply: boom,
    });
    const cyclic = { a: 1 };
    cyclic.self = cyclic;
    const c = u.clients.get('c') || await u.newClient('c', { endpoint });
    if (!c.isAuthenticated()) await c.login({ username, password });
    const fns = Object.entries(calls).map(([name, src]) => [name,
      // eslint-disable-next-line no-new-func
      new Function('u', 'c', 'endpoint', 'username', 'password', 'boom', 'trap', 'cyclic', `return ${src};`)]);
    const wrong = {};
    let n = 0;
    for (let round = 0; round < times; round++) {
      for (const [name, fn] of fns) {
        const res = await u.attempt(() => fn(u, c, endpoint, username, password, boom, trap, cyclic));
        n++;
        if (res.ok || res.error.name !== 'AuthError' || res.error.code !== 'INVALID_ARGUMENT') {
          wrong[name] = res.ok ? 'accepted' : `${res.error.name} ${res.error.code}: ${res.error.message}`;
        } else if (round === 0) {
          u.results.push(res.error);
        }
      }
    }
    const still = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
    return { wrong, n, still, state: u.state('c') };
  }, endpoint, USER.username, PASSWORD, calls, times);
}

describe(`hostile input from JavaScript [${BROWSER}]`, { timeout: 120000 }, () => {
  let api;
  let t;
  pageHooks({ api: {} }, {
    onSuite(s) { api = s.api.api; },
    onPage(p) { t = p; },
  });

  /** No token the server issued, nor the password, is readable by page scripts; nothing was stored. */
  const assertNoLeaks = (clients = ['c']) => assertNothingLeaked(t, [api], { clients, secrets: [PASSWORD] });

  it(`refuses ${Object.keys(INVALID_CALLS).length} kinds of missing, wrong-type, null, Symbol, BigInt, Proxy and throwing-getter arguments to every export with INVALID_ARGUMENT, sending nothing`, async () => {
    const r = await runCalls(t, api.endpoint, INVALID_CALLS);
    assert.deepEqual(r.wrong, {}, 'calls not refused with AuthError INVALID_ARGUMENT');
    assert.equal(r.still.ok, true, 'the module still works');
    assert.equal(r.state.isAuthenticated, true, 'the session survived');
    assert.equal((await api.tokens()).graphqlRequests, 2, 'only the login and the final query were sent');
    await assertNoLeaks();
  });

  it('refuses a fake AbortSignal (an object made from AbortSignal.prototype, whose getters throw) with INVALID_ARGUMENT', async () => {
    const r = await runCalls(t, api.endpoint, {
      'login: signal a fake AbortSignal': 'c.login({ username, password }, { signal: Object.create(AbortSignal.prototype) })',
      'fetchWithAuth: signal a fake AbortSignal': 'c.fetchWithAuth("{ me { id } }", {}, { signal: Object.create(AbortSignal.prototype) })',
    });
    assert.deepEqual(r.wrong, {}, 'calls not refused with AuthError INVALID_ARGUMENT');
    assert.equal(r.still.ok, true);
  });

  it('the getters, logout and close ignore extra hostile arguments, and detached methods throw without harm', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const boom = () => { throw new Error('boom'); };
      const trap = new Proxy({}, { get: boom, has: boom, ownKeys: boom });
      const junk = [trap, Symbol('x'), 1n, null, { get x() { return boom(); } }];
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      const out = {
        tokenExpiresAt: await u.attempt(() => c.tokenExpiresAt(...junk) instanceof Date),
        tokenExpiresIn: await u.attempt(() => c.tokenExpiresIn(...junk) > 0),
        isAuthenticated: await u.attempt(() => c.isAuthenticated(...junk)),
        unsubscribe: await u.attempt(() => { c.onTokenChange(() => {})(...junk); return true; }),
      };
      const other = await u.newClient('other', { endpoint });
      await other.login({ username, password });
      out.logout = await u.attempt(() => { other.logout(...junk); return other.isAuthenticated(); });
      out.close = await u.attempt(() => { other.close(...junk); other.close(); return other.isAuthenticated(); });
      out.afterClose = await u.attempt(() => other.fetchWithAuth('{ me { id } }'));
      // Methods called without their client (e.g. passed as a callback).
      const { fetchWithAuth, isAuthenticated, login } = c;
      out.detachedFetch = await u.attempt(() => fetchWithAuth('{ me { id } }'));
      out.detachedSync = await u.attempt(() => isAuthenticated());
      out.detachedLogin = await u.attempt(() => login.call({}, { username, password }));
      out.still = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      return out;
    }, api.endpoint, USER.username, PASSWORD);
    assert.deepEqual(r.tokenExpiresAt, { ok: true, value: true });
    assert.deepEqual(r.tokenExpiresIn, { ok: true, value: true });
    assert.deepEqual(r.isAuthenticated, { ok: true, value: true });
    assert.deepEqual(r.unsubscribe, { ok: true, value: true });
    assert.deepEqual(r.logout, { ok: true, value: false });
    assert.deepEqual(r.close, { ok: true, value: false });
    assert.equal(r.afterClose.error?.code, 'NOT_AUTHENTICATED');
    // Undocumented: today a plain TypeError, as for any class method that
    // uses private fields. Whatever it becomes, it must not break anything.
    for (const k of ['detachedFetch', 'detachedSync', 'detachedLogin']) {
      assert.ok(r[k].ok || ['TypeError', 'AuthError'].includes(r[k].error.name), `${k}: ${JSON.stringify(r[k])}`);
    }
    assert.equal(r.still.ok, true);
    assert.equal((await api.tokens()).graphqlRequests, 3, 'two logins and the final query');
  });

  it('huge strings (a 10 MB query; 2 MB variables, operationName, username, password, header, endpoint) are refused cleanly and the session survives', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      // 10 MB for the query; 2 MB, still twice what the server accepts, for the rest.
      const huge = 'x'.repeat(10 << 20);
      const big = 'x'.repeat(2 << 20);
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      const out = {};
      out.query = await u.attempt(() => c.fetchWithAuth(`{ me { id } } # ${huge}`));
      out.variables = await u.attempt(() => c.fetchWithAuth('{ me { id } }', { big }));
      out.operationName = await u.attempt(() => c.fetchWithAuth('{ me { id } }', undefined, { operationName: big }));
      out.username = await u.attempt(() => c.login({ username: big, password }));
      out.password = await u.attempt(() => c.login({ username, password: big }));
      out.header = await u.attempt(async () => {
        const d = await u.gqlauth.createClient({ endpoint, headers: { 'X-Big': big } });
        return d.login({ username, password });
      });
      out.endpoint = await u.attempt(async () => {
        const d = await u.gqlauth.createClient({ endpoint: `${endpoint}?${big}` });
        return d.login({ username, password });
      });
      for (const v of Object.values(out)) {
        if (v.error) v.error.message = v.error.message.slice(0, 300);
      }
      const still = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      return { out, still, state: u.state('c') };
    }, api.endpoint, USER.username, PASSWORD);
    // The server takes at most 1 MiB: it answers 413, or (Firefox) cuts the
    // upload short. A header or URL that large never leaves the browser.
    const allowed = {
      query: ['HTTP_ERROR', 'NETWORK_ERROR'],
      variables: ['HTTP_ERROR', 'NETWORK_ERROR'],
      operationName: ['HTTP_ERROR', 'NETWORK_ERROR'],
      username: ['HTTP_ERROR', 'NETWORK_ERROR'],
      password: ['HTTP_ERROR', 'NETWORK_ERROR'],
      header: ['NETWORK_ERROR', 'INVALID_ARGUMENT'],
      endpoint: ['NETWORK_ERROR', 'INVALID_ARGUMENT'],
    };
    for (const [what, codes] of Object.entries(allowed)) {
      const res = r.out[what];
      assert.equal(res.ok, false, what);
      assert.equal(res.error.name, 'AuthError', `${what}: ${JSON.stringify(res.error)}`);
      assert.ok(codes.includes(res.error.code), `${what}: ${res.error.code}`);
      if (res.error.code === 'HTTP_ERROR') assert.equal(res.error.status, 413, what);
    }
    assert.equal(r.still.ok, true, 'the module still works');
    assert.equal(r.state.isAuthenticated, true, 'failed logins did not end the session');
    assert.deepEqual(r.state.events.map((e) => e.reason), ['login', 'rotate']);
    await assertNoLeaks();
  });

  it('re-entrant calls from onTokenChange listeners, a console.warn hook and a fetch wrapper work and never deadlock', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      // A fetch wrapper installed before the module loads (as monitoring
      // libraries do) that calls back into the client while the module is
      // inside fetch.
      let c = null;
      let logoutInsideFetch = false;
      const seenInFetch = [];
      const realFetch = globalThis.fetch;
      globalThis.fetch = function (...args) {
        if (c) {
          seenInFetch.push(c.isAuthenticated());
          if (logoutInsideFetch) { logoutInsideFetch = false; c.logout(); }
        }
        return realFetch.apply(this, args);
      };
      c = await u.newClient('c', { endpoint });
      const seen = [];
      let step = 0;
      const done = new Promise((resolve) => {
        c.onTokenChange((e) => {
          seen.push({ reason: e.reason, auth: c.isAuthenticated(), left: c.tokenExpiresIn() > 0, at: u.ms(c.tokenExpiresAt()) });
          if (e.reason === 'login' && step === 0) {
            step = 1;
            u.pending.set('q1', u.attempt(() => c.fetchWithAuth('{ me { id } }')));
          } else if (e.reason === 'rotate' && step === 1) {
            step = 2;
            c.logout();
            seen.push({ afterLogoutInListener: c.isAuthenticated() });
          } else if (e.reason === 'logout' && step === 2) {
            step = 3;
            u.pending.set('l2', u.attempt(() => c.login({ username, password })));
          } else if (e.reason === 'login' && step === 3) {
            step = 4;
            // Subscribing and unsubscribing during delivery.
            const off = c.onTokenChange(() => seen.push({ lateListener: true }));
            off();
            u.pending.set('q2', u.attempt(() => c.fetchWithAuth('{ me { username } }')));
          } else if (e.reason === 'rotate' && step === 4) {
            step = 5;
            resolve();
          }
        });
      });
      const first = await u.attempt(() => c.login({ username, password }));
      await Promise.race([done, u.sleep(10000)]);
      const q1 = await u.pending.get('q1');
      const l2 = await u.pending.get('l2');
      const q2 = await u.pending.get('q2');

      // A console.warn hook (a log collector) that calls back into the
      // client while the module is warning about an ignored token.
      const realWarn = console.warn;
      const inWarn = [];
      console.warn = function (...args) {
        inWarn.push({ auth: c.isAuthenticated(), at: u.ms(c.tokenExpiresAt()) });
        c.logout();
        return realWarn.apply(this, args);
      };
      let warned;
      try {
        warned = await u.attempt(() => c.fetchWithAuth('{ me { id } }', { __hook: { fault: 'othersub' } }));
      } finally {
        console.warn = realWarn;
      }
      const afterWarn = c.isAuthenticated();

      // logout() called from inside fetch, as the module sends.
      await c.login({ username, password });
      logoutInsideFetch = true;
      const duringFetch = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      await u.sleep(50);
      return {
        first, q1, l2, q2, step, seen, warned, inWarn, afterWarn, duringFetch, seenInFetch,
        state: u.state('c'),
      };
    }, api.endpoint, USER.username, PASSWORD);

    assert.equal(r.step, 5, `the listener chain stopped at step ${r.step}: ${JSON.stringify(r.seen)}`);
    for (const k of ['first', 'q1', 'l2', 'q2']) assert.equal(r[k].ok, true, `${k}: ${JSON.stringify(r[k])}`);
    assert.deepEqual(r.seen.filter((x) => x.reason).slice(0, 5).map((x) => [x.reason, x.auth]),
      [['login', true], ['rotate', true], ['logout', false], ['login', true], ['rotate', true]]);
    assert.ok(r.seen.some((x) => x.afterLogoutInListener === false), 'logout() inside a listener takes effect at once');
    assert.ok(!r.seen.some((x) => x.lateListener), 'a listener added and removed during delivery hears nothing');

    assert.equal(r.warned.ok, true, 'the answer with the ignored token resolves');
    assert.equal(r.inWarn.length, 1);
    assert.equal(r.inWarn[0].auth, true, 'the client answered from inside console.warn');
    assert.equal(r.afterWarn, false, 'logout() from inside console.warn took effect');

    assert.ok(r.duringFetch.ok || r.duringFetch.error.name === 'AuthError', JSON.stringify(r.duringFetch));
    assert.ok(r.seenInFetch.length >= 4 && r.seenInFetch.every((x) => typeof x === 'boolean'));
    assert.equal(r.state.isAuthenticated, false, 'the answer to a request whose fetch logged out installs nothing');
    assert.equal(r.state.events.at(-1).reason, 'logout');
    await assertNoLeaks();
  });

  it('a fetch wrapper (installed before the module) that returns junk: each call rejects with an AuthError, nothing leaks, the module keeps working', async (ctx) => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const modes = ['throws', 'returns a number', 'resolves to {}', 'resolves to {status} only',
      'headers.get throws', 'rejects with a string', 'resolves to a throwing Proxy',
      'arrayBuffer resolves to a string'];
    const r = await t.run(async (endpoint, username, password, modes) => {
      const u = await import('/e2e-util.js');
      let mode = null;
      const realFetch = globalThis.fetch;
      const boom = () => { throw new Error('boom from a hostile fetch'); };
      globalThis.fetch = function (...args) {
        switch (mode) {
          case 'throws': return boom();
          case 'returns a number': return 42;
          case 'resolves to {}': return Promise.resolve({});
          case 'resolves to {status} only': return Promise.resolve({ status: 200 });
          case 'headers.get throws':
            return Promise.resolve({ status: 200, headers: { get: boom }, arrayBuffer: () => Promise.resolve(new ArrayBuffer(2)) });
          case 'rejects with a string': return Promise.reject('nope');
          case 'resolves to a throwing Proxy': return Promise.resolve(new Proxy({}, { get: boom }));
          case 'arrayBuffer resolves to a string':
            return Promise.resolve({ status: 200, headers: new Headers(), arrayBuffer: () => Promise.resolve('xx') });
          default: return realFetch.apply(this, args);
        }
      };
      const c = await u.newClient('c', { endpoint, timeoutMs: 500, wasmURL: '/gqlauth-testhooks.wasm' });
      await c.login({ username, password });
      await c.fetchWithAuth('{ me { id } }');
      const stats = () => u.bridgeStats();
      const baseline = stats();
      const out = {};
      for (const m of modes) {
        mode = m;
        const res = await Promise.race([
          u.attempt(() => c.fetchWithAuth('{ me { id } }')),
          u.sleep(3000).then(() => ({ ok: false, error: { name: 'still pending after 3 s' } })),
        ]);
        mode = null;
        out[m] = { res, auth: c.isAuthenticated(), next: await u.attempt(() => c.fetchWithAuth('{ me { id } }')) };
      }
      await u.sleep(100);
      return { out, baseline, end: stats() };
    }, api.endpoint, USER.username, PASSWORD, modes);

    for (const m of modes) {
      const { res, auth, next } = r.out[m];
      assert.equal(res.ok, false, m);
      assert.equal(res.error.name, 'AuthError', `${m}: ${JSON.stringify(res.error)}`);
      assert.ok(['NETWORK_ERROR', 'BAD_RESPONSE', 'INTERNAL'].includes(res.error.code), `${m}: ${res.error.code}`);
      assert.equal(auth, true, `${m}: the session stays`);
      assert.equal(next.ok, true, `${m}: the next query works`);
    }
    assert.equal(r.end.inFlight, 0, 'no request left open in the module');
    assert.equal(r.end.funcs, r.baseline.funcs, 'no js.Func left behind');
    assert.equal(r.end.goroutines, r.baseline.goroutines, 'no goroutine left behind');
    ctx.diagnostic(modes.map((m) => `${m}: ${r.out[m].res.error.code}`).join('; '));
  });

  it('a fetch whose Response has a throwing getter: the call still settles and nothing leaks', async () => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      let hostile = false;
      const realFetch = globalThis.fetch;
      globalThis.fetch = function (...args) {
        if (hostile) return Promise.resolve({ get status() { throw new Error('boom from a Response getter'); } });
        return realFetch.apply(this, args);
      };
      const c = await u.newClient('c', { endpoint, timeoutMs: 500, wasmURL: '/gqlauth-testhooks.wasm' });
      await c.login({ username, password });
      const stats = () => u.bridgeStats();
      const baseline = stats();
      hostile = true;
      const res = await Promise.race([
        u.attempt(() => c.fetchWithAuth('{ me { id } }')),
        u.sleep(3000).then(() => ({ ok: false, error: { name: 'still pending after 3 s' } })),
      ]);
      hostile = false;
      await u.sleep(100);
      return { res, baseline, end: stats() };
    }, api.endpoint, USER.username, PASSWORD);
    assert.equal(r.res.error?.name, 'AuthError', JSON.stringify(r.res));
    assert.equal(r.end.inFlight, 0, 'no request left open in the module');
    assert.equal(r.end.goroutines, r.baseline.goroutines, 'no goroutine left behind');
  });

  it('a fetch that ignores its AbortSignal and never settles: TIMEOUT at timeoutMs, and nothing is left open', async () => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      let mode = null;
      const realFetch = globalThis.fetch;
      globalThis.fetch = function (...args) {
        if (mode === 'fetch') return new Promise(() => {});
        if (mode === 'body') {
          const never = () => new Promise(() => {});
          return Promise.resolve({ status: 200, headers: new Headers(), body: null, text: never, json: never, arrayBuffer: never });
        }
        return realFetch.apply(this, args);
      };
      const c = await u.newClient('c', { endpoint, timeoutMs: 300, wasmURL: '/gqlauth-testhooks.wasm' });
      await c.login({ username, password });
      const baseline = u.bridgeStats();
      const out = {};
      for (const m of ['fetch', 'body']) {
        mode = m;
        out[m] = await Promise.race([
          u.attempt(() => c.fetchWithAuth('{ me { id } }')),
          u.sleep(2000).then(() => ({ ok: false, error: { name: 'still pending after 2 s' } })),
        ]);
        mode = null;
      }
      await u.sleep(100);
      return { out, baseline, end: u.bridgeStats() };
    }, api.endpoint, USER.username, PASSWORD);
    assert.equal(r.out.fetch.error?.code, 'TIMEOUT', JSON.stringify(r.out.fetch));
    assert.equal(r.out.body.error?.code, 'TIMEOUT', JSON.stringify(r.out.body));
    assert.equal(r.end.funcs, r.baseline.funcs, 'no js.Func left behind');
    assert.equal(r.end.inFlight, 0, 'no request left open in the module');
  });

  it('replacing globalThis.fetch after the module loaded does not let the replacement see requests or the token', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      const seen = [];
      const realFetch = globalThis.fetch;
      globalThis.fetch = function (input, init) {
        seen.push(JSON.stringify(init && init.headers));
        return realFetch.apply(this, arguments);
      };
      try {
        const res = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
        return { res, seen };
      } finally {
        globalThis.fetch = realFetch;
      }
    }, api.endpoint, USER.username, PASSWORD);
    assert.equal(r.res.ok, true);
    assert.deepEqual(r.seen, [], 'the later fetch replacement saw a request');
    assert.equal((await api.tokens()).received.length, 1, 'the request went out, with the token');
  });

  it('forced panics in newClient, beginLogin, finish (of a login), tokenExpiresAt/In, logout and close become INTERNAL errors; the next call works and bridge counts return to baseline', async () => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, wasmURL: '/gqlauth-testhooks.wasm' });
      const hooks = globalThis.__gqlauthTest;
      const stats = () => u.bridgeStats();
      await c.login({ username, password });
      await c.fetchWithAuth('{ me { id } }');
      const other = await u.gqlauth.createClient({ endpoint });
      await other.login({ username, password });
      const baseline = stats();
      // Export name -> a call that runs it. A request is beginLogin or
      // beginFetch, the fetch, then finish (fail when the fetch did not
      // complete: see the next test).
      const calls = {
        newClient: () => u.gqlauth.createClient({ endpoint }).then((x) => x.isAuthenticated()),
        beginLogin: () => c.login({ username, password }).then((x) => x.expiresAt instanceof Date),
        finish: () => c.login({ username, password }).then((x) => x.expiresAt instanceof Date),
        tokenExpiresAt: () => c.tokenExpiresAt() instanceof Date,
        tokenExpiresIn: () => c.tokenExpiresIn() > 0,
        logout: () => { other.logout(); return other.isAuthenticated(); },
        close: () => { other.close(); return other.isAuthenticated(); },
      };
      const out = {};
      for (const [name, call] of Object.entries(calls)) {
        hooks.panicNext(name);
        const forced = await u.attempt(call);
        hooks.panicNext(''); // disarm, in case this build has no export of that name
        const state = { c: c.isAuthenticated(), other: other.isAuthenticated() };
        const again = await u.attempt(call);
        u.results.push(forced);
        out[name] = { forced, state, again };
      }
      const still = await u.attempt(() => c.fetchWithAuth('{ me { username } }'));
      await u.sleep(100);
      return { out, still, baseline, end: stats() };
    }, api.endpoint, USER.username, PASSWORD);

    const wantAgain = {
      newClient: { ok: true, value: false },
      beginLogin: { ok: true, value: true },
      finish: { ok: true, value: true },
      tokenExpiresAt: { ok: true, value: true },
      tokenExpiresIn: { ok: true, value: true },
      logout: { ok: true, value: false },
      close: { ok: true, value: false },
    };
    for (const [name, { forced, state, again }] of Object.entries(r.out)) {
      assert.equal(forced.ok, false, `${name}: the forced panic must fail the call`);
      assert.equal(forced.error.name, 'AuthError', name);
      assert.equal(forced.error.code, 'INTERNAL', `${name}: ${JSON.stringify(forced.error)}`);
      assert.match(forced.error.message, /internal error/, name);
      assert.equal(state.c, true, `${name}: the session survived the panic`);
      assert.deepEqual(again, wantAgain[name], `${name}: the next call works`);
    }
    assert.equal(r.out.logout.state.other, true, 'a logout that panicked did not half-happen');
    assert.equal(r.still.ok, true);
    assert.equal(r.end.inFlight, 0, 'no request left open in the module');
    assert.equal(r.end.funcs, r.baseline.funcs, 'no js.Func is left behind');
    assert.equal(r.end.goroutines, r.baseline.goroutines, 'no goroutine is left behind');
  });

  it('a forced panic in fail (ending a fetch that did not complete) becomes INTERNAL, and nothing is left open', async () => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, wasmURL: '/gqlauth-testhooks.wasm' });
      await c.login({ username, password });
      const baseline = u.bridgeStats();
      const aborted = () => {
        const ac = new AbortController();
        ac.abort();
        return c.fetchWithAuth('{ me { id } }', undefined, { signal: ac.signal });
      };
      globalThis.__gqlauthTest.panicNext('fail');
      const forced = await u.attempt(aborted);
      globalThis.__gqlauthTest.panicNext('');
      const again = await u.attempt(aborted);
      const still = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      await u.sleep(100);
      return { forced, again, still, baseline, end: u.bridgeStats() };
    }, api.endpoint, USER.username, PASSWORD);
    assert.equal(r.forced.error?.code, 'INTERNAL', JSON.stringify(r.forced));
    assert.equal(r.again.error?.code, 'ABORTED');
    assert.equal(r.still.ok, true);
    assert.equal(r.end.inFlight, 0, 'no request left open in the module');
    assert.equal(r.end.funcs, r.baseline.funcs);
  });

  it('after 1000 hostile calls in a row the module still logs in and queries, and bridge counts are back to baseline', async () => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const baseline = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, wasmURL: '/gqlauth-testhooks.wasm' });
      await c.login({ username, password });
      await c.fetchWithAuth('{ me { id } }');
      return u.bridgeStats();
    }, api.endpoint, USER.username, PASSWORD);
    const before = (await api.tokens()).graphqlRequests;
    const kinds = Object.keys(INVALID_CALLS).length;
    const times = Math.ceil(1000 / kinds);
    const r = await runCalls(t, api.endpoint, INVALID_CALLS, times);
    assert.ok(r.n >= 1000, `${r.n} calls`);
    assert.deepEqual(r.wrong, {});
    assert.equal((await api.tokens()).graphqlRequests, before + 1, 'none of them sent anything');
    const end = await t.run(async (username, password) => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      c.logout();
      const login = await u.attempt(() => c.login({ username, password }));
      const query = await u.attempt(() => c.fetchWithAuth('{ me { username } }'));
      await u.sleep(100);
      return { login, query, stats: u.bridgeStats() };
    }, USER.username, PASSWORD);
    assert.equal(end.login.ok, true, JSON.stringify(end.login));
    assert.deepEqual(end.query.value?.data, { me: { username: USER.username } });
    assert.equal(end.stats.inFlight, 0, 'no request left open in the module');
    assert.equal(end.stats.funcs, baseline.funcs, 'no js.Func is left behind');
    assert.equal(end.stats.goroutines, baseline.goroutines, 'no goroutine is left behind');
  });
});
