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

async function loadModule(wasmURL) {
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

/** A session with one endpoint. Holds a handle; the token stays in the module. */
class Client {
  #b;
  #handle;
  #listeners = new Set();

  constructor(binding, options) {
    this.#b = binding;
    this.#handle = sync(binding.newClient(options,
      (reason, expiresAtMs) => this.#emit(reason, expiresAtMs),
      (message) => console.warn(message)));
  }

  #emit(reason, expiresAtMs) {
    const event = Object.freeze({ reason, expiresAt: expiresAtMs === null ? null : new Date(expiresAtMs) });
    // Delivered after the change, outside the module's call stack.
    queueMicrotask(() => {
      for (const cb of [...this.#listeners]) {
        try { cb(event); } catch (e) { reportError(e); }
      }
    });
  }

  async login(credentials, opts = {}) {
    const res = await this.#b.login(this.#handle, credentials, signalOf(opts));
    return { user: JSON.parse(res.user), expiresAt: new Date(res.expiresAt) };
  }

  async fetchWithAuth(query, variables, opts = {}) {
    let vars;
    if (variables !== undefined && variables !== null) {
      if (typeof variables !== 'object' || Array.isArray(variables)) {
        throw invalid('variables must be an object');
      }
      try {
        vars = JSON.stringify(variables);
      } catch (e) {
        throw invalid('variables cannot be sent as JSON (a cycle, a BigInt, or a getter that throws)', e);
      }
    }
    const o = optionsObject(opts);
    const body = await this.#b.fetchWithAuth(this.#handle, query, vars, option(o, 'operationName'), signalOf(o));
    let parsed;
    try {
      parsed = JSON.parse(decoder.decode(body));
    } catch (e) {
      throw new AuthError(`the response is not JSON: ${e.message}`, { code: 'BAD_RESPONSE', cause: e });
    }
    const { data = null, errors, extensions } = parsed;
    const result = { data };
    if (errors !== undefined) result.errors = errors;
    if (extensions !== undefined) result.extensions = extensions;
    return result;
  }

  tokenExpiresAt() {
    const ms = sync(this.#b.tokenExpiresAt(this.#handle));
    return ms === null ? null : new Date(ms);
  }

  tokenExpiresIn() { return sync(this.#b.tokenExpiresIn(this.#handle)); }

  isAuthenticated() { return sync(this.#b.isAuthenticated(this.#handle)); }

  onTokenChange(cb) {
    if (typeof cb !== 'function') throw invalid('onTokenChange needs a function');
    const entry = (e) => cb(e); // a fresh entry, so one callback may subscribe twice
    this.#listeners.add(entry);
    return () => { this.#listeners.delete(entry); };
  }

  logout() { sync(this.#b.logout(this.#handle)); }

  close() {
    sync(this.#b.close(this.#handle));
    this.#listeners.clear();
  }

  get [Symbol.toStringTag]() { return 'GqlauthClient'; }
}

// Synchronous exports hand errors back as values; throw them here.
function sync(result) {
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
  if (signal !== undefined && signal !== null && !(signal instanceof AbortSignal)) {
    throw invalid('signal must be an AbortSignal');
  }
  return signal ?? undefined;
}

function reportError(e) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
  else setTimeout(() => { throw e; });
}
