// Start-up isolation: a script that is in the page before createClient
// settles (an XSS, a compromised dependency loaded first) can neither make
// gqlauth's worker run a module of its choosing, nor wrap the client or the
// connection, nor reach gqlauth's Worker or port through an optional call or
// a setter. Each patch is installed after gqlauth.js is imported, once before
// createClient is called and once while it is under way; the app then logs
// in and queries. The stand-in module (fixtures/standin, built by make
// testbuild) says on the BroadcastChannel "gqlauth-standin" as soon as it
// runs: no test may hear it, and a control test proves it would be heard.
// Nothing the script recorded may hold the password or a token.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BROWSER, PASSWORD, TESTDIST, USER, leaksIn, pageHooks, tokenSecrets } from './harness.mjs';

const STANDIN = path.join(TESTDIST, 'standin.wasm');

/**
 * The patches: each is the source of a function (ctx) => undo, evaluated in
 * the page. ctx has record(value) (keeps every string the value holds),
 * grab(target) (what a script does with a Worker or port it got hold of:
 * posts opens naming the stand-in module in every shape gqlauth's
 * protocols ever had, and records what comes back) and standin {url,
 * module, bytes}.
 */
const PATCHES = {
  'a then getter on WebAssembly.Module.prototype hands back another module': `(ctx) => {
    let swapping = true;
    Object.defineProperty(WebAssembly.Module.prototype, 'then', { configurable: true, get() {
      if (!swapping) return undefined;
      ctx.record('then asked of a WebAssembly.Module');
      return (resolve) => { swapping = false; resolve(ctx.standin.module); swapping = true; };
    } });
    return () => { delete WebAssembly.Module.prototype.then; };
  }`,
  'Promise.prototype.then replaced, to swap the .wasm Response': `(ctx) => {
    const real = Promise.prototype.then;
    Promise.prototype.then = function (onFulfilled, onRejected) {
      return real.call(this, (v) => {
        if (v instanceof Response && /\\.wasm/.test(v.url)) {
          ctx.record('swapped ' + v.url);
          v = new Response(ctx.standin.bytes, { headers: { 'Content-Type': 'application/wasm' } });
        }
        return typeof onFulfilled === 'function' ? onFulfilled(v) : v;
      }, onRejected);
    };
    return () => { Promise.prototype.then = real; };
  }`,
  'a function on Object.prototype named unref (and ref) receives what it is called on': `(ctx) => {
    for (const name of ['unref', 'ref']) {
      Object.defineProperty(Object.prototype, name, { configurable: true, writable: true, value: function () {
        ctx.record(name + ' called on ' + Object.prototype.toString.call(this));
        ctx.grab(this);
      } });
    }
    return () => { delete Object.prototype.unref; delete Object.prototype.ref; };
  }`,
  'a then getter on Object.prototype wraps the connection and the client': `(ctx) => {
    let wrapping = true;
    Object.defineProperty(Object.prototype, 'then', { configurable: true, get() {
      if (!wrapping) return undefined;
      const target = this;
      const gqlauthy = ['request', 'pass', 'login', 'fetchWithAuth'].some((m) => typeof target[m] === 'function') ||
        (target.conn !== null && typeof target.conn === 'object');
      if (!gqlauthy) return undefined;
      ctx.record('then asked of a gqlauth object');
      return (resolve) => {
        wrapping = false;
        resolve(new Proxy(target, { get(t, k) {
          const v = Reflect.get(t, k, t);
          if (typeof v !== 'function') return v;
          return (...args) => { ctx.record(['called ' + String(k), args]); return Reflect.apply(v, t, args); };
        } }));
        wrapping = true;
      };
    } });
    return () => { delete Object.prototype.then; };
  }`,
  'onmessage, onmessageerror and onerror setters grab the Worker and its port': `(ctx) => {
    const undo = [];
    for (const C of [globalThis.Worker, globalThis.SharedWorker, globalThis.MessagePort, globalThis.BroadcastChannel]) {
      if (typeof C !== 'function') continue;
      for (const name of ['onmessage', 'onmessageerror', 'onerror']) {
        let proto = C.prototype;
        let d;
        while (proto && !(d = Object.getOwnPropertyDescriptor(proto, name))) proto = Object.getPrototypeOf(proto);
        if (!d || !d.set) continue;
        const own = Object.getOwnPropertyDescriptor(C.prototype, name);
        Object.defineProperty(C.prototype, name, { configurable: true, get() { return d.get.call(this); }, set(fn) {
          ctx.record(name + ' set on ' + Object.prototype.toString.call(this));
          ctx.grab(this);
          d.set.call(this, fn);
        } });
        undo.push(() => { if (own) Object.defineProperty(C.prototype, name, own); else delete C.prototype[name]; });
      }
    }
    return () => undo.forEach((f) => f());
  }`,
  'EventTarget.prototype.addEventListener wrapped, to grab the channel and read what comes': `(ctx) => {
    const real = EventTarget.prototype.addEventListener;
    const channels = [globalThis.Worker, globalThis.SharedWorker, globalThis.MessagePort].filter((C) => typeof C === 'function');
    EventTarget.prototype.addEventListener = function (type, fn, options) {
      if (channels.some((C) => this instanceof C)) {
        ctx.record('addEventListener ' + type + ' on ' + Object.prototype.toString.call(this));
        ctx.grab(this);
        const inner = fn;
        fn = function (e) { ctx.record(e && e.data); return typeof inner === 'function' ? inner.call(this, e) : inner.handleEvent(e); };
      }
      return real.call(this, type, fn, options);
    };
    return () => { EventTarget.prototype.addEventListener = real; };
  }`,
};

