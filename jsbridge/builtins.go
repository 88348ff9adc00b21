//go:build js && wasm

package jsbridge

import (
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"
)

// builtins are the JS globals the bridge uses, looked up once: taking them
// when the module starts saves a property read per use, and a script that
// replaces one of them later does not see what the bridge does with it.
var builtins struct {
	once    sync.Once
	err     error
	object  safejs.Value
	reflect safejs.Value
	json    safejs.Value
	error   safejs.Value
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
			{&b.object, "Object"}, {&b.reflect, "Reflect"},
			{&b.json, "JSON"}, {&b.error, "Error"},
		} {
			var err error
			if *v.dst, err = g.Get(v.name); err != nil || TypeOf(*v.dst) == safejs.TypeUndefined {
				b.err = fmt.Errorf("this JavaScript environment has no %s", v.name)
				return
			}
		}
	})
	return builtins.err
}
