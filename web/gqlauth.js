// gqlauth: log in to a JWT-protected GraphQL API from a Go/WebAssembly module
// that keeps the token where page scripts cannot reach it. See gqlauth.d.ts
// for the API.
//
// In a page, the module runs in a dedicated Worker (gqlauth.worker.js), or,
// with share: 'tabs', in a SharedWorker whose session every tab of the
// origin shares: this file starts it, forwards calls, and keeps a mirror of
// what is not secret (expiry, whether a token is usable) so that the getters
// answer at once. No message from the worker carries a token. Where there is
// no SharedWorker, each tab has its own worker and a logout reaches the
// others through a BroadcastChannel. Inside a Web Worker, or in Node, the
// caller is already isolated: the worker side runs in-process, over a
// MessageChannel, with the same protocol.

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

// Built-ins taken when this file is evaluated, so that a script that
// replaces them later does not see what passes through them (the password,
// on its way to the worker).
const apply = Reflect.apply;
const WorkerClass = globalThis.Worker;
const SharedWorkerClass = globalThis.SharedWorker;
const BroadcastChannelClass = globalThis.BroadcastChannel;
const MessageChannelClass = globalThis.MessageChannel;
const locks = globalThis.navigator?.locks;
const requestLock = locks?.request;
const postToChannel = BroadcastChannelClass?.prototype.postMessage;
const postToWorker = WorkerClass?.prototype.postMessage;
const postToPort = globalThis.MessagePort?.prototype.postMessage;
const parseJSON = JSON.parse;
const stringify = JSON.stringify;
const decoder = new TextDecoder();
const decode = TextDecoder.prototype.decode;
const now = () => performance.now();
const fetchAtLoad = globalThis.fetch;
const RequestClass = globalThis.Request;
const ResponseClass = globalThis.Response;
const HeadersClass = globalThis.Headers;
const ReadableStreamClass = globalThis.ReadableStream;
const URLClass = URL;
const ownProperty = Object.getOwnPropertyDescriptor;
const portOf = SharedWorkerClass && ownProperty(SharedWorkerClass.prototype, 'port')?.get;
const hrefOf = ownProperty(URLClass.prototype, 'href').get;
const urlToString = URLClass.prototype.toString;
const indexOf = String.prototype.indexOf;
const encode = encodeURIComponent;
const defineProperty = Object.defineProperty;
// Listeners go on the worker, its port and channels through the built-ins
// taken here: a setter or an addEventListener put in place later never
// sees gqlauth's Worker or port.
const EventTargetProto = globalThis.EventTarget?.prototype;
const addListener = EventTargetProto?.addEventListener;
const removeListener = EventTargetProto?.removeEventListener;
const startPort = globalThis.MessagePort?.prototype.start;
const preventDefault = globalThis.Event?.prototype.preventDefault;
const listen = (target, type, fn, options) => apply(addListener, target, [type, fn, options]);
const unlisten = (target, type, fn) => apply(removeListener, target, [type, fn]);

// In a page, the module runs in a worker; anywhere else (a worker, Node) the
// caller's realm is already isolated from pages, and it runs in-process.
const IN_PAGE = typeof Window === 'function' && globalThis instanceof Window;

// This realm's tab, with share: 'tabs': the name of the Web Lock that tells
// the SharedWorker it lives. A new one is drawn if another script takes the
// lock.
let TAB = randomTab();

// One connection (one worker, one module instance) serves every client of
// this realm, and one more, to the SharedWorker, every shared one.
const connections = { __proto__: null, dedicated: null, shared: null };
// The same connections, once made.
const live = { __proto__: null, dedicated: null, shared: null };

/**
 * Creates a client for one GraphQL endpoint. The first call starts the
 * worker and loads the module; later calls share them.
 */
export async function createClient(options) {
  if (typeof options !== 'object' || options === null) {
    throw invalid('createClient needs an options object with an endpoint');
  }
  const settings = readOptions(options);
  const sharing = settings.share !== 'tabs' || !IN_PAGE ? 'none' : typeof SharedWorkerClass === 'function' ? 'tabs' : 'broadcast';
  const kind = sharing === 'tabs' ? 'shared' : 'dedicated';
  if (connections[kind] === null) {
    const connecting = connect(kind, settings.workerURL, settings.namedWasmURL);
    connections[kind] = connecting;
    connecting.catch(() => { if (connections[kind] === connecting) connections[kind] = null; });
  }
  const { conn } = await connections[kind];
  const { value: opened } = await conn.request('open', [settings.client, { share: sharing === 'tabs', tab: TAB }]);
  return new Client(conn, opened, sharing, settings.client.endpoint);
}

