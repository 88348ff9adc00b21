// gqlauth, the worker side: runs the Go module and serves clients over
// MessagePorts. The token and the password exist only in this realm: every
// request goes out from here with fetch, called by Go, and what goes back
// to a port is results, errors and token events, never a token.
//
// It runs three ways, with one protocol:
//  - as a dedicated module Worker started by gqlauth.js (named "gqlauth");
//  - as a SharedWorker of that name, whose tabs connect to it and share one
//    session per endpoint (createClient's share: 'tabs');
//  - in-process, where the caller is already isolated (inside a Web Worker,
//    or in Node): gqlauth.js imports serve() and talks to it over a
//    MessageChannel.
//
// The protocol. A port sends requests {id, op, args, abortable?}; the
// answer to each is {id, ok: true, value} or {id, ok: false, error: {code,
// message, status?, graphQLErrors?}}. Besides answers, a port receives
// {event: {client, reason, expiresAt, expiresIn, usableFor, cause}} after
// every token change of a client it opened, {warning: message}, and {fatal:
// message} if the module stops. Events and warnings wait for the next answer
// to the port and travel with it, in order, in one message (an array):
// they reach the page before the answer they came before, at the price of
// one message per request instead of two; those that no answer follows go
// out on their own a moment later. Ops (OPS below): open, login, fetch,
// pass, logout and close; and {op: 'abort', id}, which aborts request id,
// if it was sent abortable.
//
// pass streams: its answer is the response's head, and the body follows as
// {stream: id, chunk} messages (each moves its bytes), then {stream: id,
// end: true}, or {stream: id, error} if the body fails; like an answer, the
// end carries the events that came before it.
//
// Causes. Every call a port makes carries the port's tab id (given in its
// first open, else made up here) to the module, which gives it back with the
// events the call causes: a page tells its own changes from another tab's.
//
// What a port may do: use the clients it opened, or the shared sessions it
// attached to, and nothing else. No operation returns a token, whatever a
// port sends: any same-origin script can connect to the SharedWorker and
// use a session, as any script in a page can call fetchWithAuth; none can
// take the token away.
import './wasm_exec.js';

/** The name gqlauth.js gives the worker; only a worker of that name serves on its own. */
export const WORKER_NAME = 'gqlauth';

// What an op returns when it has answered itself (pass): the call stays
// open until its stream ends.
const STREAMING = Symbol('streaming');

// One module instance serves every port of this realm.
let module = null;
// The ports being served, to tell them if the module stops.
const sessions = new Set();
// Shared sessions, by endpoint: the client's handle and the ports attached.
const shared = new Map(); // endpoint -> {handle, ports: Set<PortSession>}

/**
 * Serves the protocol on port (a MessagePort, or anything with postMessage
 * and a message event). The first open loads the module from the wasmURL it
 * names.
 */
export function serve(port) {
  const session = new PortSession(port);
  sessions.add(session);
  port.addEventListener('message', (e) => session.receive(e.data));
  port.start?.();
  return session;
}

let lastTab = 0;

// A port's state: its tab, its requests in flight (for abort) and the
// clients it opened or attached to, with their token-event subscriptions.
class PortSession {
  #port;
  #calls = new Map(); // request id -> its AbortController, or null when it cannot be aborted
  #clients = new Map(); // handle -> unsubscribe
  #outbox = []; // events and warnings that wait for the next answer
  #flushing = false;
  tab = `port-${++lastTab}`; // the cause of its calls, until its page names its tab

