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
// Causes. Every call a port makes carries the port's own id, made up here,
// to the module, which gives it back with the events the call causes; each
// port is then told 'local' for its own changes, 'remote' for another's,
// 'expiry' or 'keep-alive'. A port never names a cause (a logout that
// follows another tab's, in the BroadcastChannel fallback, says only
// 'remote').
//
// Limits. A port opens at most MAX_CLIENTS_PER_PORT clients, and the worker
// holds at most MAX_CLIENTS; the module bounds every string and body it is
// given before it allocates. Should the module still stop, every port hears
// {fatal}, and the next open starts a fresh one.
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

/** How many clients one port may open, and the worker hold in all. */
export const MAX_CLIENTS_PER_PORT = 16;
export const MAX_CLIENTS = 256;

// One module instance serves every port of this realm.
let module = null;
// The clients open in it, by handle.
const opened = new Set();
// The ports being served, to tell them if the module stops.
const sessions = new Set();
// Shared sessions, by endpoint: the client's handle and the ports attached.
const shared = new Map(); // endpoint -> {handle, ports: Set<PortSession>}

/**
 * Serves the protocol on port (a MessagePort, or anything with postMessage
 * and a message event). The first open loads the module: the one this
 * worker's own URL names, else wasmURL (in-process: the app's option, never
 * a message's), else the one beside this file.
 */
export function serve(port, wasmURL) {
  const session = new PortSession(port, wasmURL);
  sessions.add(session);
  port.addEventListener('message', (e) => session.receive(e.data));
  port.start?.();
  return session;
}

let lastPort = 0;

// A port's state: its id and tab, its requests in flight (for abort) and
// the clients it opened or attached to, with their token-event
// subscriptions.
class PortSession {
  #port;
  #calls = new Map(); // request id -> its AbortController, or null when it cannot be aborted
  #clients = new Map(); // handle -> unsubscribe
  #outbox = []; // events and warnings that wait for the next answer
  #flushing = false;
  id = `port-${++lastPort}`; // the cause its calls give the module
  tab = null; // the tab its page named, whose lock tells when it is gone
  wasmURL; // in-process: the module the app named

  constructor(port, wasmURL) {
    this.#port = port;
    this.wasmURL = wasmURL;
  }

  /** How many clients the port uses. */
  get clients() { return this.#clients.size; }

  /** The cause of a change, as this port is told it. */
  causeOf(cause) {
    if (cause === this.id) return 'local';
    return cause === '' ? 'expiry' : cause === 'keep-alive' ? 'keep-alive' : 'remote';
  }

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
    if (this.tab !== null) return;
    this.tab = tab;
    if (isShared() && typeof navigator === 'object' && navigator.locks) {
      navigator.locks.request(`gqlauth-tab:${tab}`, () => this.gone()).catch(() => {});
    }
  }

