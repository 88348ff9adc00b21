// Counts what crosses gqlauth's seam in the worker, for `run.mjs
// --crossings`. crossings-worker.js imports this module before
// gqlauth.worker.js, so it runs first: it wraps WebAssembly.instantiate and
// instantiateStreaming, so that the Go instance gets counting copies of its
// imports (wasm_exec.js's gojs runtime imports and gqlauth.fetch) and the
// worker and wasm_exec.js get counting copies of its exports; and it counts
// the messages this worker receives from the page and posts to it (calls of
// postMessage, and the records in them: the worker batches).

const counts = { imports: {}, exports: {}, received: { messages: 0, records: {} }, posted: { messages: 0, records: {} } };

function reset() {
  counts.imports = {};
  counts.exports = {};
  counts.received = { messages: 0, records: {} };
  counts.posted = { messages: 0, records: {} };
}

const bump = (m, k, n = 1) => { m[k] = (m[k] ?? 0) + n; };

function counted(table, name, fn) {
  return function (...args) {
    bump(counts[table], name);
    return fn.apply(this, args);
  };
}

function countingImports(imports) {
  const out = {};
  for (const [module, fields] of Object.entries(imports ?? {})) {
    out[module] = {};
    for (const [name, v] of Object.entries(fields)) {
      out[module][name] = typeof v === 'function' ? counted('imports', `${module}.${name}`, v) : v;
    }
  }
  return out;
}

// An Instance whose exports are counting copies; wasm_exec.js insists on an
// instanceof WebAssembly.Instance.
function countingInstance(instance) {
  const exports = {};
  for (const [name, v] of Object.entries(instance.exports)) {
    exports[name] = typeof v === 'function' ? counted('exports', name, v) : v;
  }
  return Object.create(WebAssembly.Instance.prototype, { exports: { value: Object.freeze(exports), enumerable: true } });
}

const { instantiate, instantiateStreaming } = WebAssembly;
WebAssembly.instantiate = async function (source, imports) {
  const r = await instantiate.call(this, source, countingImports(imports));
  return r instanceof WebAssembly.Instance ? countingInstance(r) : { module: r.module, instance: countingInstance(r.instance) };
};
if (typeof instantiateStreaming === 'function') {
  WebAssembly.instantiateStreaming = async function (source, imports) {
    const r = await instantiateStreaming.call(this, source, countingImports(imports));
    return { module: r.module, instance: countingInstance(r.instance) };
  };
}

// The records of one message: the worker sends one, or several in an array.
function tally(side, data) {
  side.messages++;
  for (const m of Array.isArray(data) ? data : [data]) bump(side.records, m?.op ?? m?.kind ?? typeof m);
}

self.addEventListener('message', (e) => tally(counts.received, e.data));
const post = self.postMessage;
self.postMessage = function (data, ...rest) {
  tally(counts.posted, data);
  return post.call(this, data, ...rest);
};

const channel = new BroadcastChannel('gqlauth-bench-crossings');
channel.onmessage = (e) => {
  if (e.data === 'reset') reset();
  channel.postMessage(e.data === 'reset' ? true : counts);
};
