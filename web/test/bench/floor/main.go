//go:build js && wasm

// Command floor is the baseline of the readiness benchmark: the smallest Go
// WebAssembly program, started the way gqlauth.worker.js starts
// gqlauth.wasm (floor.js: the same wasm_exec.js, fetch and streaming
// compilation, the same import object with a gqlauth.fetch binding, go.run).
// Its main blocks at once, as the module's does, so go.run returns control
// as soon as the Go runtime has started: whatever that costs is the price
// of the Go toolchain and runtime, not of gqlauth.
package main

func main() {
	select {}
}
