// Isolation: the module runs in a Worker, and no script of the page can
// reach the token, whatever built-ins it patches after gqlauth loaded (an
// XSS, a compromised dependency). One case per family of built-ins the
// token used to cross when the module ran in the page: after login, a
// script patches the family and records everything that passes through it;
// the app then runs five queries and a second login; nothing the script
// recorded holds a token. A probe after the run proves each patch was live,
// and where gqlauth's own traffic goes through the family, the patch must
// have seen it (results, errors, messages): it saw the session's work, just
// never its token.
//
// Also here: the page's synchronous getters agree with the worker through a
// token's life to expired, events come before the call that caused them
// resolves, gqlauth works under a strict Content-Security-Policy, and it
// refuses to start its worker through a Worker replaced after it loaded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  BROWSER, DIST, FIXTURES, PASSWORD, TESTDIST, TESTHOOKS_WASM, USER, leaksIn, openPage, pageHooks,
  runtimeFailures, secToMs, startServer, tokenSecrets,
} from './harness.mjs';

/**
 * The families: install(record) patches the built-ins and returns the
 * function that restores them; record(value) keeps every string the value
 * holds. probe(record) exercises the patch with the marker; gqlauthUses
 * says whether gqlauth.js's own traffic passes through the family; absent
 * lists what the patch must not have found.
 */