  constructor(port) { this.#port = port; }

  receive(msg) {
    if (msg === null || typeof msg !== 'object') return;
    const { id, op, args } = msg;
    if (typeof id !== 'number' && typeof id !== 'string') return;
    if (op === 'abort') { // {op: 'abort', id}: the request id asks to abort
      this.#calls.get(id)?.abort();
      return;
    }
    const run = OPS[op];
    if (typeof run !== 'function' || !Array.isArray(args)) {
      this.#reply(id, failure(invalid(`unknown operation ${String(op).slice(0, 40)}`)));
      return;
    }
    const controller = msg.abortable === true ? new AbortController() : null;
    this.#calls.set(id, controller);
    // Every op may be async; run it and reply once, whatever happens.
    Promise.resolve()
      .then(() => run(this, args, controller?.signal, id))
      .then((value) => ({ ok: true, value }), failure)
      .then((answer) => {
        if (answer.value === STREAMING) return;
        this.#calls.delete(id);
        this.#reply(id, answer);
      });
  }

  /** Answers request id now, and keeps it open for its stream. */
  answer(id, value) { this.#reply(id, { ok: true, value }); }

  /** Sends a piece of request id's body, moving its bytes when it owns them. */
  chunk(id, bytes) {
    this.#flush();
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const chunk = whole ? bytes : bytes.slice();
    this.#port.postMessage({ stream: id, chunk }, [chunk.buffer]);
  }

  /** Ends request id's body, or fails it with error, after the events before it. */
  end(id, error) {
    this.#calls.delete(id);
    const message = error === undefined ? { stream: id, end: true } : { stream: id, error: failure(error).error };
    if (this.#outbox.length === 0) {
      this.#port.postMessage(message);
      return;
    }
    this.#outbox.push(message);
    this.#flush();
  }

  #reply(id, answer) {
    // A response body moves to the page; it is not copied.
    const { value } = answer;
    const transfer = value instanceof ArrayBuffer ? [value] : ArrayBuffer.isView(value) ? [value.buffer] : [];
    const reply = { id, ...answer };
    if (this.#outbox.length === 0) {
      this.#port.postMessage(reply, transfer);
      return;
    }
    this.#outbox.push(reply);
    this.#flush(transfer);
  }

  /** Sends an event or a warning with the next answer, or soon. */
  post(message) {
    this.#outbox.push(message);
    if (this.#flushing) return;
    this.#flushing = true;
    setTimeout(() => this.#flush(), 0);
  }

  #flush(transfer = []) {
    this.#flushing = false;
    if (this.#outbox.length === 0) return;
    const batch = this.#outbox;
    this.#outbox = [];
    this.#port.postMessage(batch.length === 1 ? batch[0] : batch, transfer);
  }

  // The clients this port uses, with the functions that stop their events.
  own(handle, unsubscribe) { this.#clients.set(handle, unsubscribe); }
  owns(handle) { return this.#clients.has(handle); }

  /** Stops using a client: no more of its events; the client itself stays. */
  release(handle) {
    this.#clients.get(handle)?.();
    this.#clients.delete(handle);
  }

  /** Forgets a client that was closed (closing released its subscriptions). */
  forget(handle) { this.#clients.delete(handle); }

  /**
   * Names the port's tab and, in a SharedWorker, watches it: the tab holds
   * the Web Lock named after it for as long as it lives, so this one is
   * granted when the tab is gone (closed, reloaded, crashed), and the port
   * is then let go.
   */
  nameTab(tab) {
    if (this.tab === tab) return;
    this.tab = tab;
    if (isShared() && typeof navigator === 'object' && navigator.locks) {
      navigator.locks.request(`gqlauth-tab:${tab}`, () => this.gone()).catch(() => {});
    }
  }

  /** The port's tab is gone: let go of every client it used. */
  async gone() {
    sessions.delete(this);
    for (const handle of [...this.#clients.keys()]) await letGo(this, handle).catch(() => {});
  }
}

function isShared() {
  return typeof SharedWorkerGlobalScope === 'function' && globalThis instanceof SharedWorkerGlobalScope;
}

// The operations a port may ask for. Each receives the port's session, the
// request's arguments (already copied by postMessage: plain data only) and
// an AbortSignal that fires when the port sends abort for the request.
const OPS = {
  __proto__: null,

  // open(options, wasmURL, compiled?, {share?, tab?}) → {handle, state}: a
  // client for one endpoint. The first open loads the module: compiled, if
  // the page sent it compiled (a WebAssembly.Module), else from wasmURL. (A
  // SharedWorker loads its own: see sharedWasmURL.)
  // With share, a port attaches to the session other ports share for the
  // endpoint, if there is one (its own options are then not used). state is
  // the session's as the port attaches: {expiresAt, expiresIn, usableFor}.
  async open(session, [options, wasmURL, compiled, how]) {
    const b = isShared() ? await loadModule(sharedWasmURL()) : await loadModule(wasmURL, compiled);
    if (typeof how?.tab === 'string' && how.tab !== '') session.nameTab(how.tab.slice(0, 64));
    const key = how?.share === true ? sharedKey(options) : null;
    let handle = shared.get(key)?.handle;
    if (handle === undefined) {
      // A shared session's warnings go to every port attached to it.
      const warn = key === null ? (message) => session.post({ warning: message })
        : (message) => { for (const port of shared.get(key)?.ports ?? []) port.post({ warning: message }); };
      handle = sync(b.newClient(options, warn));
      if (key !== null) shared.set(key, { handle, ports: new Set() });
    }
    try {
      // A second client of one page on the shared session: the page
      // routes the events it already hears to both.
      if (!session.owns(handle)) attach(b, session, handle);
    } catch (e) {
      if (!shared.get(key)?.ports.size) {
        shared.delete(key);
        b.close(handle);
      }
      throw e;
    }
    shared.get(key)?.ports.add(session);
    return {
      handle,
      state: {
        expiresAt: sync(b.tokenExpiresAt(handle)),
        expiresIn: sync(b.tokenExpiresIn(handle)),
        usableFor: sync(b.tokenUsableFor(handle)),
      },
    };
  },

  async login(session, [handle, credentials], signal) {
    return (await bindingFor(session, handle)).login(handle, credentials, { signal, cause: session.tab });
  },

  // fetch(handle, query, variables (JSON text), operationName) → the body.
  async fetch(session, [handle, query, variables, operationName], signal) {
    return (await bindingFor(session, handle)).fetchWithAuth(handle, query, variables,
      { operationName, signal, cause: session.tab });
  },

  // pass(handle, request) → the head of the answer, {status, statusText,
  // headers (JSON text of [name, value] pairs)}; the body follows as a
  // stream (see the protocol above). request is {method, query?, headers?
  // (JSON text of an object), body? (a Uint8Array)}: what the drop-in fetch
  // was given, checked again by the module, which sends it to the client's
  // endpoint only.
  async pass(session, [handle, request], signal, id) {
    const b = await bindingFor(session, handle);
    return new Promise((resolve, reject) => {
      let headed = false;
      b.pass(handle, request, { signal, cause: session.tab },
        (status, statusText, headers) => {
          headed = true;
          session.answer(id, { status, statusText, headers });
          resolve(STREAMING);
        },
        (bytes) => session.chunk(id, bytes))
        .then(() => session.end(id), (e) => (headed ? session.end(id, e) : reject(e)));
    });
  },

  // logout(handle, cause?): cause, a tab whose logout this one follows (the
  // BroadcastChannel fallback), else the port's own tab.
  async logout(session, [handle, cause]) {
    const b = await bindingFor(session, handle);
    sync(b.logout(handle, typeof cause === 'string' && cause !== '' ? cause.slice(0, 64) : session.tab));
  },

  // close(handle): the port stops using the client. A client nobody else
  // uses is closed (logged out, its calls ended); a shared session goes on
  // for the ports still attached.
  async close(session, [handle]) {
    await bindingFor(session, handle);
    await letGo(session, handle);
  },
};

// A shared session's key: its endpoint, as the URL parser writes it.
function sharedKey(options) {
  try {
    return new URL(String(options?.endpoint)).href;
  } catch {
    return null; // newClient says what is wrong with it
  }
}

// Subscribes session to the events of the client with handle.
function attach(b, session, handle) {
  const unsubscribe = sync(b.onTokenChange(handle, (reason, expiresAt, expiresIn, usableFor, cause) => {
    session.post({ event: { client: handle, reason, expiresAt, expiresIn, usableFor, cause } });
  }));
  session.own(handle, unsubscribe);
}

// session stops using the client with handle; the last one to stop closes
// it.
async function letGo(session, handle) {
  const b = await module;
  const entry = [...shared.entries()].find(([, s]) => s.handle === handle);
  if (entry) {
    const [key, s] = entry;
    s.ports.delete(session);
    if (s.ports.size > 0) {
      session.release(handle);
      return;
    }
    shared.delete(key);
  }
  sync(b.close(handle, session.tab)); // its logout event goes out first
  session.forget(handle);
}

// A port may only use the clients it opened or attached to.
async function bindingFor(session, handle) {
  if (!module || !session.owns(handle)) {
    throw Object.assign(new Error('gqlauth: this client is closed; create a new one'), { code: 'NOT_AUTHENTICATED' });
  }
  return module;
}

// The module a SharedWorker runs. It serves every tab of the origin, and
// any same-origin script can connect to it: were the module a port's to
// name, the first to connect would choose the code that holds every tab's
// password and token. So it is the one its own URL names (?wasm=, which the
// page that starts it sets, and which is part of the SharedWorker's
// identity: another URL is another SharedWorker), else the one beside this
// file.
function sharedWasmURL() {
  const own = new URL(import.meta.url);
  const named = own.searchParams.get('wasm');
  return named === null ? new URL('./gqlauth.wasm', import.meta.url).href : new URL(named, own).href;
}

// Loads the module once; a failed load is forgotten, so a later open tries
// again.
function loadModule(wasmURL, compiled) {
  module ??= start(wasmURL, compiled).catch((e) => {
    module = null;
    throw e;
  });
  return module;
}

async function start(wasmURL, compiled) {
  if (typeof wasmURL !== 'string') throw invalid('open needs the module URL');
  const go = new globalThis.Go();
  if (typeof process === 'object' && process !== null && typeof process.versions?.node === 'string') {
    unrefGoTimers(go);
  }
  const binding = {};
  const ready = new Promise((resolve) => { binding.ready = resolve; });
  const key = `__gqlauth_${Math.random().toString(36).slice(2)}`;
  go.argv = ['gqlauth.wasm', key];
  const instance = compiled instanceof WebAssembly.Module
    ? await WebAssembly.instantiate(compiled, go.importObject)
    : (await instantiate(new URL(wasmURL), go.importObject)).instance;
  globalThis[key] = binding; // taken and deleted by the module as it starts
  const exited = go.run(instance).then(() => {
    throw Object.assign(new Error('gqlauth: the WebAssembly module exited'), { code: 'INTERNAL' });
  });
  try {
    await Promise.race([ready, exited]);
  } finally {
    delete globalThis[key];
  }
  delete binding.ready;
  // A module that stops later (a Go runtime crash) takes every client with it.
  exited.catch(() => {
    module = null;
    shared.clear();
    for (const s of sessions) s.post({ fatal: 'the WebAssembly module stopped (see the worker\'s console); create a new client' });
  });
  return binding;
}

async function instantiate(url, imports) {
  if (url.protocol === 'file:') {
    // Node.js: read the module from disk.
    const { readFile } = await import(/* @vite-ignore */ 'node:fs/promises');
    return WebAssembly.instantiate(await readFile(url), imports);
  }
  const response = await fetch(url);
  if (!response.ok) {
    throw Object.assign(new Error(`gqlauth: could not load ${url}: HTTP ${response.status}`),
      { code: 'NETWORK_ERROR', status: response.status });
  }
  if (typeof WebAssembly.instantiateStreaming === 'function' &&
      (response.headers.get('Content-Type') || '').split(';')[0].trim() === 'application/wasm') {
    return WebAssembly.instantiateStreaming(response, imports);
  }
  // Served with the wrong MIME type: compile from the bytes instead.
  return WebAssembly.instantiate(await response.arrayBuffer(), imports);
}

// Node.js: the Go runtime wakes itself with setTimeout (request timeouts, the
// token's expiry check) and does not clear a wake-up when its timer stops, so
// such a timeout would keep the process alive after the app is done. Unref
// them. wasm_exec.js is copied from the same Go release at build time, so the
// names it uses here match.
function unrefGoTimers(go) {
  const gojs = go.importObject.gojs;
  const schedule = gojs['runtime.scheduleTimeoutEvent'];
  if (typeof schedule !== 'function' || !(go._scheduledTimeouts instanceof Map)) return;
  gojs['runtime.scheduleTimeoutEvent'] = (sp) => {
    schedule(sp);
    for (const t of go._scheduledTimeouts.values()) t?.unref?.();
  };
}

// The synchronous exports hand errors back as values; throw them here.
function sync(result) {
  if (result instanceof Error) throw result;
  return result;
}

function invalid(message) {
  return Object.assign(new Error(`gqlauth: ${message}`), { code: 'INVALID_ARGUMENT' });
}

// An error as data that postMessage can carry: the module's errors have
// code, status and graphQLErrors; anything else is INTERNAL.
function failure(e) {
  const error = { code: 'INTERNAL', message: 'gqlauth: internal error' };
  try {
    if (e instanceof Error) {
      error.message = String(e.message);
      if (typeof e.code === 'string') error.code = e.code;
      if (typeof e.status === 'number') error.status = e.status;
      if (e.graphQLErrors !== undefined) error.graphQLErrors = structuredClone(e.graphQLErrors);
    } else {
      error.message = `gqlauth: ${String(e)}`;
    }
  } catch { /* keep what was read */ }
  return { ok: false, error };
}

// Started by gqlauth.js as a worker: serve. A dedicated worker serves its
// one port, the worker itself; a SharedWorker serves each tab that connects.
if (typeof WorkerGlobalScope === 'function' && globalThis instanceof WorkerGlobalScope &&
    globalThis.name === WORKER_NAME) {
  if (isShared()) {
    globalThis.addEventListener('connect', (e) => serve(e.ports[0]));
  } else {
    serve(globalThis);
  }
}