  /**
   * The port's tab is gone, or another script took its lock: let go of
   * every client it used, and say so, should the tab still be there.
   */
  async gone() {
    sessions.delete(this);
    for (const handle of [...this.#clients.keys()]) await letGo(this, handle).catch(() => {});
    this.post({ detached: 'this tab was let go of the shared session (its lock was taken); create a new client' });
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

  // open(options, {share?, tab?}) → {handle, state}: a client for one
  // endpoint. The first open loads the module (see ownWasmURL).
  // With share, a port attaches to the session other ports share for the
  // endpoint, if there is one (its own options are then not used). state is
  // the session's as the port attaches: {expiresAt, expiresIn, usableFor}.
  async open(session, [options, how]) {
    const b = await loadModule(ownWasmURL(session));
    if (typeof how?.tab === 'string' && how.tab !== '') session.nameTab(how.tab.slice(0, 64));
    const key = how?.share === true ? sharedKey(options) : null;
    let handle = shared.get(key)?.handle;
    if (session.clients >= MAX_CLIENTS_PER_PORT) {
      throw invalid(`a page may open at most ${MAX_CLIENTS_PER_PORT} clients at once; close() the ones it no longer uses`);
    }
    if (handle === undefined && opened.size >= MAX_CLIENTS) {
      throw invalid(`the gqlauth worker holds at most ${MAX_CLIENTS} clients at once`);
    }
    if (handle === undefined) {
      // A shared session's warnings go to every port attached to it.
      const warn = key === null ? (message) => session.post({ warning: message })
        : (message) => { for (const port of shared.get(key)?.ports ?? []) port.post({ warning: message }); };
      handle = sync(b.newClient(options, warn));
      opened.add(handle);
      if (key !== null) shared.set(key, { handle, ports: new Set() });
    }
    try {
      // A second client of one page on the shared session: the page
      // routes the events it already hears to both.
      if (!session.owns(handle)) attach(b, session, handle);
    } catch (e) {
      if (!shared.get(key)?.ports.size) {
        shared.delete(key);
        opened.delete(handle);
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
    return (await bindingFor(session, handle)).login(handle, credentials, { signal, cause: session.id });
  },

  // fetch(handle, query, variables (JSON text), operationName) → the body.
  async fetch(session, [handle, query, variables, operationName], signal) {
    return (await bindingFor(session, handle)).fetchWithAuth(handle, query, variables,
      { operationName, signal, cause: session.id });
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
      b.pass(handle, request, { signal, cause: session.id },
        (status, statusText, headers) => {
          headed = true;
          session.answer(id, { status, statusText, headers });
          resolve(STREAMING);
        },
        (bytes) => session.chunk(id, bytes))
        .then(() => session.end(id), (e) => (headed ? session.end(id, e) : reject(e)));
    });
  },

  // logout(handle, 'remote'?): 'remote' when the page follows another
  // tab's logout (the BroadcastChannel fallback).
  async logout(session, [handle, remote]) {
    const b = await bindingFor(session, handle);
    sync(b.logout(handle, remote === 'remote' ? 'remote' : session.id));
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
    session.post({ event: { client: handle, reason, expiresAt, expiresIn, usableFor, cause: session.causeOf(cause) } });
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
  opened.delete(handle);
  sync(b.close(handle, session.id)); // its logout event goes out first
  session.forget(handle);
}

// A port may only use the clients it opened or attached to.
async function bindingFor(session, handle) {
  if (!module || !session.owns(handle)) {
    throw Object.assign(new Error('gqlauth: this client is closed; create a new one'), { code: 'NOT_AUTHENTICATED' });
  }
  return module;
}

// The module this worker runs, which gets every password and token it
// holds: never one a message names (a script in the page, or any
// same-origin script that connects to a SharedWorker, could send one). In a
// worker, it is the one the worker's own URL names (?wasm=, which the page
// sets as it starts the worker, and which, for a SharedWorker, is part of
// its identity: another URL is another SharedWorker); in-process, the app's
// wasmURL (see serve); else the one beside this file.
function ownWasmURL(session) {
  return session.wasmURL ?? new URL('./gqlauth.wasm', import.meta.url).href;
}

// The module named in this worker's own URL, if any.
function namedInOwnURL() {
  const own = new URL(globalThis.location.href);
  const named = own.searchParams.get('wasm');
  return named === null ? undefined : new URL(named, own).href;
}

// Loads the module once; a failed load is forgotten, so a later open tries
// again.
function loadModule(wasmURL) {
  module ??= start(wasmURL).catch((e) => {
    module = null;
    throw e;
  });
  return module;
}

async function start(wasmURL) {
  const go = new globalThis.Go();
  if (typeof process === 'object' && process !== null && typeof process.versions?.node === 'string') {
    unrefGoTimers(go);
  }
  const binding = {};
  const ready = new Promise((resolve) => { binding.ready = resolve; });
  const key = `__gqlauth_${Math.random().toString(36).slice(2)}`;
  go.argv = ['gqlauth.wasm', key];
  const { instance } = await instantiate(new URL(wasmURL), go.importObject);
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
    opened.clear();
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
  const wasmURL = namedInOwnURL();
  if (isShared()) {
    globalThis.addEventListener('connect', (e) => serve(e.ports[0], wasmURL));
  } else {
    serve(globalThis, wasmURL);
  }
}