const FAMILIES = {
  'Object.prototype.result setter (where wasm_exec.js put every value Go returned)': {
    install: `(record) => {
      Object.defineProperty(Object.prototype, 'result', { configurable: true, set(v) {
        record(v);
        Object.defineProperty(this, 'result', { value: v, writable: true, enumerable: true, configurable: true });
      } });
      return () => { delete Object.prototype.result; };
    }`,
    probe: `() => { ({}).result = MARKER; }`,
  },
  'wasm_exec.js globals (Go.prototype._resume handed over the whole linear memory)': {
    install: `(record) => {
      record(['Go', 'fs', 'process', 'path'].filter((n) => n in globalThis).map((n) => 'global ' + n));
      if (typeof globalThis.Go === 'function') {
        const resume = Go.prototype._resume;
        Go.prototype._resume = function () { record(new TextDecoder().decode(this._inst.exports.mem.buffer)); return resume.call(this); };
      }
      return () => {};
    }`,
    probe: `(record) => { record(MARKER); }`,
    absent: ['global Go', 'global fs', 'global process', 'global path'],
  },
  'Response.prototype (headers getter, text, json, arrayBuffer)': {
    install: `(record) => {
      const d = Object.getOwnPropertyDescriptor(Response.prototype, 'headers');
      Object.defineProperty(Response.prototype, 'headers', { configurable: true, get() {
        const h = d.get.call(this);
        record([...h]);
        return h;
      } });
      const undo = ['text', 'json', 'arrayBuffer'].map((m) => {
        const orig = Response.prototype[m];
        Response.prototype[m] = function () { return orig.call(this).then((v) => { record(v); return v; }); };
        return () => { Response.prototype[m] = orig; };
      });
      return () => { Object.defineProperty(Response.prototype, 'headers', d); undo.forEach((f) => f()); };
    }`,
    probe: `() => new Response('', { headers: { 'X-Probe': MARKER } }).headers`,
  },
  'TextDecoder.prototype.decode (every Go→JS string went through it)': {
    install: `(record) => {
      const orig = TextDecoder.prototype.decode;
      TextDecoder.prototype.decode = function (...args) { const s = orig.apply(this, args); record(s); return s; };
      return () => { TextDecoder.prototype.decode = orig; };
    }`,
    probe: `() => new TextDecoder().decode(new TextEncoder().encode(MARKER))`,
  },
  'String.prototype methods': {
    install: `(record) => {
      const names = ['trim', 'trimStart', 'trimEnd', 'replace', 'replaceAll', 'split', 'slice', 'substring', 'includes',
        'startsWith', 'endsWith', 'indexOf', 'toLowerCase', 'toUpperCase', 'charCodeAt', 'concat', 'match', 'at', 'padEnd'];
      const undo = names.map((m) => {
        const orig = String.prototype[m];
        String.prototype[m] = function (...args) { record(String(this)); return orig.apply(this, args); };
        return () => { String.prototype[m] = orig; };
      });
      return () => undo.forEach((f) => f());
    }`,
    probe: `() => MARKER.trim()`,
  },
  'Headers.prototype': {
    install: `(record) => {
      const undo = ['get', 'set', 'append', 'has', 'forEach', 'entries', 'values'].map((m) => {
        const orig = Headers.prototype[m];
        Headers.prototype[m] = function (...args) { record(args); const v = orig.apply(this, args); record(v); return v; };
        return () => { Headers.prototype[m] = orig; };
      });
      return () => undo.forEach((f) => f());
    }`,
    probe: `() => new Headers({ 'X-Probe': MARKER }).get('X-Probe')`,
  },
  'JSON.parse and JSON.stringify': {
    install: `(record) => {
      const { parse, stringify } = JSON;
      JSON.parse = function (text, ...rest) { record(text); return parse.call(this, text, ...rest); };
      JSON.stringify = function (...args) { const s = stringify.apply(this, args); record(s); return s; };
      return () => { JSON.parse = parse; JSON.stringify = stringify; };
    }`,
    probe: `() => JSON.parse(JSON.stringify(MARKER))`,
  },
  'Array.prototype.push and join': {
    install: `(record) => {
      const { push, join } = Array.prototype;
      Array.prototype.push = function (...args) { record(args); return push.apply(this, args); };
      Array.prototype.join = function (...args) { const s = join.apply(this, args); record(s); return s; };
      return () => { Array.prototype.push = push; Array.prototype.join = join; };
    }`,
    probe: `() => [MARKER].join()`,
  },
  'MessageEvent.prototype.data (every message from the worker)': {
    install: `(record) => {
      const d = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data');
      Object.defineProperty(MessageEvent.prototype, 'data', { configurable: true, get() {
        const v = d.get.call(this);
        record(v);
        return v;
      } });
      return () => Object.defineProperty(MessageEvent.prototype, 'data', d);
    }`,
    probe: `() => new MessageEvent('message', { data: MARKER }).data`,
    gqlauthUses: true,
  },
  'Worker.prototype.postMessage and MessagePort.prototype.postMessage (every message to the worker)': {
    install: `(record) => {
      const undo = [Worker.prototype, MessagePort.prototype, BroadcastChannel.prototype].map((proto) => {
        const orig = proto.postMessage;
        proto.postMessage = function (...args) { record(args); return orig.apply(this, args); };
        return () => { proto.postMessage = orig; };
      });
      return () => undo.forEach((f) => f());
    }`,
    probe: `() => new MessageChannel().port1.postMessage(MARKER)`,
  },
  'globalThis.fetch (with the responses it returns)': {
    install: `(record) => {
      const orig = globalThis.fetch;
      globalThis.fetch = async function (...args) {
        record(args);
        const res = await orig.apply(this, args);
        record([...res.headers]);
        record(await res.clone().text());
        return res;
      };
      return () => { globalThis.fetch = orig; };
    }`,
    probe: `() => fetch('/index.html', { headers: { 'X-Probe': MARKER } })`,
  },
  'Object.prototype.then getter (consulted on every value a promise resolves with)': {
    install: `(record) => {
      Object.defineProperty(Object.prototype, 'then', { configurable: true, get() { record(this); return undefined; } });
      return () => { delete Object.prototype.then; };
    }`,
    probe: `() => Promise.resolve({ marker: MARKER })`,
    gqlauthUses: true,
  },
  'EventTarget.prototype.addEventListener and dispatchEvent': {
    install: `(record) => {
      const { addEventListener, dispatchEvent } = EventTarget.prototype;
      EventTarget.prototype.addEventListener = function (type, listener, ...rest) {
        const wrapped = typeof listener === 'function' ? function (e) { record(e); return listener.call(this, e); } : listener;
        return addEventListener.call(this, type, wrapped, ...rest);
      };
      EventTarget.prototype.dispatchEvent = function (e) { record(e); return dispatchEvent.call(this, e); };
      return () => { EventTarget.prototype.addEventListener = addEventListener; EventTarget.prototype.dispatchEvent = dispatchEvent; };
    }`,
    probe: `() => new EventTarget().dispatchEvent(new MessageEvent('message', { data: MARKER }))`,
  },
  'console methods': {
    install: `(record) => {
      const undo = ['log', 'info', 'warn', 'error', 'debug'].map((m) => {
        const orig = console[m];
        console[m] = function (...args) { record(args); return orig.apply(this, args); };
        return () => { console[m] = orig; };
      });
      return () => undo.forEach((f) => f());
    }`,
    probe: `() => console.debug(MARKER)`,
  },
  'Function.prototype.call and apply, Reflect.apply': {
    install: `(record) => {
      const { call, apply } = Function.prototype;
      const reflectApply = Reflect.apply;
      let inside = false;
      const spy = (args) => { if (!inside) { inside = true; try { record(args); } finally { inside = false; } } };
      Function.prototype.call = function (...args) { spy(args); return reflectApply(call, this, args); };
      Function.prototype.apply = function (...args) { spy(args); return reflectApply(apply, this, args); };
      Reflect.apply = function (...args) { spy(args); return reflectApply(...args); };
      return () => { Function.prototype.call = call; Function.prototype.apply = apply; Reflect.apply = reflectApply; };
    }`,
    probe: `() => (function () {}).call(null, MARKER)`,
  },
};

