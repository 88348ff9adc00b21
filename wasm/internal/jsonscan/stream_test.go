package jsonscan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// scanPieces runs a Stream over b cut into pieces of the given sizes (the
// last size repeats), and returns End's error and what OnValue was told.
func scanPieces(b []byte, maxDepth, visitDepth int, sizes ...int) (error, []string) {
	var seen []string
	s := &Stream{MaxDepth: maxDepth, VisitDepth: visitDepth}
	s.OnValue = func(v *Visit) {
		seen = append(seen, describeVisit(v))
	}
	for i, k := 0, 0; i < len(b); k++ {
		n := max(1, sizes[min(k, len(sizes)-1)])
		end := min(len(b), i+n)
		if err := s.Write(b[i:end]); err != nil {
			if err != s.End() {
				return fmt.Errorf("End() disagrees with Write()'s error %w", err), seen
			}
			return err, seen
		}
		i = end
	}
	return s.End(), seen
}

func describeVisit(v *Visit) string {
	kinds := map[Kind]string{KindObject: "object", KindArray: "array", KindString: "string", KindNumber: "number",
		KindTrue: "true", KindFalse: "false", KindNull: "null"}
	s := fmt.Sprintf("%d:%s", v.Depth, kinds[v.Kind])
	if v.End {
		s += " end"
	}
	for _, name := range []string{"data", "errors", "message", "a"} {
		if v.NameIs(name) {
			s += " " + name
		}
	}
	if v.StringIs("Unauthorized") {
		s += " =Unauthorized"
	}
	return s
}

func TestStream(t *testing.T) {
	tests := []struct {
		name   string
		json   string
		max    int
		visits []string
		err    error
	}{
		{"a refusal", `{"errors":[{"message":"Unauthorized","path":["me"]}],"data":null}`, 8, []string{
			"0:object", "1:array errors", "2:object", "3:string message =Unauthorized", "3:array", "3:array end",
			"2:object end", "1:array end", "1:null data", "0:object end"}, nil},
		{"escaped names and text", `{"d\u0061ta":{},"errors":[{"m\u0065ssage":"Un\u0061uthorized"}]}`, 8, []string{
			"0:object", "1:object data", "1:object end", "1:array errors", "2:object", "3:string message =Unauthorized",
			"2:object end", "1:array end", "0:object end"}, nil},
		{"numbers and literals", `{"a":-0.5e+3,"b":[0,12,1E2,true,false,null]}`, 8, []string{
			"0:object", "1:number a", "1:array", "2:number", "2:number", "2:number", "2:true", "2:false", "2:null",
			"1:array end", "0:object end"}, nil},
		{"a long text is not compared", `{"message":"Unauthorized` + strings.Repeat(" ", 100) + `"}`, 8, []string{
			"0:object", "1:string message", "0:object end"}, nil},
		{"deeper values are not visited", `{"data":{"a":{"b":{"c":{"d":1}}}}}`, 8, []string{
			"0:object", "1:object data", "2:object a", "3:object", "3:object end", "2:object end", "1:object end", "0:object end"}, nil},
		{"past the depth bound", `{"a":[[{"b":[]}]]}`, 4, nil, ErrTooDeep},
		{"an array", `[1,2]`, 8, nil, ErrNotObject},
		{"a number", ` 12 `, 8, nil, ErrNotObject},
		{"nothing", ``, 8, nil, ErrSyntax},
		{"truncated in a string", `{"data":"abc`, 8, nil, ErrSyntax},
		{"truncated in an escape", `{"data":"\u00`, 8, nil, ErrSyntax},
		{"truncated in a literal", `{"data":nul`, 8, nil, ErrSyntax},
		{"truncated in a number", `{"data":1.`, 8, nil, ErrSyntax},
		{"trailing text", `{} {}`, 8, nil, ErrSyntax},
		{"a trailing comma", `{"a":1,}`, 8, nil, ErrSyntax},
		{"a control character", "{\"a\":\"x\x01y\"}", 8, nil, ErrSyntax},
		{"a bad escape", `{"a":"\x"}`, 8, nil, ErrSyntax},
		{"a bad hex digit", `{"a":"\u00g0"}`, 8, nil, ErrSyntax},
		{"a leading zero", `{"a":01}`, 8, nil, ErrSyntax},
		{"a misspelled literal", `{"a":nulL}`, 8, nil, ErrSyntax},
		{"a literal run on", `{"a":truex}`, 8, nil, ErrSyntax},
		{"a colon missing", `{"a" 1}`, 8, nil, ErrSyntax},
		{"html", `<html>oops</html>`, 8, nil, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, objectErr := Object([]byte(tt.json), tt.max)
			if !errors.Is(objectErr, tt.err) || (tt.err == nil) != (objectErr == nil) {
				t.Fatalf("the case is wrong: Object says %v", objectErr)
			}
			// Whole, then in pieces of every size up to the length.
			for size := len(tt.json) + 1; size >= 1; size-- {
				err, visits := scanPieces([]byte(tt.json), tt.max, 3, size)
				if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
					t.Fatalf("in pieces of %d: error %v, want %v", size, err, tt.err)
				}
				if tt.err == nil && strings.Join(visits, ", ") != strings.Join(tt.visits, ", ") {
					t.Fatalf("in pieces of %d: visits\n%s\nwant\n%s", size, strings.Join(visits, ", "), strings.Join(tt.visits, ", "))
				}
			}
		})
	}
}