// Runs in the page: sets up the recorder, the stand-in's listener and ctx,
// installs the patch before createClient, or right after it was called,
// then logs in and queries as an app would.
async function scenario(endpoint, username, password, patch, when, share) {
  const u = await import('/e2e-util.js');
  const heard = [];
  const listener = new BroadcastChannel('gqlauth-standin');
  listener.onmessage = ({ data }) => heard.push(String(data));
  const seen = [];
  const reflectApply = Reflect.apply;
  const { push } = Array.prototype;
  let recording = false;
  const record = (v) => {
    if (recording) return;
    recording = true;
    try {
      const decoder = new TextDecoder();
      const visit = (x, depth) => {
        if (x === null || x === undefined || depth > 6) return;
        if (typeof x === 'string') { reflectApply(push, seen, [x]); return; }
        if (x instanceof ArrayBuffer || ArrayBuffer.isView(x)) {
          reflectApply(push, seen, [decoder.decode(x instanceof ArrayBuffer ? x : new Uint8Array(x.buffer, x.byteOffset, x.byteLength))]);
          return;
        }
        if (typeof x !== 'object') { reflectApply(push, seen, [String(x)]); return; }
        for (const s of u.reachableStrings(x, { maxDepth: 6 - depth })) reflectApply(push, seen, [s]);
        for (const k of Reflect.ownKeys(x)) {
          const d = Reflect.getOwnPropertyDescriptor(x, k);
          if (d && 'value' in d && typeof d.value === 'object') visit(d.value, depth + 1);
        }
      };
      visit(v, 0);
    } catch { /* a value that cannot be read */ } finally {
      recording = false;
    }
  };
  const bytes = await (await fetch('/standin.wasm')).arrayBuffer();
  const standin = { url: new URL('/standin.wasm', location.href).href, bytes, module: await WebAssembly.compile(bytes) };
  const grabbed = new Set();
  const ctx = {
    record,
    standin,
    grab(target) {
      if (grabbed.has(target) || typeof target?.postMessage !== 'function') return;
      grabbed.add(target);
      const port = typeof SharedWorker === 'function' && target instanceof SharedWorker ? target.port : target;
      EventTarget.prototype.addEventListener.call(port, 'message', (e) => record(e.data));
      const client = { endpoint };
      for (const m of [
        { id: 'hostile-1', op: 'open', args: [client, standin.url, standin.module, { tab: 'hostile' }] },
        { id: 'hostile-2', op: 'open', args: [{ ...client, wasmURL: standin.url }, { wasmURL: standin.url, module: standin.module }] },
        { op: 'open', id: 'hostile-3', client, wasmURL: standin.url, module: standin.module },
      ]) {
        try { port.postMessage(m); } catch (e) { record('could not post: ' + e); }
      }
    },
  };
  const options = { endpoint, ...(share ? { share: 'tabs' } : {}) };
  let undo = () => {};
  const out = {};
  try {
    let creating;
    if (when === 'before') {
      undo = (0, eval)(`(${patch})`)(ctx);
      creating = u.gqlauth.createClient(options);
    } else {
      creating = u.gqlauth.createClient(options);
      undo = (0, eval)(`(${patch})`)(ctx);
    }
    let c;
    try {
      c = await creating;
      out.created = true;
    } catch (e) {
      out.created = u.describeError(e);
    }
    if (c) {
      out.login = (await u.attempt(() => c.login({ username, password }))).ok;
      const q = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      out.query = q.ok ? q.value.data : q.error;
      out.isClient = Object.prototype.toString.call(c) === '[object GqlauthClient]' && !u.gqlauth.isAuthError(c);
      c.close();
    }
  } finally {
    undo();
  }
  await u.sleep(300); // a module that ran would have said so by now
  listener.close();
  return { out, heard, seen };
}

