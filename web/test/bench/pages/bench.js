// The in-page half of the throughput and memory benchmarks. The runner
// (run.mjs) calls window.bench.* and does the interleaving; everything here
// times one batch of work with performance.now().
import { createClient } from './gqlauth.js';

const endpoint = new URL('/graphql', location.href).href;
// ?wasm=URL loads another build of the module (the profiler uses the one
// with a name section); the default is gqlauth.wasm next to gqlauth.js.
// ?worker=bench starts gqlauth with bench-worker.js, which reports memory.
const params = new URLSearchParams(location.search);
const wasmURL = params.get('wasm') ?? undefined;
const workerURL = params.get('worker') === 'bench' ? new URL('./bench-worker.js', import.meta.url) : undefined;
const USERNAME = 'demo';
const PASSWORD = 'demo-password';
const LOGIN = `query Login($username: String, $password: String!) {
  loginUser(username: $username, password: $password) { id }
}`;

/**
 * What an app writes without gqlauth: fetch with the bearer token, take the
 * rotated token from the response header, parse the JSON, notice an
 * Unauthorized answer. The same job fetchWithAuth does, in plain JS.
 */
export class PlainClient {
  #endpoint;
  #token = null;

  constructor(url) { this.#endpoint = url; }

  async #post(body, token) {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(this.#endpoint, { method: 'POST', headers, body: JSON.stringify(body) });
    const rotated = res.headers.get('X-Authorization') ?? res.headers.get('Authorization');
    if (rotated) this.#token = rotated.replace(/^Bearer\s+/i, '');
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.json();
  }

  async login(username, password) {
    const r = await this.#post({ query: LOGIN, variables: { username, password } });
    if (!r.data?.loginUser || !this.#token) throw new Error('plain login failed');
    return r.data.loginUser;
  }

  async fetchWithAuth(query, variables) {
    if (!this.#token) throw new Error('not logged in');
    const r = await this.#post(variables === undefined ? { query } : { query, variables }, this.#token);
    if (r.errors?.some((e) => e.message === 'Unauthorized')) {
      this.#token = null;
      throw new Error('Unauthorized');
    }
    return r;
  }
}

const clients = {};
const SMALL = '{ me { id } }';
const BLOB = 'query Blob($n: Int!) { blob(bytes: $n) }';

async function setup() {
  clients.gqlauth = await createClient({ endpoint, wasmURL, workerURL });
  await clients.gqlauth.login({ username: USERNAME, password: PASSWORD });
  clients.plain = new PlainClient(endpoint);
  await clients.plain.login(USERNAME, PASSWORD);
  return true;
}

function client(which) {
  const c = clients[which];
  if (!c) throw new Error(`no client ${which}: call setup first`);
  return c;
}

async function small(c) {
  const r = await c.fetchWithAuth(SMALL);
  if (r.data?.me?.id !== '1') throw new Error(`unexpected answer ${JSON.stringify(r)}`);
}

/** n small protected queries one after another; mean ms per query. */
async function sequential(which, n) {
  const c = client(which);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await small(c);
  return (performance.now() - t0) / n;
}

/** n small protected queries at once; ms until the last one settled. */
async function concurrent(which, n) {
  const c = client(which);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, () => small(c)));
  return performance.now() - t0;
}

/** n queries, one after another, each answered with bytes of blob; mean ms. */
async function sized(which, bytes, n) {
  const c = client(which);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await c.fetchWithAuth(BLOB, { n: bytes });
    if (r.data?.blob?.length !== bytes) throw new Error(`blob of ${r.data?.blob?.length} bytes, want ${bytes}`);
  }
  return (performance.now() - t0) / n;
}

/** n small queries by `workers` loops at once, for the memory test. */
async function load(which, n, workers = 4) {
  const c = client(which);
  let left = n;
  const worker = async () => {
    while (left > 0) {
      left--;
      await small(c);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return n;
}

/** The module's WebAssembly memory (from bench-worker.js), and the page's JS heap where the browser tells. */
async function memory() {
  let wasmBytes = null;
  if (workerURL) {
    const channel = new BroadcastChannel('gqlauth-bench');
    wasmBytes = await new Promise((resolve) => {
      channel.onmessage = (e) => resolve(e.data.wasmBytes);
      channel.postMessage('memory?');
    });
    channel.close();
  }
  return {
    wasmBytes,
    performanceMemory: performance.memory ? performance.memory.usedJSHeapSize : null,
  };
}

/** Lets pending callbacks, timers and finalizers run. */
const settle = (ms = 200) => new Promise((r) => setTimeout(r, ms));

/** Adds another client under name, to compare other implementations. */
function addClient(name, c) {
  clients[name] = c;
}

window.bench = { setup, addClient, sequential, concurrent, sized, load, memory, settle };
window.benchLoaded = true;
