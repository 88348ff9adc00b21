// Loads floor.wasm the way gqlauth.js loads gqlauth.wasm: wasm_exec.js from
// the same directory, fetch, streaming compilation when the type is
// application/wasm, a private binding object, go.run, and a wait for the
// module's ready call. Only the exports and the client are missing.

export async function startFloor(wasmURL = new URL('./floor.wasm', import.meta.url)) {
  if (typeof globalThis.Go !== 'function') {
    await import('./wasm_exec.js');
  }
  const go = new globalThis.Go();
  const binding = {};
  const ready = new Promise((resolve) => { binding.ready = resolve; });
  const key = `__gqlauth_${Math.random().toString(36).slice(2)}`;
  go.argv = ['floor.wasm', key];
  const { instance } = await instantiate(wasmURL, go.importObject);
  globalThis.__gqlauthFloor = binding;
  const exited = go.run(instance).then(() => { throw new Error('floor: the WebAssembly module exited'); });
  try {
    await Promise.race([ready, exited]);
  } finally {
    delete globalThis.__gqlauthFloor;
  }
  delete binding.ready;
  return binding;
}

async function instantiate(url, imports) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`floor: could not load ${url}: HTTP ${response.status}`);
  if (typeof WebAssembly.instantiateStreaming === 'function' &&
      (response.headers.get('Content-Type') || '').split(';')[0].trim() === 'application/wasm') {
    return WebAssembly.instantiateStreaming(response, imports);
  }
  return WebAssembly.instantiate(await response.arrayBuffer(), imports);
}
