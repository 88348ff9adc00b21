// Hostile input from JavaScript: every method with missing, wrong, huge and
// booby-trapped arguments, re-entrant calls from listeners and hooks, a
// page fetch wrapper, forced panics in the module's exports, and a thousand
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
  'workerURL: 42': 'u.gqlauth.createClient({ endpoint, workerURL: 42 })',

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

  it('re-entrant calls from onTokenChange listeners and a console.warn hook work and never deadlock', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
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

      // logout() called as soon as the request is on its way.
      await c.login({ username, password });
      const sending = u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      c.logout();
      const duringFetch = await sending;
      await u.sleep(50);
      return {
        first, q1, l2, q2, step, seen, warned, inWarn, afterWarn, duringFetch,
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
    assert.equal(r.state.isAuthenticated, false, 'the answer to a request overtaken by logout() installs nothing');
    assert.equal(r.state.events.at(-1).reason, 'logout');
    await assertNoLeaks();
  });

  it('a fetch wrapper installed before gqlauth loaded (as monitoring libraries do) sees none of its requests: the worker sends them', async () => {
    // (How the module copes with a fetch that returns junk, throws, ignores
    // its signal or never settles is tested in Go, in jsbridge's browser
    // tests, where fetch can be replaced inside the module's own realm.)
    const r = await t.run(async (endpoint, username, password) => {
      const seen = [];
      const realFetch = globalThis.fetch;
      globalThis.fetch = function (input, init) {
        seen.push(String(input));
        return realFetch.apply(this, arguments);
      };
      try {
        const u = await import('/e2e-util.js'); // gqlauth.js loads now, after the wrapper
        const c = await u.newClient('c', { endpoint });
        await c.login({ username, password });
        const res = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
        return { res, seen: seen.filter((url) => url.includes('/graphql')) };
      } finally {
        globalThis.fetch = realFetch;
      }
    }, api.endpoint, USER.username, PASSWORD);
    assert.equal(r.res.ok, true);
    assert.deepEqual(r.seen, [], 'the page\'s fetch saw a gqlauth request');
    const log = await api.tokens();
    assert.equal(log.graphqlRequests, 2, 'the login and the query went out');
    assert.equal(log.received.length, 1, 'the query carried the token');
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

  it('forced panics in open, login (the export that begins it, and the head of its answer), logout and close become INTERNAL errors; the next call works and no call is left behind', async () => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, ...u.TEST_BUILD });
      await c.login({ username, password });
      await c.fetchWithAuth('{ me { id } }');
      // Every client made here is closed at the end, before the counts.
      const made = [];
      const make = async () => { const x = await u.gqlauth.createClient({ endpoint }); made.push(x); return x; };
      let other = await make();
      await other.login({ username, password });
      const baseline = await u.bridgeStats();
      const errors = [];
      const realError = console.error;
      console.error = (...args) => { errors.push(args.map(String).join(' ')); };
      // Export name -> a call that runs it. createClient runs open; a
      // login's answer comes back through head; logout() and close() return
      // nothing and report a failure in the worker on the console.
      const calls = {
        open: () => make().then((x) => x.isAuthenticated()),
        login: () => c.login({ username, password }).then((x) => x.expiresAt instanceof Date),
        head: () => c.login({ username, password }).then((x) => x.expiresAt instanceof Date),
        logout: async () => { other.logout(); await u.sleep(100); return other.isAuthenticated(); },
        close: async () => { other.close(); await u.sleep(100); return other.isAuthenticated(); },
      };
      const out = {};
      try {
        for (const [name, call] of Object.entries(calls)) {
          errors.length = 0;
          const clientsBefore = (await u.workerTest('state')).length;
          await u.workerTest('panicNext', name);
          const forced = await u.attempt(call);
          await u.workerTest('panicNext', ''); // disarm, in case the call did not reach the export
          const clientsAfter = (await u.workerTest('state')).length;
          const consoleErrors = [...errors];
          if (name === 'logout' || name === 'close') {
            other = await make();
            await other.login({ username, password });
          }
          const clientsBeforeAgain = (await u.workerTest('state')).length;
          const again = await u.attempt(call);
          // What the worker says, not the page's mirror: the logout or the
          // close really happened there.
          const worker = name === 'logout' ? (await u.attempt(() => other.fetchWithAuth('{ me { id } }'))).error?.code
            : name === 'close' ? clientsBeforeAgain - (await u.workerTest('state')).length : undefined;
          u.results.push(forced);
          out[name] = { forced, consoleErrors, c: c.isAuthenticated(), newClients: clientsAfter - clientsBefore, again, worker };
        }
      } finally {
        console.error = realError;
      }
      for (const x of made) x.close();
      const still = await u.attempt(() => c.fetchWithAuth('{ me { username } }'));
      await u.sleep(100);
      return { out, still, baseline, end: await u.bridgeStats() };
    }, api.endpoint, USER.username, PASSWORD);

    const internal = (e) => e && e.name === 'AuthError' && e.code === 'INTERNAL' && /internal error/.test(e.message);
    for (const name of ['open', 'login', 'head']) {
      const { forced, c, again } = r.out[name];
      assert.ok(!forced.ok && internal(forced.error), `${name}: ${JSON.stringify(forced)}`);
      assert.equal(c, true, `${name}: the session survived the panic`);
      assert.equal(again.ok, true, `${name}: the next call works: ${JSON.stringify(again)}`);
    }
    for (const name of ['logout', 'close']) {
      const { consoleErrors, again } = r.out[name];
      assert.ok(consoleErrors.some((e) => e.includes(`${name}() failed in the worker`) && e.includes('internal error')),
        `${name}: the failure is reported: ${JSON.stringify(consoleErrors)}`);
      assert.deepEqual(again, { ok: true, value: false }, `${name}: the next call works`);
    }
    assert.equal(r.out.logout.worker, 'NOT_AUTHENTICATED', 'the next logout() logged out in the worker');
    assert.equal(r.out.close.worker, 1, 'the next close() closed the client in the worker');
    assert.equal(r.still.ok, true);
    assert.equal(r.out.open.newClients, 0, 'a createClient whose open panicked left no client in the worker');
    assert.equal(r.end.inFlight, 0, 'no request left open in the module');
    assert.equal(r.end.goroutines, r.baseline.goroutines, 'no goroutine is left behind');
  });

  it('a forced panic as the answer to a login comes still wipes the password from the module\'s memory', async () => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const secret = `pw-${Math.random().toString(36).slice(2)}-never-kept`;
    const r = await t.run(async (endpoint, username, password, secret) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, ...u.TEST_BUILD });
      await c.login({ username, password });
      await u.workerTest('panicNext', 'head');
      const forced = await u.attempt(() => c.login({ username, password: secret }));
      await u.sleep(50);
      return { forced, copies: await u.workerTest('memoryHas', secret), still: await u.attempt(() => c.fetchWithAuth('{ me { id } }')) };
    }, api.endpoint, USER.username, PASSWORD, secret);
    assert.equal(r.forced.error?.code, 'INTERNAL', JSON.stringify(r.forced));
    assert.equal(r.copies, 0, 'a copy of the password is left in the module\'s memory');
    assert.equal(r.still.ok, true);
  });

  it('after 1000 hostile calls in a row the module still logs in and queries, and bridge counts are back to baseline', async () => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const baseline = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, ...u.TEST_BUILD });
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
      return { login, query, stats: await u.bridgeStats() };
    }, USER.username, PASSWORD);
    assert.equal(end.login.ok, true, JSON.stringify(end.login));
    assert.deepEqual(end.query.value?.data, { me: { username: USER.username } });
    assert.equal(end.stats.inFlight, 0, 'no request left open in the module');
    assert.equal(end.stats.goroutines, baseline.goroutines, 'no goroutine is left behind');
  });
});
