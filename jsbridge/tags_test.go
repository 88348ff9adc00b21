//go:build !js

package jsbridge

import (
	"go/build/constraint"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryFileIsForJSWasm keeps the package honest: anything here is the
// WebAssembly seam, so every file but this one must be built only for
// js/wasm; and so must the module's glue in ../wasm.
func TestEveryFileIsForJSWasm(t *testing.T) {
	for _, dir := range []string{".", "../wasm"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if filepath.Base(f) == "tags_test.go" {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(src), "\n")
			expr, err := constraint.Parse(first)
			// Whatever other tags are set, the file must not build without js and wasm.
			if err != nil || expr.Eval(func(tag string) bool { return tag != "js" && tag != "wasm" }) {
				t.Errorf("%s must start with //go:build js && wasm", f)
			}
		}
	}
}
