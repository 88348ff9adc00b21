// gqlauth: log in to a JWT-protected GraphQL API from a Go/WebAssembly module
// that keeps the token where page scripts cannot reach it (gqlauth.d.ts: the
// API; protocol.js: what crosses to the worker). In a page the module runs in
// a Worker, or with share: 'tabs' a SharedWorker every tab shares (a
// BroadcastChannel carries logouts where there is none); in a Web Worker or
// Node, in-process. This file starts it, forwards calls as named records, and
// mirrors what is not secret (expiry, usability) from every reply and event
// so that the getters answer at once. It checks only what cannot cross (a
// signal, values JSON cannot hold, a Request's URL): the module judges.
import { KIND, OP, WORKER_NAME } from './protocol.js';

/** The codes of AuthError, in the order of the Go list (wasm/client/errors.go). */
const CODES = new Set([
  'INVALID_ARGUMENT', 'INSECURE_ENDPOINT', 'NOT_AUTHENTICATED', 'TOKEN_EXPIRED',
  'LOGIN_FAILED', 'TOKEN_HEADER_MISSING', 'TOKEN_MALFORMED', 'UNAUTHORIZED',
  'HTTP_ERROR', 'BAD_RESPONSE', 'NETWORK_ERROR', 'TIMEOUT', 'ABORTED', 'INTERNAL',
]);

const BRAND = Symbol.for('gqlauth.AuthError');

/** The error every gqlauth call rejects with. */
export class AuthError extends Error {
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuthError';
    this.code = CODES.has(options.code) ? options.code : 'INTERNAL';
    if (options.status !== undefined) this.status = options.status;
    if (options.graphQLErrors !== undefined) this.graphQLErrors = options.graphQLErrors;
  }

  get [BRAND]() { return true; }
}

Object.freeze(AuthError);
Object.freeze(AuthError.prototype);

/** Reports whether e is an AuthError, also one from another realm (iframe, worker copy). */
export function isAuthError(e) {
  return e instanceof AuthError || (typeof e === 'object' && e !== null && e[BRAND] === true);
}

const invalid = (message, cause) => new AuthError(`gqlauth: ${message}`, { code: 'INVALID_ARGUMENT', cause });

// Built-ins taken as this file loads: a script that replaces them later sees
// nothing that passes through (the password), nor gqlauth's Worker or port.
const apply = Reflect.apply;
const { parse, stringify } = JSON;
const { defineProperty, getOwnPropertyDescriptor: ownProperty } = Object;
const WorkerClass = globalThis.Worker;
const SharedWorkerClass = globalThis.SharedWorker;
const BroadcastChannelClass = globalThis.BroadcastChannel;
const locks = globalThis.navigator?.locks;
const requestLock = locks?.request;
const postToChannel = BroadcastChannelClass?.prototype.postMessage;
const postToWorker = WorkerClass?.prototype.postMessage;
const postToPort = globalThis.MessagePort?.prototype.postMessage;
const startPort = globalThis.MessagePort?.prototype.start;
const portOf = SharedWorkerClass && ownProperty(SharedWorkerClass.prototype, 'port')?.get;
const { addEventListener: addListener, removeEventListener: removeListener } = globalThis.EventTarget?.prototype ?? {};
const preventDefault = globalThis.Event?.prototype.preventDefault;
const decoder = new TextDecoder();
const decode = TextDecoder.prototype.decode;
const { Request: RequestClass, Response: ResponseClass, Headers: HeadersClass, ReadableStream: ReadableStreamClass } = globalThis;
const URLClass = URL;
const hrefOf = ownProperty(URLClass.prototype, 'href').get;
const urlToString = URLClass.prototype.toString;
const now = () => performance.now();
const listen = (target, type, fn, options) => apply(addListener, target, [type, fn, options]);
const unlisten = (target, type, fn) => apply(removeListener, target, [type, fn]);

const IN_PAGE = typeof Window === 'function' && globalThis instanceof Window;