// The options, read once through getters that may throw, as plain data the
// worker can receive. The module checks them (types, ranges, the endpoint).
function readOptions(options) {
  const share = option(options, 'share');
  if (share !== undefined && share !== 'tabs') throw invalid("share must be 'tabs' when given");
  const client = {};
  for (const name of ['endpoint', 'expiryLeewaySeconds', 'timeoutMs', 'allowInsecureHTTP', 'credentials', 'maxResponseBytes']) {
    const v = option(options, name);
    if (v !== undefined) client[name] = cloneable(v, `options.${name}`);
  }
  const headers = option(options, 'headers');
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object') throw invalid('headers must be an object of strings');
    client.headers = {};
    let names;
    try { names = Object.keys(headers); } catch (e) { throw invalid('headers cannot be read', e); }
    for (const name of names) client.headers[name] = cloneable(option(headers, name, 'headers'), `headers.${name}`);
  }
  const refusalCodes = option(options, 'refusalCodes');
  if (refusalCodes !== undefined && refusalCodes !== null) {
    if (!Array.isArray(refusalCodes)) throw invalid('refusalCodes must be a list of strings');
    client.refusalCodes = [];
    for (let i = 0; i < refusalCodes.length && i <= 32; i++) {
      client.refusalCodes[i] = cloneable(option(refusalCodes, i, 'refusalCodes'), `refusalCodes[${i}]`);
    }
  }
  const keepAlive = option(options, 'keepAlive');
  if (keepAlive !== undefined && keepAlive !== null) {
    if (typeof keepAlive !== 'object') throw invalid('keepAlive must be {query, beforeExpiryMs}');
    client.keepAlive = {
      query: cloneable(option(keepAlive, 'query', 'keepAlive'), 'keepAlive.query'),
      beforeExpiryMs: cloneable(option(keepAlive, 'beforeExpiryMs', 'keepAlive'), 'keepAlive.beforeExpiryMs'),
    };
  }
  const wasmURL = option(options, 'wasmURL');
  const workerURL = option(options, 'workerURL');
  const namedWasmURL = wasmURL === undefined ? undefined : location(wasmURL, 'wasmURL');
  checkURLs();
  return {
    client,
    share,
    namedWasmURL,
    workerURL: workerURL === undefined ? undefined : location(workerURL, 'workerURL'),
  };
}

// The worker and the module that get the password are named with the
// globals the bundler patterns are written with (new Worker(new URL(...)),
// and Worker turns the URL into a string with its toString). So, just
// before they are used, these throw unless those are still the built-ins
// taken when this file was evaluated, as plain values (a getter could give
// a check the real one and the next read another).
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
  // No Symbol.toPrimitive, which ToString would call instead of toString.
  for (const on of [URLClass.prototype, Object.prototype]) checkUntouched(Symbol.toPrimitive, undefined, on);
}

// Reads obj[name] from an object the app passed in; a throwing getter or
// Proxy becomes INVALID_ARGUMENT.
function option(obj, name, what = 'options') {
  try {
    return obj[name];
  } catch (e) {
    throw invalid(`reading ${what}.${name} threw`, e);
  }
}

// Only primitives cross to the worker: functions, symbols and objects are
// refused here, naming the option; the module refuses wrong types among the
// rest (a BigInt, a number for a string).
function cloneable(v, what) {
  const type = typeof v;
  if (type === 'function' || type === 'symbol' || (type === 'object' && v !== null)) {
    throw invalid(`${what} must be a string, a number or a boolean, not a ${type === 'object' ? 'object' : type}`);
  }
  return v;
}

// An absolute URL for a location option: a URL, or a string relative to
// the page (or, where there is none, to this file).
function location(v, what) {
  if (v instanceof URLClass) return apply(hrefOf, v, []);
  if (typeof v === 'string') return apply(hrefOf, new URLClass(v, globalThis.location?.href ?? import.meta.url), []);
  throw invalid(`${what} must be a string or a URL`);
}

