//go:build js && wasm

package jsbridge

import "unsafe"

// Fetch asks the worker to send the request record req, with body, for
// call: the worker's fetch binding reads both before it returns, starts the
// request, and answers later, from a promise callback, by calling the
// module's head, chunk and end exports.
func Fetch(call uint32, req, body []byte) {
	fetch(call, unsafe.Pointer(unsafe.SliceData(req)), uint32(len(req)), unsafe.Pointer(unsafe.SliceData(body)), uint32(len(body)))
}

//go:wasmimport gqlauth fetch
func fetch(call uint32, req unsafe.Pointer, reqLength uint32, body unsafe.Pointer, bodyLength uint32)