// This tab's Web Lock name, which tells the SharedWorker it lives (redrawn if
// another script takes the lock); one connection per kind, promised and made.
let TAB = randomTab();
const connections = { __proto__: null, dedicated: null, shared: null };
const live = { __proto__: null, dedicated: null, shared: null };

const CLIENT_OPTIONS = ['endpoint', 'expiryLeewaySeconds', 'timeoutMs', 'allowInsecureHTTP', 'credentials', 'maxResponseBytes'];

/**
 * Creates a client for one GraphQL endpoint. The first call starts the
 * worker and loads the module; later calls share them.
 */
export async function createClient(options) {
  if (typeof options !== 'object' || options === null) throw invalid('createClient needs an options object with an endpoint');
  const record = { __proto__: null };
  for (const name of CLIENT_OPTIONS) record[name] = option(options, name);
  for (const name of ['headers', 'keepAlive', 'refusalCodes']) record[name] = copy(option(options, name), `options.${name}`);
  const share = option(options, 'share');
  if (share !== undefined && share !== 'tabs') throw invalid("share must be 'tabs' when given");
  const wasmURL = location(option(options, 'wasmURL'), 'wasmURL');
  const workerURL = location(option(options, 'workerURL'), 'workerURL');
  const sharing = share !== 'tabs' || !IN_PAGE ? 'none' : typeof SharedWorkerClass === 'function' ? 'tabs' : 'broadcast';
  const kind = sharing === 'tabs' ? 'shared' : 'dedicated';
  const text = json(record, 'options');
  checkURLs();
  if (connections[kind] === null) {
    const connecting = connect(kind, workerURL, wasmURL);
    connections[kind] = connecting;
    connecting.catch(() => { if (connections[kind] === connecting) connections[kind] = null; });
  }
  const { conn } = await connections[kind];
  const { value, state } = await conn.request({ op: OP.open, options: text, share: sharing === 'tabs', tab: TAB });
  return new Client(conn, value.client, state, sharing, record.endpoint);
}

// obj[name], read once; a getter or Proxy that throws is INVALID_ARGUMENT.
function option(obj, name, what = 'options') {
  try {
    return obj[name];
  } catch (e) {
    throw invalid(`reading ${what}.${name} threw`, e);
  }
}

// A copy of an object option, own members only, without a prototype.
function copy(v, what) {
  if (v === null || typeof v !== 'object') return v;
  const out = Array.isArray(v) ? [] : { __proto__: null };
  let names;
  try { names = Object.keys(v); } catch (e) { throw invalid(`${what} cannot be read`, e); }
  for (const name of names) out[name] = option(v, name, what);
  return out;
}

// A record as JSON text for the module. A member of a record (or a copied
// option) that JSON would change or drop (a function, a Symbol, NaN, a String
// object) goes as a list, which the module refuses naming the member.
function json(v, what) {
  try {
    return apply(stringify, JSON, [v, faithful]);
  } catch (e) {
    throw invalid(`${what} cannot be sent as JSON (a BigInt, a cycle, or a getter that throws)`, e);
  }
}

function faithful(key, v) {
  if (Object.getPrototypeOf(this) !== null) return v; // the app's own values (variables) go as JSON takes them
  const type = typeof v;
  const changed = type === 'function' || type === 'symbol' || (type === 'number' && !Number.isFinite(v)) ||
    v instanceof String || v instanceof Number || v instanceof Boolean;
  return changed ? [`not JSON: ${type}`] : v;
}

// A location option as an absolute URL: relative to the page, or this file.
function location(v, what) {
  if (v === undefined) return undefined;
  if (v instanceof URLClass) return apply(hrefOf, v, []);
  if (typeof v === 'string') return apply(hrefOf, new URLClass(v, globalThis.location?.href ?? import.meta.url), []);
  throw invalid(`${what} must be a string or a URL`);
}

