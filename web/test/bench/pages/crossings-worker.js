// gqlauth's worker with counters on its seam (crossings-count.js, which
// must run first: it wraps WebAssembly.instantiate* and postMessage before
// gqlauth.worker.js and wasm_exec.js load). bench.html?worker=crossings
// starts its client with this worker, for `run.mjs --crossings`.
import './crossings-count.js';
import './gqlauth.worker.js';
