//go:build js && wasm

package jsbridge

import (
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"
)

// builtins are the JS globals the bridge uses, looked up once. Taking them
// when the module starts saves a property read per use, and a script that
// replaces globalThis.fetch later cannot see the requests (and so the
// Authorization header) through it.
var builtins struct {
	once            sync.Once
	err             error
	fetch           safejs.Value // globalThis.fetch, bound to globalThis
	abortController safejs.Value
	uint8Array      safejs.Value
	object          safejs.Value
	promise         safejs.Value
	reflect         safejs.Value
	json            safejs.Value
	string          safejs.Value
	error           safejs.Value
}

// Init looks up the JS globals the bridge uses. Call it as the module
// starts, before any app code can run again; later calls do nothing. Every
// function of the package calls it too.
func Init() error {
	builtins.once.Do(func() {
		g := safejs.Global()
		b := &builtins
		for _, v := range []struct {
			dst  *safejs.Value
			name string
		}{
			{&b.abortController, "AbortController"}, {&b.uint8Array, "Uint8Array"}, {&b.object, "Object"},
			{&b.promise, "Promise"}, {&b.reflect, "Reflect"}, {&b.json, "JSON"}, {&b.string, "String"}, {&b.error, "Error"},
		} {
			var err error
			if *v.dst, err = g.Get(v.name); err != nil || TypeOf(*v.dst) == safejs.TypeUndefined {
				b.err = fmt.Errorf("this JavaScript environment has no %s", v.name)
				return
			}
		}
		fetch, err := g.Get("fetch")
		if err != nil || TypeOf(fetch) != safejs.TypeFunction {
			b.err = fmt.Errorf("this JavaScript environment has no fetch")
			return
		}
		b.fetch, b.err = fetch.Call("bind", g)
	})
	return builtins.err
}