// The worker that gets the password is named with the globals the bundler
// pattern is written with (new Worker(new URL(...))): just before use, these
// must still be the built-ins taken at load, as plain values (not getters).
function checkUntouched(name, builtin, on = globalThis) {
  const d = apply(ownProperty, Object, [on, name]);
  const untouched = builtin === undefined ? d === undefined
    : d !== undefined && d.get === undefined && d.set === undefined && d.value === builtin;
  if (!untouched) {
    throw new AuthError(`gqlauth: ${typeof name === 'string' ? name : String(name)} was replaced after gqlauth loaded; ` +
      'it will not start its worker through it', { code: 'INTERNAL' });
  }
}

function checkURLs() {
  checkUntouched('URL', URLClass);
  checkUntouched('toString', urlToString, URLClass.prototype);
  for (const on of [URLClass.prototype, Object.prototype]) checkUntouched(Symbol.toPrimitive, undefined, on);
}

// Starts the worker side; resolves to {conn} in a record without a prototype
// (no then of Object.prototype is asked for it). The module is the one the
// worker's own URL names (?wasm=), never one a message names.
async function connect(kind, workerURL, wasmURL) {
  if (!IN_PAGE) {
    const { serve } = await import('./gqlauth.worker.js');
    const channel = new MessageChannel();
    serve(channel.port2, wasmURL);
    channel.port2.unref?.(); // Node: an idle client does not keep the process alive
    return { __proto__: null, conn: new Connection(channel.port1, postToPort) };
  }
  if (kind === 'shared') await holdTabLock();
  checkURLs();
  checkUntouched(kind === 'shared' ? 'SharedWorker' : 'Worker', kind === 'shared' ? SharedWorkerClass : WorkerClass);
  const options = { type: 'module', name: WORKER_NAME };
  let worker;
  try {
    if (wasmURL !== undefined) {
      // (Not the bundler pattern: a bundler would emit the worker unbundled
      // for it. Bundled apps that name a wasmURL name the workerURL too.)
      const base = workerURL ?? apply(hrefOf, new URLClass('./gqlauth.worker.js', import.meta.url), []);
      const url = `${base}${base.includes('?') ? '&' : '?'}wasm=${encodeURIComponent(wasmURL)}`;
      worker = kind === 'shared' ? new SharedWorker(url, options) : new Worker(url, options);
    } else if (kind === 'shared') { // written out in full, so that bundlers see the worker and emit it
      worker = workerURL === undefined ? new SharedWorker(new URL('./gqlauth.worker.js', import.meta.url), { type: 'module', name: 'gqlauth' })
        : new SharedWorker(workerURL, options);
    } else {
      worker = workerURL === undefined ? new Worker(new URL('./gqlauth.worker.js', import.meta.url), { type: 'module', name: 'gqlauth' })
        : new Worker(workerURL, options);
    }
  } catch (e) {
    throw new AuthError(`gqlauth: the worker could not be started (${describe(e)}); ` +
      "a Content-Security-Policy must allow it (worker-src 'self')", { code: 'INTERNAL', cause: e });
  }
  const conn = kind === 'shared' ? new Connection(apply(portOf, worker, []), postToPort, worker) : new Connection(worker, postToWorker, worker);
  live[kind] = conn;
  return { __proto__: null, conn };
}

// Holds this tab's Web Lock for its life; the SharedWorker gets it when the
// tab is gone. Should another script take it ({steal: true}), the tab lets go
// of the shared session too; the next createClient attaches under a new one.
let tabLock = null;
function holdTabLock() {
  if (typeof requestLock !== 'function') return Promise.resolve();
  tabLock ??= new Promise((held) => {
    let granted = false;
    apply(requestLock, locks, [`gqlauth-tab:${TAB}`, () => {
      granted = true;
      held();
      return new Promise(() => {}); // never released: the tab's end releases it
    }]).catch(() => {
      held();
      if (!granted) return;
      tabLock = null;
      TAB = randomTab();
      live.shared?.lost('gqlauth: another script took this tab\'s lock on the shared session; create a new client', 'remote');
    });
  });
  return tabLock;
}

