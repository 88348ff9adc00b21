package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestObject(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		max     int
		members []Member
		err     error
	}{
		{"members in order", `{"data":{"me":{"id":"1"}},"errors":[{"message":"x"}]}`, 8,
			[]Member{{"data", []byte(`{"me":{"id":"1"}}`)}, {"errors", []byte(`[{"message":"x"}]`)}}, nil},
		{"white space around", " \n{ \"a\" : 1 ,\t\"b\":null }\r\n", 8, []Member{{"a", []byte(`1`)}, {"b", []byte(`null`)}}, nil},
		{"an escaped name", `{"d\u0061ta":true}`, 8, []Member{{"data", []byte(`true`)}}, nil},
		{"a repeated name", `{"a":1,"a":2}`, 8, []Member{{"a", []byte(`1`)}, {"a", []byte(`2`)}}, nil},
		{"empty", `{}`, 1, nil, nil},
		{"at the depth bound", `{"a":[[{}]]}`, 4, []Member{{"a", []byte(`[[{}]]`)}}, nil},
		{"past the depth bound", `{"a":[[{"b":[]}]]}`, 4, nil, ErrTooDeep},
		{"deep errors", `{"errors":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, 256, nil, ErrTooDeep},
		{"an array", `[1,2]`, 8, nil, ErrNotObject},
		{"a string", `"{}"`, 8, nil, ErrNotObject},
		{"nothing", ``, 8, nil, ErrSyntax},
		{"truncated", `{"data":{"me":`, 8, nil, ErrSyntax},
		{"trailing text", `{} {}`, 8, nil, ErrSyntax},
		{"a trailing comma", `{"a":1,}`, 8, nil, ErrSyntax},
		{"a control character in a string", "{\"a\":\"x\x01y\"}", 8, nil, ErrSyntax},
		{"a bad escape", `{"a":"\x"}`, 8, nil, ErrSyntax},
		{"a leading zero", `{"a":01}`, 8, nil, ErrSyntax},
		{"html", `<html>oops</html>`, 8, nil, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Object([]byte(tt.json), tt.max)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("Object() error = %v, want %v", err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.members) {
				t.Errorf("Object() = %q, want %q", got, tt.members)
			}
		})
	}
}

func TestCheckObjectAgreesAndDoesNotAllocate(t *testing.T) {
	secret := []byte(`{"username":"demo","password":"p\"w\u00e9"}`)
	if allocs := testing.AllocsPerRun(20, func() {
		if err := CheckObject(secret, 32); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("CheckObject made %v allocations, want none", allocs)
	}
	for _, b := range []string{`[]`, `{"a":`, `{"a":[[[]]]}`} {
		_, want := Object([]byte(b), 2)
		if got := CheckObject([]byte(b), 2); !sameError(got, want) {
			t.Errorf("CheckObject(%q) = %v, Object says %v", b, got, want)
		}
	}
}

// sameError reports whether a and b are both nil, or wrap the same one of
// the package's errors.
func sameError(a, b error) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	for _, e := range []error{ErrSyntax, ErrTooDeep, ErrNotObject} {
		if errors.Is(a, e) != errors.Is(b, e) {
			return false
		}
	}
	return true
}

// depth is the obvious definition of how deeply b nests.
func depth(b []byte) int {
	d, most, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case inString:
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			d++
			most = max(most, d)
		case c == ']' || c == '}':
			d--
		}
	}
	return most
}

// FuzzObjectAgreesWithEncodingJSON holds Object to encoding/json: it
// accepts exactly the valid JSON objects within the depth bound, and their
// members are what encoding/json reads (the last of a repeated name).
func FuzzObjectAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"data":{"a":[1,2,{"b":"c\"d"}]},"errors":null}`, `{"\ud83d\ude00":1,"\ud800":2}`,
		`[]`, `{"a":1e5,"b":-0.5E-3,"c":true,"d":false}`, `{"a":"\u0000 \/"}`, ` {"a" : [ ] } `, "{\"a\":\"\xff\"}"} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max < 0 || max > 64 {
			return
		}
		members, err := Object(b, max)
		if check := CheckObject(b, max); !sameError(check, err) {
			t.Fatalf("CheckObject(%q) = %v, Object says %v", b, check, err)
		}
		valid := json.Valid(b)
		isObject := valid && bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{"))
		switch {
		case !valid && err == nil:
			t.Fatalf("Object accepted invalid JSON %q", b)
		case valid && depth(b) > max && !errors.Is(err, ErrTooDeep):
			t.Fatalf("Object(%q, %d) = %v, want ErrTooDeep (depth %d)", b, max, err, depth(b))
		case valid && depth(b) <= max && !isObject && !errors.Is(err, ErrNotObject):
			t.Fatalf("Object(%q) = %v, want ErrNotObject", b, err)
		case valid && depth(b) <= max && isObject && err != nil:
			t.Fatalf("Object refused the valid object %q: %v", b, err)
		}
		if err != nil {
			return
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		got := map[string]json.RawMessage{}
		for _, m := range members {
			got[m.Name] = json.RawMessage(m.Value)
		}
		if len(got) != len(want) {
			t.Fatalf("Object(%q) read %d names, encoding/json %d", b, len(got), len(want))
		}
		for name, v := range want {
			if !bytes.Equal(got[name], v) {
				t.Fatalf("Object(%q): member %q is %q, encoding/json reads %q", b, name, got[name], v)
			}
		}
	})
}

func BenchmarkObject(b *testing.B) {
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"blob/1MB", []byte(`{"data":{"blob":"` + strings.Repeat("x", 1<<20) + `"}}`)},
		{"list/1MB", []byte(`{"data":{"items":[` + strings.Repeat(`{"id":"1","name":"an item","done":true,"tags":["a","b"]},`, 1<<20/56) + `{}]}}`)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			for b.Loop() {
				if _, err := Object(tc.body, 256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
