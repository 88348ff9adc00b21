// gqlauth's worker, plus what the memory benchmark reads: the size of the
// module's WebAssembly memory, answered on the BroadcastChannel
// "gqlauth-bench". bench.html?worker=bench starts its client with this
// worker; the throughput benchmarks use the real one.
import './gqlauth.worker.js';

let memory = null;
const run = globalThis.Go.prototype.run;
globalThis.Go.prototype.run = function (instance) {
  memory = instance.exports.mem;
  return run.call(this, instance);
};

const channel = new BroadcastChannel('gqlauth-bench');
channel.onmessage = () => channel.postMessage({ wasmBytes: memory ? memory.buffer.byteLength : null });