// Starts the worker side, dedicated or shared, and resolves to {conn}, the
// connection to it (in a record without a prototype: a then that a script
// put on Object.prototype is not asked for it). A worker loads the module
// its own URL names (see ownWasmURL in gqlauth.worker.js): namedWasmURL, the
// app's wasmURL, goes there, and never in a message.
async function connect(kind, workerURL, namedWasmURL) {
  if (!IN_PAGE) {
    const { serve } = await import('./gqlauth.worker.js');
    const channel = new MessageChannelClass();
    serve(channel.port2, namedWasmURL);
    channel.port2.unref?.(); // Node: an idle client does not keep the process alive
    return { __proto__: null, conn: new Connection(channel.port1, postToPort) };
  }
  if (kind === 'shared') await holdTabLock();
  // The password goes to the worker: not through a Worker, SharedWorker or
  // URL that a script put in place after gqlauth loaded. Checked just
  // before they are used, with nothing in between that could run a script.
  checkURLs();
  checkUntouched(kind === 'shared' ? 'SharedWorker' : 'Worker', kind === 'shared' ? SharedWorkerClass : WorkerClass);
  let worker;
  try {
    // Written out in full, so that bundlers see the worker and emit it.
    if (namedWasmURL !== undefined) {
      // (Not written as the bundler pattern: a bundler would emit the
      // worker unbundled for it. Bundled apps that name a wasmURL name the
      // workerURL too.)
      const base = workerURL ?? apply(hrefOf, new URLClass('./gqlauth.worker.js', import.meta.url), []);
      const join = apply(indexOf, base, ['?']) < 0 ? '?' : '&';
      const url = `${base}${join}wasm=${encode(namedWasmURL)}`;
      worker = kind === 'shared' ? new SharedWorker(url, { type: 'module', name: 'gqlauth' })
        : new Worker(url, { type: 'module', name: 'gqlauth' });
    } else if (kind === 'shared') {
      worker = workerURL === undefined
        ? new SharedWorker(new URL('./gqlauth.worker.js', import.meta.url), { type: 'module', name: 'gqlauth' })
        : new SharedWorker(workerURL, { type: 'module', name: 'gqlauth' });
    } else {
      worker = workerURL === undefined
        ? new Worker(new URL('./gqlauth.worker.js', import.meta.url), { type: 'module', name: 'gqlauth' })
        : new Worker(workerURL, { type: 'module', name: 'gqlauth' });
    }
  } catch (e) {
    throw new AuthError(`gqlauth: the worker could not be started (${describe(e)}); ` +
      "a Content-Security-Policy must allow it (worker-src 'self')", { code: 'INTERNAL', cause: e });
  }
  const conn = kind === 'shared' ? new Connection(apply(portOf, worker, []), postToPort, worker) : new Connection(worker, postToWorker, worker);
  live[kind] = conn;
  return { __proto__: null, conn };
}

// Holds, for as long as this realm lives, the Web Lock named after its tab:
// the SharedWorker asks for the same lock, and is granted it when the tab
// is gone. Resolves once the lock is held. Another script of the origin can
// take the lock ({steal: true}): the SharedWorker then lets the tab go, and
// so does the tab, at once: its shared clients end with a logout event, and
// the next createClient attaches again under a new lock.
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
      if (!granted) return; // no lock to be had here: the tab is never let go
      tabLock = null;
      TAB = randomTab();
      live.shared?.lost('another script took this tab\'s lock on the shared session; create a new client');
    });
  });
  return tabLock;
}

