package jsonscan

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
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

func TestStreamOffsetsSliceTheText(t *testing.T) {
	body := ` {"data": {"me": null}, "errors": [{"message": "Un\u0061uthorized", "n": -1.5e3}], "ok" : true}`
	want := []string{`{"data": {"me": null}, "errors": [{"message": "Un\u0061uthorized", "n": -1.5e3}], "ok" : true}`,
		`{"me": null}`, `[{"message": "Un\u0061uthorized", "n": -1.5e3}]`, `true`}
	for size := 1; size <= len(body); size++ {
		var got []string
		open := map[int]int{}
		s := &Stream{MaxDepth: 8, VisitDepth: 1}
		s.OnValue = func(v *Visit) {
			switch {
			case v.Kind <= KindArray && !v.End:
				open[v.Depth] = v.Start
			case v.End:
				got = append(got, body[open[v.Depth]:v.Stop])
			default:
				got = append(got, body[v.Start:v.Stop])
			}
		}
		for i := 0; i < len(body); i += size {
			if err := s.Write([]byte(body[i:min(len(body), i+size)])); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.End(); err != nil {
			t.Fatal(err)
		}
		// The top-level object closes last.
		got = append(got[len(got)-1:], got[:len(got)-1]...)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("in pieces of %d: values\n%q\nwant\n%q", size, got, want)
		}
	}
}

func TestVisitText(t *testing.T) {
	long := strings.Repeat("x", shortRaw)
	body := `{"errors":[{"message":"Un\u0061uthorized \ud83d\ude00\n","path":["me",1]},{"message":"` + long + `"},` +
		`{"message":"` + long + `y"},{"message":"` + long[6:] + `\u0078"},{"message":""}]}`
	want := []string{"Unauthorized \U0001F600\n", "me", long, "no text", long[6:] + "x", ""}
	for _, size := range []int{1, 7, len(body)} {
		var got []string
		s := &Stream{MaxDepth: 8, VisitDepth: 4}
		s.OnValue = func(v *Visit) {
			if v.Kind == KindString || v.Kind == KindNumber {
				text, ok := v.Text()
				if !ok {
					text = "no text"
				}
				if ok != v.StringIs(text) {
					t.Errorf("StringIs(%q) = %t, but Text() says %t", text, !ok, ok)
				}
				if v.Kind == KindNumber {
					return
				}
				got = append(got, text)
			}
		}
		for i := 0; i < len(body); i += size {
			_ = s.Write([]byte(body[i:min(len(body), i+size)]))
		}
		if err := s.End(); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("in pieces of %d: texts\n%q\nwant\n%q", size, got, want)
		}
	}
}