describe(`start-up: a script present before createClient settles [${BROWSER}]`, { timeout: 300000 }, () => {
  let api;
  let t;
  pageHooks({ api: {} }, {
    onSuite(s) { api = s.api.api; },
    onPage(p) { t = p; },
  });

  it('control: the stand-in module is heard when a worker is told to run it by its own URL', async () => {
    assert.ok(existsSync(STANDIN), `missing ${STANDIN}: run \`make testbuild\``);
    const heard = await t.run(async (endpoint) => {
      const heardList = [];
      const listener = new BroadcastChannel('gqlauth-standin');
      listener.onmessage = ({ data }) => heardList.push(String(data));
      const w = new Worker('/gqlauth.worker.js?wasm=/standin.wasm', { type: 'module', name: 'gqlauth' });
      w.postMessage({ id: 1, op: 'open', args: [{ endpoint }, {}] });
      for (let i = 0; i < 100 && heardList.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      w.terminate();
      listener.close();
      return heardList;
    }, api.endpoint);
    assert.deepEqual(heard, ['the stand-in module ran']);
  });

  const cases = [];
  for (const [name, patch] of Object.entries(PATCHES)) {
    cases.push([name, patch, 'before', false], [name, patch, 'while under way', false]);
  }
  for (const [name, patch] of Object.entries(PATCHES)) cases.push([name, patch, 'before', true]);
  for (const [name, patch, when, share] of cases) {
    it(`${name}: installed ${when === 'before' ? 'before createClient' : 'while createClient is under way'}${share ? ", share: 'tabs'" : ''}`, async () => {
      const r = await t.run(scenario, api.endpoint, USER.username, PASSWORD, patch, when === 'before' ? 'before' : 'during', share);
      assert.equal(r.out.created, true, `createClient: ${JSON.stringify(r.out.created)}`);
      assert.equal(r.out.isClient, true, 'createClient resolved with gqlauth\'s own client, not a wrapper');
      assert.equal(r.out.login, true, 'the app logged in');
      assert.deepEqual(r.out.query, { me: { id: USER.id } }, 'and queried');
      assert.deepEqual(r.heard, [], 'an injected module ran');
      assert.ok(!r.seen.includes('then asked of a gqlauth object'), 'a then of Object.prototype was asked of a gqlauth object');
      const log = await api.tokens();
      assert.ok(log.issued.length >= 2, 'tokens were issued');
      const leaks = leaksIn({ 'what the script recorded': r.seen }, [...tokenSecrets(log.issued.map((x) => x.raw)), PASSWORD]);
      assert.deepEqual(leaks, [], `${r.seen.length} strings recorded, the password or a token among them`);
    });
  }
});