function randomTab() {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return `tab-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The page's end of the protocol (see gqlauth.worker.js): numbered
 * requests, their answers, and the events and warnings of the clients it
 * opened.
 */
class Connection {
  #port;
  #post;
  #next = 0;
  #pending = new Map(); // id -> {resolve, reject}
  #streams = new Map(); // id -> {controller, done}: a pass's body, and what to do when it ends
  #clients = new Map(); // handle -> Client
  #broken = null;

  constructor(port, post, worker) {
    this.#port = port;
    this.#post = post;
    listen(port, 'message', (e) => this.#receive(e.data));
    listen(port, 'messageerror', () => this.#breakWith('a message from the gqlauth worker could not be read'));
    if (worker) {
      listen(worker, 'error', (e) => {
        apply(preventDefault, e, []);
        this.#breakWith(`the gqlauth worker failed: ${e.message || 'it could not be loaded (check workerURL and the server)'}`);
      });
    }
    if (port !== worker) apply(startPort, port, []); // a port starts once its listener is on
    if (!IN_PAGE) port.unref?.(); // Node: an idle client does not keep the process alive
  }

  /** The worker let this page go (its tab lock was taken): every client of it ends. */
  lost(reason) { this.#breakWith(reason, 'remote'); }

  /** Sends op and resolves with its answer; signal aborts it. */
  request(op, args, signal) {
    return this.#request(++this.#next, op, args, signal, signal !== undefined);
  }

  /**
   * Sends a pass request, moving transfer: resolves with {head, body,
   * failure}, the answer's head, its body as a ReadableStream of the pieces
   * that follow, and a function that says what the body failed with, if it
   * did. Aborting signal, or cancelling the body, stops it in the worker;
   * signal's reason is then what the body fails with, as with fetch.
   */
  async pass(args, signal, transfer) {
    const id = ++this.#next;
    const stop = () => {
      this.#streams.get(id)?.done();
      if (this.#broken === null) this.#send({ op: 'abort', id });
    };
    const onAbort = () => {
      this.#streams.get(id)?.fail(signal.reason);
      stop();
    };
    let controller;
    let failed;
    const body = new ReadableStreamClass({ start: (c) => { controller = c; }, cancel: stop });
    this.#streams.set(id, {
      controller,
      fail: (e) => {
        failed = e;
        controller.error(e);
      },
      done: () => {
        this.#streams.delete(id);
        if (signal) unlisten(signal, 'abort', onAbort);
      },
    });
    try {
      const { value: head } = await this.#request(id, 'pass', args, signal, true, transfer);
      if (signal?.aborted) { // since the head came: its body is still coming
        stop();
        throw signal.reason;
      }
      if (signal) listen(signal, 'abort', onAbort, { once: true });
      return { __proto__: null, head, body, failure: () => failed };
    } catch (e) {
      this.#streams.delete(id);
      throw e;
    }
  }

  // Sends request id; abortable lets {op: 'abort', id} stop it in the
  // worker.
  #request(id, op, args, signal, abortable, transfer) {
    if (this.#broken !== null) return Promise.reject(this.#broken());
    if (signal?.aborted) return Promise.reject(new AuthError('gqlauth: the request was aborted by its signal', { code: 'ABORTED' }));
    return new Promise((resolve, reject) => {
      const onAbort = () => this.#send({ op: 'abort', id });
      const settle = (fn) => (v) => {
        if (signal) unlisten(signal, 'abort', onAbort);
        this.#pending.delete(id);
        if (this.#pending.size === 0 && !IN_PAGE) this.#port.unref?.();
        fn(v);
      };
      this.#pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      if (!IN_PAGE) this.#port.ref?.(); // Node: a request under way keeps the process alive
      if (signal) listen(signal, 'abort', onAbort, { once: true });
      try {
        this.#send(abortable ? { id, op, args, abortable } : { id, op, args }, transfer);
      } catch (e) { // postMessage could not copy an argument
        this.#pending.get(id).reject(invalid(`${op}: an argument cannot be sent to the worker (${describe(e)})`, e));
      }
    });
  }

  #send(message, transfer = []) { apply(this.#post, this.#port, [message, transfer]); }

  /**
   * Routes the events of the client with handle to deliver. (Several
   * clients of a page may share one handle: a shared session.)
   */
  attach(handle, deliver) {
    if (!this.#clients.has(handle)) this.#clients.set(handle, new Set());
    this.#clients.get(handle).add(deliver);
  }

  /** Stops routing events to deliver. */
  detach(handle, deliver) {
    const delivers = this.#clients.get(handle);
    delivers?.delete(deliver);
    if (delivers?.size === 0) this.#clients.delete(handle);
  }

  /** How many clients of this page use the client with handle. */
  listening(handle) { return this.#clients.get(handle)?.size ?? 0; }

  // One message from the worker: an answer, an event, a warning, or a
  // batch of them, in order.
  #receive(msg) {
    if (Array.isArray(msg)) {
      for (const m of msg) this.#receive(m);
      return;
    }
    if (msg === null || typeof msg !== 'object') return;
    if (msg.event) {
      for (const deliver of this.#clients.get(msg.event.client) ?? []) deliver(msg.event);
    } else if (msg.stream !== undefined) {
      this.#piece(msg);
    } else if (typeof msg.warning === 'string') {
      console.warn(msg.warning);
    } else if (typeof msg.fatal === 'string') {
      this.#breakWith(msg.fatal);
    } else if (typeof msg.detached === 'string') {
      this.lost(msg.detached);
    } else {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      // In a record without a prototype: resolving with it asks no then of
      // Object.prototype, which a script may have put there.
      if (msg.ok) p.resolve({ __proto__: null, value: msg.value });
      else p.reject(authError(msg.error));
    }
  }

  // A piece of a pass's body, its end, or its failure.
  #piece({ stream, chunk, end, error }) {
    const body = this.#streams.get(stream);
    if (!body) return; // cancelled, or aborted, here
    if (chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk)) {
      body.controller.enqueue(chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk));
      return;
    }
    body.done();
    if (end === true) body.controller.close();
    else body.fail(authError(error));
  }

  // The worker is gone, or let this page go: every call under way fails,
  // and so does every later one; each client hears a logout; the next
  // createClient starts a new connection.
  #breakWith(reason, cause = 'local') {
    if (this.#broken !== null) return;
    const code = cause === 'remote' ? 'NOT_AUTHENTICATED' : 'INTERNAL';
    this.#broken = () => new AuthError(`gqlauth: ${reason}`, { code });
    for (const kind of ['dedicated', 'shared']) {
      if (live[kind] === this) connections[kind] = live[kind] = null;
    }
    for (const p of [...this.#pending.values()]) p.reject(this.#broken());
    for (const body of [...this.#streams.values()]) {
      body.done();
      body.fail(this.#broken());
    }
    for (const delivers of this.#clients.values()) {
      for (const deliver of delivers) deliver({ reason: 'logout', expiresAt: null, expiresIn: 0, usableFor: 0, cause });
    }
    console.error(`gqlauth: ${reason}`);
  }
}

function authError(e) {
  const fields = e !== null && typeof e === 'object' ? e : {};
  return new AuthError(String(fields.message ?? 'gqlauth: internal error'), {
    code: fields.code, status: fields.status, graphQLErrors: fields.graphQLErrors,
  });
}

/**
 * A session with one endpoint. It holds the handle of its client in the
 * worker and a mirror of the session's public state; the token stays in the
 * worker.
 */
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
  // The mirror: the held token's exp (ms since the epoch, or null), and
  // when on this realm's clock it passes and when the token stops being
  // usable (exp minus the leeway).
  #expiresAt = null;
  #deadline = 0;
  #usableUntil = 0;

  constructor(conn, { handle, state }, sharing, endpoint) {
    thenless(this); // createClient resolves with it: no script may wrap it on the way
    this.#conn = conn;
    this.#handle = handle;
    this.#sharing = sharing;
    this.#endpoint = normalURL(endpoint);
    this.#mirror(state ?? {});
    conn.attach(handle, this.#deliver);
    if (sharing === 'broadcast') {
      // No SharedWorker: each tab has its own session, and a logout in one
      // logs the others out.
      this.#channel = new BroadcastChannelClass(`gqlauth-logout:${this.#endpoint?.href ?? endpoint}`);
      listen(this.#channel, 'message', ({ data }) => {
        if (typeof data?.tab === 'string' && data.tab !== TAB) this.#logout('remote');
      });
    }
  }

  /** How this client's session is shared between tabs: 'tabs', 'broadcast' or 'none'. */
  get sharing() { return this.#sharing; }

  #mirror({ expiresAt, expiresIn, usableFor }) {
    const at = now();
    this.#expiresAt = typeof expiresAt === 'number' ? expiresAt : null;
    this.#deadline = at + (Number(expiresIn) || 0);
    this.#usableUntil = at + (Number(usableFor) || 0);
  }

  // An event from the worker: update the mirror, then tell the listeners.
  #receive(change) {
    if (this.#closed && this.#listeners.size === 0) return;
    if (this.#logouts === 0) this.#mirror(change);
    const { reason, expiresAt, cause } = change;
    // The event says which token is now usable (none once it expired), and
    // what made the change.
    const event = Object.freeze({
      reason,
      expiresAt: reason === 'expired' || typeof expiresAt !== 'number' ? null : new Date(expiresAt),
      cause, // the worker's word: 'local', 'remote', 'expiry' or 'keep-alive'
    });
    // Delivered after the change, outside the message handler.
    const listeners = [...this.#listeners];
    queueMicrotask(() => {
      for (const cb of listeners) {
        try { cb(event); } catch (e) { reportError(e); }
      }
    });
  }

  async login(credentials, opts) {
    const signal = signalOf(opts);
    if (typeof credentials !== 'object' || credentials === null) {
      throw invalid('login needs {username or email, password}');
    }
    const record = { __proto__: null }; // no setter of Object.prototype sees the password
    for (const name of ['username', 'email', 'password']) {
      const v = option(credentials, name, 'credentials');
      if (v !== undefined) record[name] = cloneable(v, `credentials.${name}`);
    }
    const { value } = await this.#request('login', [this.#handle, record], signal);
    return thenless({ user: parseJSON(value.user), expiresAt: new Date(value.expiresAt) });
  }

  async fetchWithAuth(query, variables, opts) {
    if (typeof query !== 'string' || query === '') {
      throw invalid('query must be a non-empty string');
    }
    if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
      throw invalid('variables must be an object');
    }
    const o = optionsObject(opts);
    const operationName = option(o, 'operationName');
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') {
      throw invalid('operationName must be a string');
    }
    const signal = signalOf(o);
    let json;
    try {
      json = variables === undefined || variables === null ? undefined : apply(stringify, JSON, [variables]);
    } catch (e) {
      throw invalid('variables cannot be sent as JSON (a cycle, a BigInt, or a getter that throws)', e);
    }
    const { value: body } = await this.#request('fetch', [this.#handle, query, json, operationName || undefined], signal);
    let parsed;
    try {
      parsed = apply(parseJSON, JSON, [apply(decode, decoder, [body])]);
    } catch (e) {
      throw new AuthError('gqlauth: the response is not JSON', { code: 'BAD_RESPONSE', cause: e });
    }
    const { data = null, errors, extensions } = parsed;
    const result = { data };
    if (errors !== undefined) result.errors = errors;
    if (extensions !== undefined) result.extensions = extensions;
    return thenless(result);
  }

  /**
   * fetch for GraphQL client libraries (Apollo's HttpLink, urql,
   * graphql-request, Relay's network): called as fetch is, detached too,
   * it sends the request from the worker with the token, if it goes to the
   * endpoint, and resolves with a Response whose body streams in as it
   * arrives and which has no token header.
   */
  fetch = (input, init) => this.#fetch(input, init);

  async #fetch(input, init) {
    if (this.#closed) throw closedError();
    // As fetch reads its arguments: a URL or a Request, and init.
    let request;
    try {
      request = new RequestClass(input, init);
    } catch (e) {
      throw invalid(`fetch: ${describe(e)}`, e);
    }
    const { method, signal } = request;
    const url = new URLClass(request.url);
    const endpoint = this.#endpoint;
    if (!endpoint) throw invalid('fetch: the client\'s endpoint is not a URL this browser can parse');
    if (url.origin !== endpoint.origin || url.pathname !== endpoint.pathname || (method !== 'GET' && url.search !== endpoint.search)) {
      throw invalid(`fetch sends only to the client's endpoint, ${endpoint.origin}${endpoint.pathname}, not to ${url.origin}${url.pathname}`);
    }
    if (method !== 'GET' && method !== 'POST') throw invalid(`fetch: a GraphQL request is a GET or a POST, not ${method}`);
    const headers = { __proto__: null };
    for (const [name, value] of request.headers) headers[name] = value;
    if ('authorization' in headers || 'x-authorization' in headers) {
      throw invalid('fetch: the Authorization header is gqlauth\'s to send; leave it out');
    }
    if (signal.aborted) throw signal.reason;
    const body = method === 'POST' ? new Uint8Array(await request.arrayBuffer()) : undefined;
    const args = [this.#handle, { method, query: method === 'GET' ? url.search : undefined, headers: stringify(headers), body }];
    let answer;
    try {
      answer = await this.#conn.pass(args, signal, body ? [body.buffer] : []);
    } catch (e) {
      throw signal.aborted ? signal.reason : e;
    }
    const { head, body: stream, failure } = answer;
    const withoutBody = head.status === 204 || head.status === 205 || head.status === 304;
    if (withoutBody) stream.cancel().catch(() => {});
    return new PassedResponse(withoutBody ? null : stream, {
      status: head.status, statusText: head.statusText, headers: new HeadersClass(parseJSON(head.headers)),
    }, failure);
  }

  // args start with the handle, written out by each caller: spreading them
  // here would run Array.prototype[Symbol.iterator], which a script can
  // replace, over the password.
  #request(op, args, signal) {
    if (this.#closed) return Promise.reject(closedError());
    return this.#conn.request(op, args, signal);
  }

  tokenExpiresAt() {
    return this.#expiresAt === null || this.#closed ? null : new Date(this.#expiresAt);
  }

  tokenExpiresIn() {
    if (this.#expiresAt === null || this.#closed) return 0;
    return Math.max(0, Math.round(this.#deadline - now()));
  }

  isAuthenticated() {
    return this.#expiresAt !== null && !this.#closed && now() < this.#usableUntil;
  }

  onTokenChange(cb) {
    if (typeof cb !== 'function') throw invalid('onTokenChange needs a function');
    const entry = (e) => cb(e); // a fresh entry, so one callback may subscribe twice
    this.#listeners.add(entry);
    return () => { this.#listeners.delete(entry); };
  }

  logout() {
    if (this.#closed) return;
    if (this.#channel) apply(postToChannel, this.#channel, [{ tab: TAB }]);
    this.#logout();
  }

  // Logs out, for this tab, or, with cause 'remote', following another
  // tab's logout.
  #logout(cause) {
    this.#forget();
    // Until the worker answers, events it sent before it logged out do not
    // bring the mirror back.
    this.#logouts++;
    const args = cause === undefined ? [this.#handle] : [this.#handle, cause];
    this.#conn.request('logout', args).catch(reportFailure('logout')).finally(() => { this.#logouts--; });
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#forget();
    this.#channel?.close();
    // Another client of this page on the same shared session keeps it.
    if (this.#conn.listening(this.#handle) > 1) {
      this.#conn.detach(this.#handle, this.#deliver);
      this.#listeners.clear();
      return;
    }
    // The listeners hear the close's logout event, if it logs out, then
    // nothing more.
    this.#conn.request('close', [this.#handle]).catch(reportFailure('close')).finally(() => {
      this.#listeners.clear();
      this.#conn.detach(this.#handle, this.#deliver);
    });
  }

  #forget() {
    this.#expiresAt = null;
    this.#deadline = this.#usableUntil = 0;
  }

  get [Symbol.toStringTag]() { return 'GqlauthClient'; }
}

/**
 * The Response client.fetch resolves with. Its body readers fail with the
 * AuthError that ended the body (TIMEOUT, BAD_RESPONSE, ...), where a plain
 * Response built on an errored stream gives a bare TypeError in some
 * browsers; a reader of its body stream gets that error in every browser.
 */
const PassedResponse = ResponseClass && class PassedResponse extends ResponseClass {
  #failure;

  constructor(body, init, failure) {
    super(body, init);
    this.#failure = failure;
    thenless(this);
  }

  clone() {
    const copy = super.clone();
    return new PassedResponse(copy.body, { status: this.status, statusText: this.statusText, headers: this.headers }, this.#failure);
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

// Gives o an own then, not enumerated: a promise resolved with o then asks
// no then of Object.prototype, where a script may have put one to see or
// replace what gqlauth resolves with.
function thenless(o) {
  defineProperty(o, 'then', { value: undefined });
  return o;
}

// The URL string s as the URL parser reads it, or undefined.
function normalURL(s) {
  try {
    return new URLClass(s);
  } catch {
    return undefined;
  }
}

function closedError() {
  return new AuthError('gqlauth: this client is closed; create a new one', { code: 'NOT_AUTHENTICATED' });
}

function optionsObject(opts) {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object') throw invalid('options must be an object');
  return opts;
}

function signalOf(opts) {
  const signal = option(optionsObject(opts), 'signal');
  if (signal === undefined || signal === null) return undefined;
  try {
    // instanceof alone accepts Object.create(AbortSignal.prototype), whose
    // aborted getter throws: read it once here.
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

// logout() and close() return nothing; should the worker fail them (a bug),
// say so on the console.
function reportFailure(what) {
  return (e) => console.error(`gqlauth: ${what}() failed in the worker:`, e);
}

function reportError(e) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
  else setTimeout(() => { throw e; });
}