func TestStreamDoesNotAllocate(t *testing.T) {
	body := []byte(`{"errors":[{"message":"Unauthorized"}],"data":{"items":[1,2,3],"name":"x\ny"}}`)
	s := &Stream{MaxDepth: 256, VisitDepth: 3}
	refused := false
	s.OnValue = func(v *Visit) { refused = refused || v.StringIs("Unauthorized") }
	if allocs := testing.AllocsPerRun(20, func() {
		*s = Stream{MaxDepth: 256, VisitDepth: 3, OnValue: s.OnValue}
		for i := 0; i < len(body); i += 7 {
			_ = s.Write(body[i:min(len(body), i+7)])
		}
		if err := s.End(); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("a scan made %v allocations, want none", allocs)
	}
	if !refused {
		t.Error("the message was not seen")
	}
}

// FuzzStreamAgreesWithObject holds Stream to Object, cut anywhere: the same
// verdict (nil, ErrSyntax, ErrTooDeep, ErrNotObject), and, for a valid
// object, a visit for each top-level member, in order, whose name and kind
// are the member's.
func FuzzStreamAgreesWithObject(f *testing.F) {
	for _, s := range []string{`{"data":{"a":[1,2,{"b":"c\"d"}]},"errors":null}`, `{"\ud83d\ude00":1,"\ud800":2}`,
		`[]`, `{"a":1e5,"b":-0.5E-3,"c":true,"d":false}`, `{"a":"\u0000 \/"}`, ` {"a" : [ ] } `, "{\"a\":\"\xff\"}",
		`{"errors":[{"message":"Unauthorized"}],"data":null}`, `{"a":0}`, `{"a":-}`, `{"a":1.5e}`} {
		f.Add([]byte(s), 3, uint8(1), uint8(5))
	}
	f.Fuzz(func(t *testing.T, b []byte, maxDepth int, size1, size2 uint8) {
		if maxDepth < 0 || maxDepth > 64 {
			return
		}
		members, want := Object(b, maxDepth)
		var tops []*Visit
		var names []string
		s := &Stream{MaxDepth: maxDepth, VisitDepth: 1}
		s.OnValue = func(v *Visit) {
			if v.Depth == 1 && !v.End {
				c := *v
				tops = append(tops, &c)
				name := "?"
				for _, m := range members {
					if v.NameIs(m.Name) {
						name = m.Name
					}
				}
				names = append(names, name)
			}
		}
		cut := min(len(b), int(size1))
		_ = s.Write(b[:cut])
		for i := cut; i < len(b); i += max(1, int(size2)) {
			_ = s.Write(b[i:min(len(b), i+max(1, int(size2)))])
		}
		got := s.End()
		if !sameError(got, want) {
			t.Fatalf("Stream(%q, %d) = %v, Object says %v", b, maxDepth, got, want)
		}
		if want != nil || len(b) == 0 {
			return
		}
		if len(tops) != len(members) {
			t.Fatalf("Stream(%q) visited %d members, Object found %d", b, len(tops), len(members))
		}
		for i, m := range members {
			kind := map[byte]Kind{'{': KindObject, '[': KindArray, '"': KindString, 't': KindTrue, 'f': KindFalse, 'n': KindNull}[m.Value[0]]
			if kind == 0 {
				kind = KindNumber
			}
			if tops[i].Kind != kind {
				t.Fatalf("Stream(%q): member %d is a %v, Object reads %q", b, i, tops[i].Kind, m.Value)
			}
			if isShortASCII(m.Name) && names[i] != m.Name {
				t.Fatalf("Stream(%q): member %d is named %q, NameIs does not say so", b, i, m.Name)
			}
		}
	})
}

func isShortASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return len(s) <= 12
}

func BenchmarkStream(b *testing.B) {
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"blob/1MB", []byte(`{"data":{"blob":"` + strings.Repeat("x", 1<<20) + `"}}`)},
		{"list/1MB", []byte(`{"data":{"items":[` + strings.Repeat(`{"id":"1","name":"an item","done":true,"tags":["a","b"]},`, 1<<20/56) + `{}]}}`)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			s := &Stream{}
			for b.Loop() {
				*s = Stream{MaxDepth: 256, VisitDepth: 3, OnValue: func(*Visit) {}}
				for i := 0; i < len(tc.body); i += 64 << 10 { // fetch's pieces are about this size
					if err := s.Write(tc.body[i:min(len(tc.body), i+64<<10)]); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.End(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
