package nesting

import (
	"strings"
	"testing"
)

func TestWithin(t *testing.T) {
	tests := []struct {
		name string
		json string
		max  int
		want bool
	}{
		{"scalar", `1`, 0, true},
		{"flat object", `{"a":1}`, 1, true},
		{"object over zero", `{"a":1}`, 0, false},
		{"nested at the bound", `{"a":[{"b":[]}]}`, 4, true},
		{"nested past the bound", `{"a":[{"b":[[]]}]}`, 4, false},
		{"siblings do not add up", `[[],[],[],[]]`, 2, true},
		{"brackets in strings do not count", `{"a":"[[[[{{{{"}`, 1, true},
		{"escaped quote keeps the string open", `{"a":"\"[[[["}`, 1, true},
		{"escaped backslash closes the string", `{"a":"\\"}`, 1, true},
		{"unbalanced closers are harmless", `]]]]{`, 1, true},
		{"deep errors list", `{"errors":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, 256, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Within([]byte(tt.json), tt.max); got != tt.want {
				t.Errorf("Within(%.40q, %d) = %v, want %v", tt.json, tt.max, got, tt.want)
			}
		})
	}
}

func BenchmarkWithin(b *testing.B) {
	body := []byte(`{"data":{"items":[` + strings.Repeat(`{"id":"1","name":"an item with [brackets] in \"quotes\""},`, 20000) + `{}]}}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !Within(body, 256) {
			b.Fatal("too deep")
		}
	}
}

func FuzzWithinAgreesWithACharacterLoop(f *testing.F) {
	for _, s := range []string{`{"a":"\\\"[["}`, `["\\\\"]`, `"[`, `[[["]"]]]`} {
		f.Add([]byte(s), 2)
	}
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if got, want := Within(b, max), withinSlow(b, max); got != want {
			t.Fatalf("Within(%q, %d) = %v, the plain loop says %v", b, max, got, want)
		}
	})
}

// withinSlow is the obvious byte-by-byte definition Within must agree with.
func withinSlow(b []byte, max int) bool {
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case inString:
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > max {
				return false
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return true
}
