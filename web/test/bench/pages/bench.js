// The in-page half of the throughput and memory benchmarks. The runner
// (run.mjs) calls window.bench.* and does the interleaving; everything here
// times one batch of work with performance.now().
import { createClient } from './gqlauth.js';
import { PlainClient } from './plain-client.js';

const endpoint = new URL('/graphql', location.href).href;
// ?wasm=URL loads another build of the module (the profiler uses the one
// with a name section); the default is gqlauth.wasm next to gqlauth.js.
// ?worker=bench starts gqlauth with bench-worker.js, which reports memory;
// ?worker=crossings with crossings-worker.js, which counts what crosses.
const params = new URLSearchParams(location.search);
const wasmURL = params.get('wasm') ?? undefined;
const WORKERS = { bench: './bench-worker.js', crossings: './crossings-worker.js' };
const workerURL = Object.hasOwn(WORKERS, params.get('worker')) ? new URL(WORKERS[params.get('worker')], import.meta.url) : undefined;
const USERNAME = 'demo';
const PASSWORD = 'demo-password';

/**
 * The page's end of plain-worker.js: the plain client in a dedicated module
 * worker. Each call posts {id, op, ...} and resolves with the parsed result
 * the worker posts back.
 */
class PlainWorkerClient {
  #worker;
  #next = 0;
  #pending = new Map();

  constructor(url) {
    this.#worker = new Worker(url, { type: 'module' });
    this.#worker.onmessage = ({ data: { id, ok, value, message } }) => {
      const p = this.#pending.get(id);
      this.#pending.delete(id);
      if (ok) p.resolve(value);
      else p.reject(new Error(message));
    };
  }

  #call(msg) {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, ...msg });
    });
  }

  login(username, password) { return this.#call({ op: 'login', endpoint, username, password }); }

  fetchWithAuth(query, variables) { return this.#call({ op: 'fetchWithAuth', query, variables }); }

  close() { this.#worker.terminate(); }
}

const clients = {};
const SMALL = '{ me { id } }';
const BLOB = 'query Blob($n: Int!) { blob(bytes: $n) }';

async function setup() {
  clients.gqlauth = await createClient({ endpoint, wasmURL, workerURL });
  await clients.gqlauth.login({ username: USERNAME, password: PASSWORD });
  clients.plain = new PlainClient(endpoint);
  await clients.plain.login(USERNAME, PASSWORD);
  clients.plainWorker = new PlainWorkerClient(new URL('./plain-worker.js', import.meta.url));
  await clients.plainWorker.login(USERNAME, PASSWORD);
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
  if (params.get('worker') === 'bench') {
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

/**
 * What crossed gqlauth's seam since the last reset (crossings-worker.js,
 * answering on the BroadcastChannel "gqlauth-bench-crossings"): op is
 * 'reset' or 'read'; read answers {imports, exports, received, posted}.
 */
async function crossings(op) {
  const channel = new BroadcastChannel('gqlauth-bench-crossings');
  try {
    return await new Promise((resolve) => {
      channel.onmessage = (e) => resolve(e.data);
      channel.postMessage(op);
    });
  } finally {
    channel.close();
  }
}

/** Lets pending callbacks, timers and finalizers run. */
const settle = (ms = 200) => new Promise((r) => setTimeout(r, ms));

/** Adds another client under name, to compare other implementations. */
function addClient(name, c) {
  clients[name] = c;
}

window.bench = { setup, addClient, sequential, concurrent, sized, load, memory, crossings, settle };
window.benchLoaded = true;
