//go:build js && wasm

package jsbridge

import (
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"
)

// builtins are the JS globals the bridge uses, looked up once: taking them
// when the module starts saves a property read per use, and code that
// replaces one of them later does not see what the bridge does with it.
var builtins struct {
	once            sync.Once
	err             error
	object          safejs.Value
	array           safejs.Value
	reflect         safejs.Value
	json            safejs.Value
	error           safejs.Value
	string          safejs.Value
	promise         safejs.Value
	uint8Array      safejs.Value
	abortController safejs.Value
	textEncoder     safejs.Value // an instance
	lastIndexOf     safejs.Value // String.prototype.lastIndexOf
	emptyString     safejs.Value // [""], lastIndexOf's arguments for a length
	noArgs          safejs.Value // [], the arguments of a getter called with Reflect.apply
	abortedGetter   safejs.Value // AbortSignal.prototype's aborted getter
	withResolvers   safejs.Value // Promise.withResolvers, undefined where there is none
	fetch           safejs.Value // undefined where there is none
	noop            safejs.Value // Function.prototype, a function that does nothing
}

// Init looks up the JS globals the bridge uses. Call it as the module
// starts; later calls do nothing. Every function of the package calls it
// too.
func Init() error {
	builtins.once.Do(initBuiltins) // a named function: a closure here would be copied into every caller
	return builtins.err
}

func initBuiltins() {
	g := safejs.Global()
	b := &builtins
	for _, v := range []struct {
		dst  *safejs.Value
		name string
	}{
		{&b.object, "Object"}, {&b.array, "Array"}, {&b.reflect, "Reflect"}, {&b.json, "JSON"}, {&b.error, "Error"},
		{&b.string, "String"}, {&b.promise, "Promise"}, {&b.uint8Array, "Uint8Array"},
		{&b.abortController, "AbortController"},
	} {
		var err error
		if *v.dst, err = g.Get(v.name); err != nil || TypeOf(*v.dst) == safejs.TypeUndefined {
			b.err = fmt.Errorf("this JavaScript environment has no %s", v.name)
			return
		}
	}
	encoder, err := g.Get("TextEncoder")
	if err == nil {
		b.textEncoder, err = encoder.New()
	}
	if err != nil {
		b.err = fmt.Errorf("this JavaScript environment has no TextEncoder")
		return
	}
	// AbortSignal.prototype's aborted getter, read through Reflect.get
	// (Get would call Init again).
	if signal, err := g.Get("AbortSignal"); err == nil && TypeOf(signal) == safejs.TypeFunction {
		if proto, err := b.reflect.Call("get", signal, "prototype"); err == nil {
			if desc, err := b.object.Call("getOwnPropertyDescriptor", proto, "aborted"); err == nil && TypeOf(desc) == safejs.TypeObject {
				b.abortedGetter, _ = b.reflect.Call("get", desc, "get")
			}
		}
	}
	if proto, err := b.reflect.Call("get", b.string, "prototype"); err == nil {
		b.lastIndexOf, _ = b.reflect.Call("get", proto, "lastIndexOf")
	}
	if b.noArgs, err = b.array.Call("of"); err != nil {
		b.err = err
		return
	}
	if b.emptyString, err = b.array.Call("of", ""); err != nil || TypeOf(b.lastIndexOf) != safejs.TypeFunction {
		b.err = fmt.Errorf("this JavaScript environment has no String.prototype.lastIndexOf")
		return
	}
	b.withResolvers, _ = b.reflect.Call("get", b.promise, "withResolvers")
	if function, err := g.Get("Function"); err == nil {
		b.noop, _ = b.reflect.Call("get", function, "prototype")
	}
	// fetch is looked up, not required: only Fetch needs it.
	b.fetch, _ = g.Get("fetch")
	b.err = makeShared()
}

// makeShared makes the few JS functions the bridge shares between all
// calls, once, so that no call makes one (and the count of live functions
// does not move while the module works).
func makeShared() (err error) {
	ignore := func(error) any { return nil }
	if waits.settle, err = FuncOf(settleWait, ignore); err != nil {
		return err
	}
	if aborts.callback, err = FuncOf(fireAbort, ignore); err != nil {
		return err
	}
	aborts.pending = map[int]func(){}
	if TypeOf(builtins.withResolvers) != safejs.TypeFunction {
		promises.executor, err = FuncOf(executor, ignore)
	}
	return err
}
