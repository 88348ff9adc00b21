//go:build js && wasm

// Command floor is the baseline of the readiness benchmark: the smallest Go
// WebAssembly program that starts the way gqlauth.wasm does and signals
// that it is ready. floor.js loads it exactly as gqlauth.js loads
// gqlauth.wasm (same wasm_exec.js, same fetch and streaming compilation, the
// same argv), so whatever it costs is the price of the Go toolchain and
// runtime, not of gqlauth.
//
// It reads its binding object from the fixed global __gqlauthFloor rather
// than from os.Args: package os alone adds about 330 KB to a Go wasm
// program, and the floor should be as bare as Go allows.
package main

import "syscall/js"

func main() {
	js.Global().Get("__gqlauthFloor").Call("ready")
	select {}
}