const MARKER = 'probe-marker-7f3a';

describe(`isolation: page scripts that patch built-ins after load never see the token [${BROWSER}]`, { timeout: 300000 }, () => {
  let api;
  let t;
  pageHooks({ api: {} }, {
    onSuite(s) { api = s.api.api; },
    onPage(p) { t = p; },
  });

  for (const [family, { install, probe, gqlauthUses, absent = [] }] of Object.entries(FAMILIES)) {
    it(family, async () => {
      await t.run(async (endpoint, username, password) => {
        const u = await import('/e2e-util.js');
        const c = await u.newClient('c', { endpoint });
        await c.login({ username, password });
        await c.fetchWithAuth('{ me { id } }');
      }, api.endpoint, USER.username, PASSWORD);

      // The attacker's script, after load and login: patch, record, let the
      // app work, probe, restore.
      const r = await t.run(async (install, probe, marker, username, password) => {
        const u = await import('/e2e-util.js');
        const c = u.client('c');
        // The recorder keeps strings only, takes nothing from the patched
        // built-ins while it runs, and decodes binary data as text.
        const seen = [];
        const { push } = Array.prototype;
        const decoder = new TextDecoder();
        const { decode } = TextDecoder.prototype;
        const reflectApply = Reflect.apply;
        let recording = false;
        const record = (v) => {
          if (recording) return;
          recording = true;
          try {
            const add = (s) => reflectApply(push, seen, [s]);
            const visit = (x, depth) => {
              if (x === null || x === undefined || depth > 6) return;
              if (typeof x === 'string') { add(x); return; }
              if (x instanceof ArrayBuffer) { add(reflectApply(decode, decoder, [new Uint8Array(x)])); return; }
              if (ArrayBuffer.isView(x)) {
                add(reflectApply(decode, decoder, [new Uint8Array(x.buffer, x.byteOffset, x.byteLength)]));
                return;
              }
              if (typeof x !== 'object' && typeof x !== 'function') { add(String(x)); return; }
              for (const s of u.reachableStrings(x, { maxDepth: 6 - depth })) add(s);
              for (const k of Reflect.ownKeys(x)) {
                const d = Reflect.getOwnPropertyDescriptor(x, k);
                if (d && 'value' in d && typeof d.value === 'object' && d.value !== null) visit(d.value, depth + 1);
              }
            };
            visit(v, 0);
          } catch { /* a value that cannot be read */ } finally {
            recording = false;
          }
        };
        const restore = (0, eval)(`(${install})`)(record);
        const out = {};
        try {
          // The app goes on: five queries, a second login, one more query.
          const runs = [];
          for (const q of ['{ me { id username } }', '{ session { jti issuedAt expiresAt } }', 'query Q { items(first: 2) { totalCount } }',
            '{ me { id noSuchField } }', 'mutation { addItem(name: "isolation") { id } }']) {
            runs.push(await u.attempt(() => c.fetchWithAuth(q)));
          }
          runs.push(await u.attempt(() => c.login({ username, password })));
          runs.push(await u.attempt(() => c.fetchWithAuth('{ me { email } }')));
          out.runs = runs.map((x) => x.ok || x.error.code);
          await u.sleep(50);
          await (0, eval)(`(${probe})`.replaceAll('MARKER', JSON.stringify(marker)))(record);
        } finally {
          restore();
        }
        out.probed = seen.some((s) => s.includes(marker));
        out.sawResults = seen.some((s) => s.includes('isolation') || s.includes('demo@example.com'));
        out.seen = seen;
        return out;
      }, install, probe, MARKER, USER.username, PASSWORD);

      assert.deepEqual(r.runs, [true, true, true, true, true, true, true], 'the app kept working under the patch');
      assert.ok(r.probed, 'the patch was live: the probe went through it');
      if (gqlauthUses) assert.ok(r.sawResults, 'the patch saw gqlauth\'s results go by');
      for (const s of absent) assert.ok(!r.seen.includes(s), `the page has ${s}`);
      const log = await api.tokens();
      assert.ok(log.issued.length >= 9, `tokens were issued and rotated (${log.issued.length})`);
      const leaks = leaksIn({ 'what the patched built-ins saw': r.seen }, tokenSecrets(log.issued.map((x) => x.raw)));
      assert.deepEqual(leaks, [], `${r.seen.length} strings recorded, a token among them`);
    });
  }
});