func TestVisitNameIs(t *testing.T) {
	name := strings.Repeat("é", 60) // 120 bytes, and 360 as \u00e9
	body := `{"` + name + `":1,"` + strings.Repeat(`\u00e9`, 60) + `":2,"` + strings.Repeat(`\u00e9`, 42) + `":3,"\ud800":4}`
	var got []bool
	s := &Stream{MaxDepth: 8, VisitDepth: 1, OnValue: func(v *Visit) {
		if v.Depth == 1 {
			got = append(got, v.NameIs(name), v.NameIs(strings.Repeat("é", 42)), v.NameIs("\uFFFD"))
		}
	}}
	_ = s.Write([]byte(body))
	if err := s.End(); err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, false, false, false, false, false, true, false, false, false, true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NameIs: %v, want %v (a raw name longer than %d bytes is never equal)", got, want, shortRaw)
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

// seen is what a visit says, and the name and text the Stream kept for it.
type seen struct {
	Kind            Kind
	Depth           int
	End, InObject   bool
	Start, Stop     int
	Name            string // the member name NameIs matches, of names
	Text            string
	HasText, IsText bool // Text's ok, and StringIs(Text)
}

// visitAll runs a Stream over b, first cut at size1 and then in pieces of
// size2 (0: whole), and returns End's error and every visit to depth 3.
func visitAll(b []byte, maxDepth int, names []string, size1, size2 int) (error, []seen) {
	var visits []seen
	s := &Stream{MaxDepth: maxDepth, VisitDepth: 3}
	s.OnValue = func(v *Visit) {
		x := seen{Kind: v.Kind, Depth: v.Depth, End: v.End, InObject: v.InObject, Start: v.Start, Stop: v.Stop, Name: "?"}
		for _, name := range names {
			if v.NameIs(name) {
				x.Name = name
			}
		}
		x.Text, x.HasText = v.Text()
		x.IsText = v.StringIs(x.Text)
		visits = append(visits, x)
	}
	if size2 <= 0 {
		_ = s.Write(b)
		return s.End(), visits
	}
	cut := min(len(b), size1)
	_ = s.Write(b[:cut])
	for i := cut; i < len(b); i += size2 {
		_ = s.Write(b[i:min(len(b), i+size2)])
	}
	return s.End(), visits
}

// FuzzStreamAgreesWithObject holds Stream, written in pieces cut anywhere,
// to Stream written the whole text at once, which is what Object reads:
// the same verdict (nil, ErrSyntax, ErrTooDeep, ErrNotObject) as Object,
// and the same visits, at the same offsets, with the same names and texts.
// Each visit's offsets slice its value out of the text (for a valid
// object, the values of Object's members), its text is Value's, and names
// are compared as NameIs sees them.
func FuzzStreamAgreesWithObject(f *testing.F) {
	for _, s := range []string{`{"data":{"a":[1,2,{"b":"c\"d"}]},"errors":null}`, `{"\ud83d\ude00":1,"\ud800":2}`,
		`[]`, `{"a":1e5,"b":-0.5E-3,"c":true,"d":false}`, `{"a":"\u0000 \/"}`, ` {"a" : [ ] } `, "{\"a\":\"\xff\"}",
		`{"errors":[{"message":"Unauthorized"}],"data":null}`, `{"a":0}`, `{"a":-}`, `{"a":1.5e}`,
		`{"errors":[{"message":"` + strings.Repeat("long ", 60) + `","extensions":{"code":"UNAUTHENTICATED"}}]}`} {
		f.Add([]byte(s), 3, uint8(1), uint8(5))
	}
	f.Fuzz(func(t *testing.T, b []byte, maxDepth int, size1, size2 uint8) {
		if maxDepth < 0 || maxDepth > 64 {
			return
		}
		members, want := Object(b, maxDepth)
		names := []string{"data", "errors", "message", "a", "é", "\U0001F600"}
		for _, m := range members {
			names = append(names, m.Name)
		}
		wholeErr, whole := visitAll(b, maxDepth, names, 0, 0)
		if !sameError(wholeErr, want) {
			t.Fatalf("Stream(%q, %d) = %v, Object says %v", b, maxDepth, wholeErr, want)
		}
		gotErr, got := visitAll(b, maxDepth, names, int(size1), max(1, int(size2)))
		if !sameError(gotErr, wholeErr) {
			t.Fatalf("Stream(%q, %d) in pieces = %v, whole %v", b, maxDepth, gotErr, wholeErr)
		}
		if want != nil {
			return
		}
		if !reflect.DeepEqual(got, whole) {
			t.Fatalf("Stream(%q) in pieces %d, %d visits\n%+v\nwhole\n%+v", b, size1, size2, got, whole)
		}
		var tops []Member
		open := map[int]seen{} // the opening visit of the open container at a depth
		for _, v := range whole {
			if v.Stop <= v.Start || v.Stop > len(b) {
				t.Fatalf("Stream(%q): a visit at %d:%d", b, v.Start, v.Stop)
			}
			raw := b[v.Start:v.Stop]
			switch {
			case v.Kind <= KindArray && !v.End:
				open[v.Depth] = v
				if kindOf(raw[0]) != v.Kind || len(raw) != 1 {
					t.Fatalf("Stream(%q): a %v opens with %q", b, v.Kind, raw)
				}
				continue
			case v.End:
				if raw[0] != map[Kind]byte{KindObject: '}', KindArray: ']'}[v.Kind] {
					t.Fatalf("Stream(%q): a %v closes with %q", b, v.Kind, raw)
				}
				raw, v.Name = b[open[v.Depth].Start:v.Stop], open[v.Depth].Name
			}
			if kindOf(raw[0]) != v.Kind || CheckObject([]byte(`{"x":`+string(raw)+`}`), MaxDepth) != nil {
				t.Fatalf("Stream(%q): a %v visited at %q", b, v.Kind, raw)
			}
			text, ok := Value(raw).Text()
			if ok && len(raw) <= shortRaw+2 && (!v.HasText || v.Text != text || !v.IsText) ||
				(!ok || len(raw) > shortRaw+2) && v.HasText {
				t.Fatalf("Stream(%q): Visit.Text() = %q, %t; Value(%s).Text() = %q, %t", b, v.Text, v.HasText, raw, text, ok)
			}
			if v.Depth == 1 {
				tops = append(tops, Member{Name: v.Name, Value: raw})
			}
		}
		if len(tops) != len(members) {
			t.Fatalf("Stream(%q) visited %d members, Object found %d", b, len(tops), len(members))
		}
		for i, m := range members {
			if !bytes.Equal(tops[i].Value, m.Value) {
				t.Fatalf("Stream(%q): member %d is %q, Object reads %q", b, i, tops[i].Value, m.Value)
			}
			// A name's raw text is at most six times as long (\u0061 for a).
			if len(m.Name) <= shortRaw/6 && tops[i].Name != m.Name {
				t.Fatalf("Stream(%q): member %d is named %q, NameIs does not say so", b, i, m.Name)
			}
		}
	})
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