function randomTab() {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return `tab-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The page's end of the protocol: numbered requests, their replies, the events of its clients. */
class Connection {
  #port;
  #post;
  #next = 0;
  #pending = new Map(); // id -> {resolve, reject, body?: {controller, failed}}
  #clients = new Map(); // handle -> Set of deliver functions
  #broken = null;

  constructor(port, post, worker) {
    this.#port = port;
    this.#post = post;
    listen(port, 'message', (e) => this.#receive(e.data));
    listen(port, 'messageerror', () => this.lost('gqlauth: a message from the gqlauth worker could not be read'));
    if (worker) {
      listen(worker, 'error', (e) => {
        apply(preventDefault, e, []);
        this.lost(`gqlauth: the gqlauth worker failed: ${e.message || 'it could not be loaded (check workerURL and the server)'}`);
      });
    }
    if (port !== worker) apply(startPort, port, []);
    if (!IN_PAGE) port.unref?.(); // Node: an idle client does not keep the process alive
  }

  // Sends msg (moving transfer); resolves with {value, body, state, stream}
  // without a prototype; signal aborts it. With stream, the reply is a head
  // and the body follows into a ReadableStream.
  request(msg, signal, transfer = [], stream = false) {
    if (this.#broken !== null) return Promise.reject(this.#broken());
    if (signal?.aborted) return Promise.reject(new AuthError('gqlauth: the request was aborted by its signal', { code: 'ABORTED' }));
    const id = ++this.#next;
    msg.id = id;
    return new Promise((resolve, reject) => {
      // Before the reply, an abort comes back as the reply (ABORTED); after
      // it, a streamed body fails with the signal's reason.
      const onAbort = () => {
        if (p.headed) {
          p.body.fail(signal.reason);
          p.done();
        }
        if (this.#broken === null) this.#send({ op: OP.abort, id });
      };
      const p = {
        resolve, reject, headed: false,
        done: () => {
          if (signal) unlisten(signal, 'abort', onAbort);
          this.#pending.delete(id);
          if (this.#pending.size === 0 && !IN_PAGE) this.#port.unref?.();
        },
      };
      if (stream) {
        p.body = { failed: undefined };
        p.body.stream = new ReadableStreamClass({
          start: (c) => { p.body.controller = c; },
          cancel: () => { p.done(); this.#send({ op: OP.abort, id }); },
        });
        p.body.fail = (e) => { p.body.failed = e; p.body.controller.error(e); };
      }
      this.#pending.set(id, p);
      if (!IN_PAGE) this.#port.ref?.(); // Node: a request under way keeps the process alive
      if (signal) listen(signal, 'abort', onAbort, { once: true });
      try {
        this.#send(msg, transfer);
      } catch (e) { // postMessage could not copy an argument
        p.done();
        reject(invalid(`${msg.op}: an argument cannot be sent to the worker (${describe(e)})`, e));
      }
    });
  }

  #send(message, transfer = []) { apply(this.#post, this.#port, [message, transfer]); }

  /** Routes the events of client handle to deliver (clients of a page may share a handle). */
  attach(handle, deliver) {
    if (!this.#clients.has(handle)) this.#clients.set(handle, new Set());
    this.#clients.get(handle).add(deliver);
  }

  detach(handle, deliver) {
    this.#clients.get(handle)?.delete(deliver);
    if (this.#clients.get(handle)?.size === 0) this.#clients.delete(handle);
  }

  /** How many clients of this page use client handle. */
  listening(handle) { return this.#clients.get(handle)?.size ?? 0; }

  #receive(msg) {
    if (this.#broken !== null) return; // let go: nothing the worker sends counts any more
    if (Array.isArray(msg)) {
      for (const m of msg) this.#receive(m);
      return;
    }
    const p = this.#pending.get(msg?.id);
    switch (msg?.kind) {
      case KIND.event:
        for (const deliver of this.#clients.get(msg.client) ?? []) deliver(msg);
        return;
      case KIND.warning:
        console.warn(msg.message);
        return;
      case KIND.fatal:
        this.lost(msg.message, msg.cause);
        return;
      case KIND.reply:
        if (!p) return;
        if (!msg.ok || !p.body) p.done();
        else p.headed = true;
        if (msg.ok) p.resolve({ __proto__: null, value: msg.value, body: msg.body, state: msg.state, stream: p.body });
        else p.reject(authError(msg.error, msg.body));
        return;
      case KIND.chunk:
        p?.body?.controller.enqueue(msg.bytes instanceof Uint8Array ? msg.bytes : new Uint8Array(msg.bytes));
        return;
      case KIND.end:
        if (!p?.body) return;
        p.done();
        if (msg.error) p.body.fail(authError(msg.error));
        else p.body.controller.close();
    }
  }

  // The worker is gone, or let this page go (cause 'remote'): every call
  // fails, every client hears a logout; the next createClient reconnects.
  lost(reason, cause = 'local') {
    if (this.#broken !== null) return;
    this.#broken = () => new AuthError(reason, { code: cause === 'remote' ? 'NOT_AUTHENTICATED' : 'INTERNAL' });
    for (const kind of ['dedicated', 'shared']) if (live[kind] === this) connections[kind] = live[kind] = null;
    for (const p of [...this.#pending.values()]) {
      p.done();
      p.reject(this.#broken());
      p.body?.fail(this.#broken());
    }
    for (const delivers of this.#clients.values()) {
      for (const deliver of delivers) deliver({ reason: 'logout', cause, state: { expiresAt: null, expiresIn: 0, usableFor: 0 } });
    }
    console.error(reason);
  }
}

// An error record's AuthError; graphQLErrors from the body that holds them.
function authError(e, body) {
  let graphQLErrors;
  if (body !== undefined) {
    try { graphQLErrors = apply(parse, JSON, [apply(decode, decoder, [body])]).errors; } catch { /* not JSON */ }
  }
  return new AuthError(String(e?.message ?? 'gqlauth: internal error'), { code: e?.code, status: e?.status, graphQLErrors });
}

/** A session with one endpoint: the handle of its client in the worker, and a mirror of its public state. */
class Client {
  #conn;
  #handle;
  #sharing;
  #endpoint; // as the URL parser reads it, or undefined where it cannot
  #deliver = (event) => this.#receive(event);
  #channel = null; // sharing 'broadcast': where logouts go to and come from
  #listeners = new Set();
  #closed = false;
  #logouts = 0; // logout() calls the worker has not answered yet
  // The mirror: exp (ms since the epoch, or null); on this realm's clock, when
  // it passes and when the token stops being usable.
  #expiresAt = null;
  #deadline = 0;
  #usableUntil = 0;

  constructor(conn, handle, state, sharing, endpoint) {
    thenless(this); // createClient resolves with it: no script may wrap it on the way
    this.#conn = conn;
    this.#handle = handle;
    this.#sharing = sharing;
    try { this.#endpoint = new URLClass(endpoint); } catch { /* the module took it: fetch says so */ }
    this.#mirror(state);
    conn.attach(handle, this.#deliver);
    if (sharing === 'broadcast') { // no SharedWorker: a logout in one tab logs the others out
      this.#channel = new BroadcastChannelClass(`gqlauth-logout:${this.#endpoint?.href ?? endpoint}`);
      listen(this.#channel, 'message', ({ data }) => {
        if (typeof data?.tab === 'string' && data.tab !== TAB) this.#logout(true);
      });
    }
  }

  /** How this client's session is shared between tabs: 'tabs', 'broadcast' or 'none'. */
  get sharing() { return this.#sharing; }

  #mirror(state) {
    if (this.#logouts > 0 || !state) return; // what came before a logout does not bring the token back
    const at = now();
    this.#expiresAt = typeof state.expiresAt === 'number' ? state.expiresAt : null;
    this.#deadline = at + (Number(state.expiresIn) || 0);
    this.#usableUntil = at + (Number(state.usableFor) || 0);
  }

  // An event: update the mirror, then tell the listeners in a microtask.
  #receive({ reason, cause, state }) {
    if (this.#closed && this.#listeners.size === 0) return;
    this.#mirror(state);
    const event = Object.freeze({
      reason, cause, expiresAt: reason === 'expired' || typeof state?.expiresAt !== 'number' ? null : new Date(state.expiresAt),
    });
    const listeners = [...this.#listeners];
    queueMicrotask(() => {
      for (const cb of listeners) {
        try { cb(event); } catch (e) { reportError(e); }
      }
    });
  }

  // A request of this client (of none once closed: the module says so).
  async #request(msg, signal, transfer, stream) {
    msg.client = this.#closed ? 0 : this.#handle;
    const reply = await this.#conn.request(msg, signal, transfer, stream);
    this.#mirror(reply.state);
    return reply;
  }

  async login(credentials, opts) {
    const signal = signalOf(opts);
    if (credentials === null || typeof credentials !== 'object') throw invalid('login needs {username or email, password}');
    const record = { __proto__: null }; // no setter or toJSON of Object.prototype sees the password
    for (const name of ['username', 'email', 'password']) record[name] = option(credentials, name, 'credentials');
    const { body, state } = await this.#request({ op: OP.login, record: json(record, 'credentials') }, signal);
    return thenless({ user: bodyOf(body).data.loginUser, expiresAt: new Date(state.expiresAt) });
  }

  async fetchWithAuth(query, variables, opts) {
    const o = copy(opts, 'options') ?? {};
    const signal = signalOf(o);
    const record = json({ __proto__: null, query, variables, operationName: o.operationName }, 'variables');
    const { data = null, errors, extensions } = bodyOf((await this.#request({ op: OP.fetchWithAuth, record }, signal)).body);
    const result = { data };
    if (errors !== undefined) result.errors = errors;
    if (extensions !== undefined) result.extensions = extensions;
    return thenless(result);
  }

  /** fetch for GraphQL libraries: to the endpoint, from the worker, with the token. */
  fetch = (input, init) => this.#fetch(input, init);

  async #fetch(input, init) {
    let request;
    try {
      request = new RequestClass(input, init); // as fetch reads its arguments
    } catch (e) {
      throw invalid(`fetch: ${describe(e)}`, e);
    }
    const { method, signal } = request;
    const url = new URLClass(request.url);
    const endpoint = this.#endpoint;
    if (!endpoint || url.origin !== endpoint.origin || url.pathname !== endpoint.pathname || (method !== 'GET' && url.search !== endpoint.search)) {
      throw invalid(`fetch sends only to the client's endpoint, ${endpoint?.origin}${endpoint?.pathname}, not to ${url.origin}${url.pathname}`);
    }
    const headers = { __proto__: null };
    for (const [name, value] of request.headers) headers[name] = value;
    if (signal.aborted) throw signal.reason;
    const body = method === 'GET' || method === 'HEAD' ? undefined : new Uint8Array(await request.arrayBuffer());
    const record = json({ __proto__: null, method, query: method === 'GET' ? url.search : undefined, headers }, 'the request');
    let head;
    try {
      head = await this.#request({ op: OP.fetch, record, body }, signal, body ? [body.buffer] : [], true);
    } catch (e) {
      throw signal.aborted ? signal.reason : e;
    }
    const { status, statusText, headers: list } = head.value;
    const noBody = status === 204 || status === 205 || status === 304;
    if (noBody) head.stream.stream.cancel().catch(() => {});
    return new PassedResponse(noBody ? null : head.stream.stream, { status, statusText, headers: new HeadersClass(list) }, () => head.stream.failed);
  }

  tokenExpiresAt() { return this.#expiresAt === null || this.#closed ? null : new Date(this.#expiresAt); }

  tokenExpiresIn() { return this.#expiresAt === null || this.#closed ? 0 : Math.max(0, Math.round(this.#deadline - now())); }

  isAuthenticated() { return this.#expiresAt !== null && !this.#closed && now() < this.#usableUntil; }

  onTokenChange(cb) {
    if (typeof cb !== 'function') throw invalid('onTokenChange needs a function');
    const entry = (e) => cb(e); // a fresh entry, so one callback may subscribe twice
    this.#listeners.add(entry);
    return () => { this.#listeners.delete(entry); };
  }

  logout() {
    if (this.#closed) return;
    if (this.#channel) apply(postToChannel, this.#channel, [{ tab: TAB }]);
    this.#logout(false);
  }

  // Logs out: for this tab, or, remote, following another tab's logout.
  #logout(remote) {
    this.#forget();
    this.#logouts++;
    this.#conn.request({ op: OP.logout, client: this.#handle, remote })
      .catch(reportFailure('logout')).finally(() => { this.#logouts--; });
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#forget();
    this.#channel?.close();
    if (this.#conn.listening(this.#handle) > 1) { // another client of this page uses the shared session
      this.#conn.detach(this.#handle, this.#deliver);
      this.#listeners.clear();
      return;
    }
    // The listeners hear the close's logout event, if it logs out, then nothing more.
    this.#conn.request({ op: OP.close, client: this.#handle }).catch(reportFailure('close')).finally(() => {
      this.#listeners.clear();
      this.#conn.detach(this.#handle, this.#deliver);
    });
  }

  #forget() { this.#expiresAt = null; this.#deadline = this.#usableUntil = 0; }

  get [Symbol.toStringTag]() { return 'GqlauthClient'; }
}

// client.fetch's Response: its body readers fail with the AuthError that
// ended the body, where some browsers give a plain Response a bare TypeError.
const PassedResponse = ResponseClass && class PassedResponse extends ResponseClass {
  #failure;

  constructor(body, init, failure) {
    super(body, init);
    this.#failure = failure;
    thenless(this);
  }

  clone() {
    return new PassedResponse(super.clone().body, { status: this.status, statusText: this.statusText, headers: this.headers }, this.#failure);
  }

  async #read(read) {
    try {
      return await read();
    } catch (e) {
      throw this.#failure() ?? e;
    }
  }

  arrayBuffer() { return this.#read(() => super.arrayBuffer()); }
  blob() { return this.#read(() => super.blob()); }
  bytes() { return this.#read(() => super.bytes()); }
  formData() { return this.#read(() => super.formData()); }
  json() { return this.#read(() => super.json()); }
  text() { return this.#read(() => super.text()); }
};

// An own then, not enumerated: resolving with o asks none of Object.prototype.
function thenless(o) {
  defineProperty(o, 'then', { value: undefined });
  return o;
}

// The GraphQL response the module judged and passed on.
function bodyOf(body) {
  try {
    return apply(parse, JSON, [apply(decode, decoder, [body])]);
  } catch (e) {
    throw new AuthError('gqlauth: the response is not JSON', { code: 'BAD_RESPONSE', cause: e });
  }
}

// A call's signal, which cannot cross to the worker (instanceof alone would
// take Object.create(AbortSignal.prototype), whose getters throw).
function signalOf(opts) {
  if (opts !== undefined && opts !== null && typeof opts !== 'object') throw invalid('options must be an object');
  const signal = opts == null ? undefined : option(opts, 'signal');
  if (signal === undefined || signal === null) return undefined;
  try {
    if (signal instanceof AbortSignal && typeof signal.aborted === 'boolean') return signal;
  } catch { /* a forged signal */ }
  throw invalid('signal must be an AbortSignal');
}

// A short description of a thrown value that cannot itself throw.
function describe(e) {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } catch {
    return 'an exception that cannot be shown';
  }
}

function reportFailure(what) {
  return (e) => console.error(`gqlauth: ${what}() failed in the worker:`, e);
}

function reportError(e) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
  else setTimeout(() => { throw e; });
}