describe(`isolation: the page's mirror, events, CSP, a replaced Worker [${BROWSER}]`, { timeout: 120000 }, () => {
  const TTL = 6;
  const LEEWAY = 2;
  let api;
  let short;
  let t;
  pageHooks({ api: {}, short: { ttl: `${TTL}s` } }, {
    onSuite(s) { ({ api, short } = s.api); },
    onPage(p) { t = p; },
  });

  it('the page\'s getters agree with the worker through a short token\'s life, to expired and past exp', async () => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const r = await t.run(async (endpoint, username, password, leeway) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, expiryLeewaySeconds: leeway, ...u.TEST_BUILD });
      // Both sides at (nearly) one instant: the page's getters just before
      // and just after the worker answers for its own.
      const compare = async (label) => {
        const page = { isAuthenticated: c.isAuthenticated(), tokenExpiresAt: u.ms(c.tokenExpiresAt()), tokenExpiresIn: c.tokenExpiresIn() };
        const [worker] = await u.workerTest('state');
        const pageAfter = { isAuthenticated: c.isAuthenticated(), tokenExpiresIn: c.tokenExpiresIn() };
        return { label, page, pageAfter, worker };
      };
      const points = [];
      const expired = new Promise((resolve) => {
        c.onTokenChange((e) => {
          if (e.reason === 'expired') resolve({ at: Date.now(), auth: c.isAuthenticated(), expiresAt: e.expiresAt });
        });
      });
      await c.login({ username, password });
      points.push(await compare('after login'));
      await u.sleep(1500);
      points.push(await compare('mid-life'));
      const ev = await expired;
      points.push(await compare('at expired'));
      const refused = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      await u.sleep(leeway * 1000 + 300);
      points.push(await compare('past exp'));
      return { points, ev, refused, events: u.state('c').events };
    }, short.endpoint, USER.username, PASSWORD, LEEWAY);

    const exp = secToMs((await short.tokens()).issued[0].exp);
    for (const { label, page, pageAfter, worker } of r.points) {
      assert.equal(worker.isAuthenticated, page.isAuthenticated, `${label}: isAuthenticated, page ${page.isAuthenticated}, worker ${worker.isAuthenticated}`);
      assert.equal(pageAfter.isAuthenticated, page.isAuthenticated, `${label}: the page did not change its mind`);
      assert.equal(page.tokenExpiresAt, worker.tokenExpiresAt, `${label}: tokenExpiresAt`);
      assert.equal(page.tokenExpiresAt, exp, `${label}: tokenExpiresAt is the server's exp`);
      // The worker's answer was taken between the page's two readings.
      assert.ok(worker.tokenExpiresIn <= page.tokenExpiresIn + 25 && worker.tokenExpiresIn >= pageAfter.tokenExpiresIn - 25,
        `${label}: tokenExpiresIn, page ${page.tokenExpiresIn}..${pageAfter.tokenExpiresIn}, worker ${worker.tokenExpiresIn}`);
    }
    assert.deepEqual(r.points.map((p) => p.page.isAuthenticated), [true, true, false, false]);
    assert.equal(r.ev.auth, false, 'the page says unauthenticated when its listeners hear expired');
    assert.equal(r.ev.expiresAt, null, 'the expired event carries no usable expiry');
    assert.ok(Math.abs(r.ev.at - (exp - LEEWAY * 1000)) < 1000, `expired came ${r.ev.at - (exp - LEEWAY * 1000)} ms from exp minus the leeway`);
    const atExpired = r.points[2];
    assert.ok(atExpired.page.tokenExpiresIn > 0 && atExpired.page.tokenExpiresIn <= LEEWAY * 1000,
      `within the leeway, the time left is still reported (${atExpired.page.tokenExpiresIn} ms)`);
    assert.equal(r.points[3].page.tokenExpiresIn, 0);
    assert.equal(r.refused.error?.code, 'TOKEN_EXPIRED');
    assert.deepEqual(r.events.map((e) => e.reason), ['login', 'expired']);
  });

  it('events arrive after the change and before the call that caused it resolves', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      const order = [];
      c.onTokenChange((e) => order.push(`${e.reason} (authenticated: ${c.isAuthenticated()})`));
      await c.login({ username, password });
      order.push('login resolved');
      await c.fetchWithAuth('{ me { id } }');
      order.push('query resolved');
      c.logout();
      order.push(`logout returned (authenticated: ${c.isAuthenticated()})`);
      await u.sleep(50);
      return order;
    }, api.endpoint, USER.username, PASSWORD);
    assert.deepEqual(r, [
      'login (authenticated: true)', 'login resolved',
      'rotate (authenticated: true)', 'query resolved',
      'logout returned (authenticated: false)', 'logout (authenticated: false)',
    ]);
  });

  it('a setter on Object.prototype.password and a replaced Array iterator, installed after load, never see the password', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      const seen = [];
      const iterator = Array.prototype[Symbol.iterator];
      Object.defineProperty(Object.prototype, 'password', {
        configurable: true,
        set(v) {
          seen.push(String(v));
          Object.defineProperty(this, 'password', { value: v, writable: true, enumerable: true, configurable: true });
        },
      });
      Array.prototype[Symbol.iterator] = function () {
        try { seen.push(JSON.stringify(this)); } catch { /* not JSON */ }
        return iterator.call(this);
      };
      try {
        ({}).password = 'probe-setter';
        [...['probe-iterator']];
        const login = await u.attempt(() => c.login({ username, password }));
        return { login, seen };
      } finally {
        Array.prototype[Symbol.iterator] = iterator;
        delete Object.prototype.password;
      }
    }, api.endpoint, USER.username, PASSWORD);
    assert.equal(r.login.ok, true, JSON.stringify(r.login));
    assert.ok(r.seen.includes('probe-setter') && r.seen.some((s) => s.includes('probe-iterator')), 'the patches were live');
    assert.deepEqual(r.seen.filter((s) => s.includes(PASSWORD)), [], 'a patch saw the password');
  });

  // Patches, made after gqlauth loaded, that would start another worker (or
  // load another module) to receive the password: each returns its undo.
  const PATCHES = {
    'globalThis.Worker replaced': (made) => {
      const real = globalThis.Worker;
      globalThis.Worker = class extends real {
        constructor(...args) { super(...args); made.push(String(args[0])); }
      };
      return () => { globalThis.Worker = real; };
    },
    'a getter on globalThis.Worker that gives a check the real one and the next read another': (made) => {
      const d = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
      let reads = 0;
      const fake = class extends d.value {
        constructor(...args) { super(...args); made.push(String(args[0])); }
      };
      Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => (++reads === 1 ? d.value : fake) });
      return () => Object.defineProperty(globalThis, 'Worker', d);
    },
    'globalThis.URL replaced': (made) => {
      const real = globalThis.URL;
      globalThis.URL = class extends real {
        constructor(...args) { super(...args); made.push(String(args[0])); }
      };
      return () => { globalThis.URL = real; };
    },
    'URL.prototype.toString replaced': (made) => {
      const real = URL.prototype.toString;
      URL.prototype.toString = function () { made.push('toString'); return real.call(this); };
      return () => { URL.prototype.toString = real; };
    },
    'Symbol.toPrimitive on Object.prototype': (made) => {
      Object.prototype[Symbol.toPrimitive] = function () { made.push('toPrimitive'); return String(this.href); };
      return () => { delete Object.prototype[Symbol.toPrimitive]; };
    },
  };
  for (const [name, patch] of Object.entries(PATCHES)) {
    it(`refuses to start its worker after a script patched what names it: ${name}`, async () => {
      const r = await t.run(async (endpoint, patch) => {
        const u = await import('/e2e-util.js');
        const made = [];
        const undo = (0, eval)(`(${patch})`)(made);
        try {
          const res = await u.attempt(() => u.gqlauth.createClient({ endpoint }));
          return { res, made };
        } finally {
          undo();
        }
      }, api.endpoint, patch.toString());
      assert.equal(r.res.error?.code, 'INTERNAL', JSON.stringify(r.res));
      assert.match(r.res.error.message, /was replaced after gqlauth loaded/);
      assert.deepEqual(r.made, [], 'the patch was used');
    });
  }
});

