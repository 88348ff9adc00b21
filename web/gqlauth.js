// gqlauth: log in to a JWT-protected GraphQL API from a Go/WebAssembly module
// that keeps the token in its own memory. See gqlauth.d.ts for the API.

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

const invalid = (message, cause) => new AuthError(message, { code: 'INVALID_ARGUMENT', cause });

// Reads obj[name] from an object the app passed in; a throwing getter or
// Proxy becomes INVALID_ARGUMENT.
function option(obj, name, what = 'options') {
  try {
    return obj[name];
  } catch (e) {
    throw invalid(`reading ${what}.${name} threw`, e);
  }
}

// One module instance serves every client of the page (or worker).
let modulePromise = null;
// Exchanges are numbered here, for all clients: the module then answers with
// plain strings, never with arrays or objects that carry the token or the
// password through page-patchable code.
let lastExchange = 0;
// fetch as it was when the module loaded: a script that wraps globalThis.fetch
// later does not see gqlauth's requests, nor so their Authorization header.
let fetchFn = null;
// Built-ins the token passes through, taken when this file is evaluated so
// that a script that replaces them later does not see it.
const apply = Reflect.apply;
const headerOf = Headers.prototype.get;
const then = Promise.prototype.then;

async function loadModule(wasmURL) {
  if (typeof globalThis.fetch !== 'function') {
    throw new AuthError('gqlauth needs fetch (browsers, workers, Node.js 20+)', { code: 'INTERNAL' });
  }
  fetchFn = globalThis.fetch.bind(globalThis);
  if (typeof globalThis.Go !== 'function') {
    await import('./wasm_exec.js');
  }
  const go = new globalThis.Go();
  if (typeof process === 'object' && process !== null && typeof process.versions?.node === 'string') {
    unrefGoTimers(go);
  }
  const binding = { AuthError };
  const ready = new Promise((resolve) => { binding.ready = resolve; });
  const key = `__gqlauth_${Math.random().toString(36).slice(2)}`;
  go.argv = ['gqlauth.wasm', key];
  const { instance } = await instantiate(wasmURL, go.importObject);
  globalThis[key] = binding; // taken and deleted by the module as it starts
  const exited = go.run(instance).then(() => {
    throw new AuthError('gqlauth: the WebAssembly module exited', { code: 'INTERNAL' });
  });
  try {
    await Promise.race([ready, exited]);
  } finally {
    delete globalThis[key];
  }
  delete binding.ready;
  delete binding.AuthError;
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
    throw new AuthError(`gqlauth: could not load ${url}: HTTP ${response.status}`, { code: 'NETWORK_ERROR', status: response.status });
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

function wasmLocation(option) {
  if (option === undefined) return new URL('./gqlauth.wasm', import.meta.url);
  if (option instanceof URL) return option;
  if (typeof option === 'string') return new URL(option, globalThis.location?.href ?? import.meta.url);
  throw invalid('wasmURL must be a string or a URL');
}

const decoder = new TextDecoder();

/**
 * Creates a client for one GraphQL endpoint. The first call loads the module;
 * later calls share it.
 */
export async function createClient(options) {
  if (typeof options !== 'object' || options === null) {
    throw invalid('createClient needs an options object with an endpoint');
  }
  const wasmURL = wasmLocation(option(options, 'wasmURL'));
  if (modulePromise === null) {
    modulePromise = loadModule(wasmURL).catch((e) => { modulePromise = null; throw e; });
  }
  const binding = await modulePromise;
  return new Client(binding, options);
}

/**
 * A session with one endpoint. It holds a handle into the module and the
 * checked settings to send with; the token stays in the module and reaches
 * this code only on its way into the Authorization header.
 *
 * A request is two synchronous calls into Go around one fetch: begin* says
 * what to send (body, Authorization), finish judges the answer (rotation,
 * Unauthorized, errors), and fail turns a fetch that did not complete into
 * the right AuthError. Timeouts, the caller's signal and the size limit are
 * applied here, where the fetch runs.
 */
class Client {
  #b;
  #s; // settings from the module: handle, endpoint, headers, timeoutMs, maxResponseBytes, credentials
  #listeners = new Set();

  constructor(binding, options) {
    this.#b = binding;
    this.#s = sync(binding.newClient(options,
      (reason, expiresAtMs) => this.#emit(reason, expiresAtMs),
      (message) => console.warn(message)));
  }

  #emit(reason, expiresAtMs) {
    const event = Object.freeze({ reason, expiresAt: expiresAtMs === null ? null : new Date(expiresAtMs) });
    // Delivered after the change, outside the module's call stack.
    const listeners = [...this.#listeners]; // as they are now: close() clears them
    queueMicrotask(() => {
      for (const cb of listeners) {
        try { cb(event); } catch (e) { reportError(e); }
      }
    });
  }

  async login(credentials, opts) {
    const signal = signalOf(opts);
    if (signal?.aborted) {
      // Before beginLogin: an aborted login must not overtake one in flight.
      throw new AuthError('the login was aborted by its signal before it started', { code: 'ABORTED' });
    }
    const id = ++lastExchange;
    const body = sync(this.#b.beginLogin(this.#s.handle, id, credentials));
    const answer = await this.#send(id, '', body, signal);
    const res = this.#finish(id, answer, summarize(answer.text, true));
    return { user: JSON.parse(res.user), expiresAt: new Date(res.expiresAt) };
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
    let body;
    try {
      body = JSON.stringify({ query, variables: variables ?? undefined, operationName: operationName || undefined });
    } catch (e) {
      throw invalid('variables cannot be sent as JSON (a cycle, a BigInt, or a getter that throws)', e);
    }
    const id = ++lastExchange;
    let authorization = sync(this.#b.beginFetch(this.#s.handle, id));
    for (;;) {
      const answer = await this.#send(id, authorization, body, signal);
      const read = summarize(answer.text, false);
      const verdict = this.#finish(id, answer, read);
      if (verdict === true) return graphQLResult(read.parsed);
      if (typeof verdict !== 'string') throw new AuthError('gqlauth: unexpected answer from the module', { code: 'INTERNAL' });
      authorization = verdict; // the token was superseded in flight: once more with the current one
    }
  }

  // Hands an answer to the module. After a bug (INTERNAL) the exchange may
  // still be registered: end it, so that nothing is left behind.
  #finish(id, answer, read) {
    const verdict = this.#b.finish(id, answer.status, answer.token, read.summary, read.why);
    if (typeof verdict !== 'string' && verdict instanceof Error) { // a string may be the token: never instanceof'd
      if (verdict.code === 'INTERNAL') this.#b.fail(id, 'network');
      throw verdict;
    }
    return verdict;
  }

  // Sends one request and reads the whole answer, or rejects with the
  // AuthError the module makes of the failure (the exchange is then over).
  // The timeout and the caller's signal abort the fetch, and also settle the
  // call by themselves, in case a fetch (a wrapper, a polyfill) ignores its
  // signal.
  async #send(id, authorization, body, signal) {
    const s = this.#s;
    const controller = new AbortController();
    let why = 'network';
    let settle;
    let giveUp;
    const outcome = new Promise((resolve, reject) => { settle = resolve; giveUp = reject; });
    const stop = (reason) => {
      why = reason;
      controller.abort();
      giveUp(new Error(reason));
    };
    const timer = setTimeout(stop, s.timeoutMs, 'timeout');
    const onAbort = () => stop('aborted');
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const seen = { __proto__: null, status: undefined };
    try {
      // Objects that hold the token have no prototype, so that no getter or
      // "then" a page script put on Object.prototype is consulted on them.
      const headers = { __proto__: null, ...s.headers };
      if (authorization) headers.Authorization = authorization;
      const init = { __proto__: null, method: 'POST', headers, body, signal: controller.signal };
      if (s.credentials !== undefined) init.credentials = s.credentials;
      apply(then, read(fetchFn(s.endpoint, init), s.maxResponseBytes, () => stop('too-large'), seen), [settle, giveUp]);
      return await outcome; // settled by the answer, or by the timeout or signal alone
    } catch (e) {
      throw this.#fail(id, why, e, seen.status);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  // Ends an exchange whose fetch did not complete; returns its AuthError.
  #fail(id, why, cause, status) {
    const error = this.#b.fail(id, why, describe(cause), status);
    if (error?.code === 'INTERNAL') this.#b.fail(id, why); // the exchange may still be registered
    return error;
  }

  tokenExpiresAt() {
    const ms = sync(this.#b.tokenExpiresAt(this.#s.handle));
    return ms === null ? null : new Date(ms);
  }

  tokenExpiresIn() { return sync(this.#b.tokenExpiresIn(this.#s.handle)); }

  isAuthenticated() { return sync(this.#b.isAuthenticated(this.#s.handle)); }

  onTokenChange(cb) {
    if (typeof cb !== 'function') throw invalid('onTokenChange needs a function');
    const entry = (e) => cb(e); // a fresh entry, so one callback may subscribe twice
    if (this.#listeners.size === 0) sync(this.#b.listen(this.#s.handle, true));
    this.#listeners.add(entry);
    return () => {
      if (this.#listeners.delete(entry) && this.#listeners.size === 0) this.#b.listen(this.#s.handle, false);
    };
  }

  logout() { sync(this.#b.logout(this.#s.handle)); }

  close() {
    sync(this.#b.close(this.#s.handle));
    this.#listeners.clear();
  }

  get [Symbol.toStringTag]() { return 'GqlauthClient'; }
}

// Awaits the response and reads its status, token and body. seen.status is
// set as soon as the status is known.
async function read(responding, max, tooLarge, seen) {
  const response = await responding;
  seen.status = response.status;
  return {
    __proto__: null,
    status: response.status,
    token: tokenHeader(response.headers),
    text: await readText(response, max, tooLarge),
  };
}

// The token header: X-Authorization, else Authorization (an empty one counts
// as absent).
function tokenHeader(headers) {
  const x = apply(headerOf, headers, ['X-Authorization']);
  return x !== null && x.trim() !== '' ? x : apply(headerOf, headers, ['Authorization']);
}

// Reads a response body as text, never more than max bytes. A body announced
// larger is refused at once. One whose length is known and not compressed is
// read whole, the fastest way; any other (no Content-Length, or a
// Content-Encoding, whose decoded size the length does not bound) is counted
// as it streams in and cut off at the limit. (Chromium reports requests read
// through a stream reader as aborted in its network log now and then, so the
// stream is kept for the bodies that need it.) A cross-origin API that
// compresses without exposing Content-Encoding is bounded only after decoding.
async function readText(response, max, tooLarge) {
  const announced = Number(apply(headerOf, response.headers, ['Content-Length']) ?? NaN);
  if (announced > max) tooLarge();
  const encoded = apply(headerOf, response.headers, ['Content-Encoding']);
  if (!response.body || (Number.isFinite(announced) && (encoded === null || encoded === 'identity'))) {
    const text = await response.text();
    if (text.length > max) tooLarge(); // UTF-16 units never outnumber the bytes
    return text;
  }
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      tooLarge();
      reader.cancel().catch(() => {});
      throw new RangeError(`more than ${max} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return decoder.decode(chunks[0]);
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.length; }
  return decoder.decode(bytes);
}

// Parses a response body once, here, and summarizes it for the module, which
// needs only the errors and whether there is data: true for data without
// errors (the usual answer), else the response with data elided. A large
// body is thus never copied into Go memory or read twice. A login keeps its
// data: the module reads data.loginUser.
function summarize(text, keepData) {
  if (text === '') return { summary: null, why: 'the body is empty' };
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { summary: null, why: `the body is not JSON (${e.message})` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { summary: null, why: 'the body is not a JSON object' };
  }
  let { data, errors } = parsed;
  if (!keepData && errors === undefined && data !== null && typeof data === 'object') {
    return { parsed, summary: true };
  }
  if (!keepData && data !== null && data !== undefined) data = {};
  return { parsed, summary: JSON.stringify({ data, errors }) };
}

function graphQLResult(parsed) {
  const { data = null, errors, extensions } = parsed;
  const result = { data };
  if (errors !== undefined) result.errors = errors;
  if (extensions !== undefined) result.extensions = extensions;
  return result;
}

// Synchronous exports hand errors back as values; throw them here.
// A string result (it may be the token) is returned before any check that
// page code could observe.
function sync(result) {
  if (typeof result === 'string') return result;
  if (result instanceof Error) throw result;
  return result;
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

function reportError(e) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
  else setTimeout(() => { throw e; });
}
