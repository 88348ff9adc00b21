// Starts floor.wasm the way gqlauth.worker.js starts gqlauth.wasm:
// wasm_exec.js from the same directory, fetch, streaming compilation when
// the type is application/wasm, Go's import object plus the gqlauth.fetch
// binding (which the floor never calls), the same GOGC, and go.run. The
// floor's main blocks in select{} as the module's does, so go.run hands
// control back as soon as the Go runtime has started and main has blocked;
// startFloor resolves then. Only the module's own code and the first
// client are missing.
import './wasm_exec.js';

export async function startFloor(wasmURL = new URL('./floor.wasm', import.meta.url)) {
  const go = new globalThis.Go();
  go.env = { GOGC: '25' };
  go.importObject.gqlauth = { fetch: () => { throw new Error('floor: the floor program has no requests'); } };
  const { instance } = await instantiate(wasmURL, go.importObject);
  go.run(instance).then(() => { throw new Error('floor: the WebAssembly module exited'); });
  return instance;
}

async function instantiate(url, imports) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`floor: could not load ${url}: HTTP ${response.status}`);
  if ((response.headers.get('Content-Type') || '').split(';')[0].trim() === 'application/wasm') {
    return WebAssembly.instantiateStreaming(response, imports);
  }
  return WebAssembly.instantiate(await response.arrayBuffer(), imports);
}