describe(`isolation: under a strict Content-Security-Policy [${BROWSER}]`, { timeout: 60000 }, () => {
  // No inline script, no eval; wasm may be compiled; workers and requests
  // only from the page's origin and the API on loopback.
  const policy = (worker) => [
    "default-src 'none'", "script-src 'self' 'wasm-unsafe-eval'", `worker-src ${worker}`,
    "connect-src 'self' http://127.0.0.1:*", 'img-src data:', "base-uri 'none'", "frame-ancestors 'none'",
  ].join('; ');
  let browser;
  let servers = [];

  before(async () => {
    const { launchBrowser } = await import('./harness.mjs');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  async function pageUnder(csp) {
    const dirs = [DIST, FIXTURES];
    if (existsSync(TESTDIST)) dirs.push(TESTDIST);
    const site = await startServer({ staticDirs: dirs, csp, testHooks: false });
    const pageOrigin = `http://localhost:${site.port}`;
    const api = await startServer({ origins: [pageOrigin] });
    servers.push(site, api);
    const t = await openPage({ browser, pageURL: `${pageOrigin}/index.html` });
    return { t, api };
  }

  it("works with worker-src 'self' and script-src 'self' 'wasm-unsafe-eval'", async () => {
    const { t, api } = await pageUnder(policy("'self'"));
    try {
      const r = await t.run(async (endpoint, username, password) => {
        const u = await import('/e2e-util.js');
        const c = await u.newClient('c', { endpoint });
        await c.login({ username, password });
        return u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      }, api.endpoint, USER.username, PASSWORD);
      assert.deepEqual(r.value?.data, { me: { id: USER.id } }, JSON.stringify(r));
      assert.deepEqual(await runtimeFailures(t), []);
    } finally {
      await t.close();
    }
  });

  it("without worker-src for the worker, createClient rejects with an AuthError that names the policy", async () => {
    const { t, api } = await pageUnder(policy("'none'"));
    try {
      const r = await t.run(async (endpoint) => {
        const u = await import('/e2e-util.js');
        return u.attempt(() => u.gqlauth.createClient({ endpoint }));
      }, api.endpoint);
      assert.equal(r.ok, false);
      assert.equal(r.error.name, 'AuthError', JSON.stringify(r.error));
      assert.equal(r.error.code, 'INTERNAL');
      assert.match(r.error.message, /worker/i);
    } finally {
      await t.close();
    }
  });
});
