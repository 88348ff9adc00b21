package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{"query":"{ me { id } }"}`,
		`{"query":"query Q($a: Int) { items(first: $a) { totalCount } }","variables":{"a":1},"operationName":"Q"}`,
		`{"query":""}`, `[]`, `null`, `{"query":1}`, `{} {}`, `{"query":"x"}   `, `{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req, re := decodeRequest(http.MaxBytesReader(rec, io.NopCloser(bytes.NewReader(body)), 64))
		if re == nil {
			if strings.TrimSpace(req.Query) == "" {
				t.Errorf("accepted %q without a query", body)
			}
			return
		}
		if (re.status != 400 && re.status != 413) || re.msg == "" {
			t.Errorf("decodeRequest(%q) refused %#v, want a 400 or 413", body, re)
		}
	})
}

func TestNameAtReadsTheResponseKey(t *testing.T) {
	const query = "{\n  me { id }\n\tall: items { totalCount }\n  é: session { jti }\n  a: loginUser(username: \"é\", password: \"x\") { id } b: me { id } }"
	// One index answers every lookup, in any order: a column before the
	// last one looked up on the same line walks again from the line start.
	idx := newQueryIndex(query)
	tests := []struct {
		loc  gqlerrors.Location
		want string
	}{
		{gqlerrors.Location{Line: 2, Column: 3}, "me"},
		{gqlerrors.Location{Line: 3, Column: 2}, "all"},
		{gqlerrors.Location{Line: 4, Column: 6}, "session"},
		{gqlerrors.Location{Line: 5, Column: 53}, "b"},
		{gqlerrors.Location{Line: 5, Column: 27}, ""},
		{gqlerrors.Location{Line: 5, Column: 16}, "username"},
		{gqlerrors.Location{Line: 5, Column: 3}, "a"},
		{gqlerrors.Location{Line: 5, Column: 56}, "me"},
		{gqlerrors.Location{Line: 5, Column: 53}, "b"},
		{gqlerrors.Location{Line: 5, Column: 67}, ""},
		{gqlerrors.Location{Line: 5, Column: 66}, ""},
		{gqlerrors.Location{Line: 4, Column: 3}, ""},
		{gqlerrors.Location{Line: 2, Column: 12}, ""},
		{gqlerrors.Location{Line: 2, Column: 13}, ""},
		{gqlerrors.Location{Line: 9, Column: 1}, ""},
		{gqlerrors.Location{Line: 2, Column: 99}, ""},
		{gqlerrors.Location{Line: 0, Column: 0}, ""},
		{gqlerrors.Location{Line: 1, Column: 1}, ""},
	}
	for _, tt := range tests {
		if got := idx.nameAt(tt.loc); got != tt.want {
			t.Errorf("nameAt(%v) = %q, want %q", tt.loc, got, tt.want)
		}
	}
}

// refusedQuery asks for n protected fields under distinct aliases, after a
// public field with a non-ASCII argument, so that columns and bytes differ.
// With sep "\n" each field has a line; with " " all share the first one.
func refusedQuery(n int, sep string) string {
	var b strings.Builder
	b.WriteString(`{ loginUser(username: "é", password: "x") { id }`)
	for i := range n {
		fmt.Fprintf(&b, "%sf%d: me { id }", sep, i)
	}
	b.WriteString(" }")
	return b.String()
}

// defaultLimits returns the limits a Server has by default.
func defaultLimits(t *testing.T) Limits {
	t.Helper()
	lim, err := Limits{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return lim
}

func TestLocatingRefusedFieldsIsLinearInTheQuery(t *testing.T) {
	e, err := newEngine(newStore(nil), defaultLimits(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, shape := range []struct{ name, sep string }{{"lines", "\n"}, {"one line", " "}} {
		t.Run(shape.name, func(t *testing.T) {
			work := map[int]int{}
			for _, n := range []int{1000, 2000} {
				query := refusedQuery(n, shape.sep)
				keys := map[string]bool{}
				for i := range n {
					keys["f"+strconv.Itoa(i)] = true
				}
				locs, idx := e.locateKeys(query, keys)
				if len(locs) != n {
					t.Fatalf("%d fields: located %d", n, len(locs))
				}
				// Scanning for line starts reads the query once; walking
				// to the columns in document order reads it at most once
				// more.
				if idx.work > 2*len(query) {
					t.Errorf("%d fields: work %d, want at most twice the query's %d bytes", n, idx.work, len(query))
				}
				work[n] = idx.work
			}
			// Twice the fields, twice the work, not four times.
			if got := float64(work[2000]) / float64(work[1000]); got > 2.2 {
				t.Errorf("work for 2000 fields / work for 1000 = %.2f, want about 2", got)
			}
		})
	}
}

func TestEverySchemaHasTheEnginesLimits(t *testing.T) {
	e, err := newEngine(newStore(nil), defaultLimits(t))
	if err != nil {
		t.Fatal(err)
	}
	repeated := "{" + strings.Repeat("me{id} ", 8000) + "}"
	deep := "{" + strings.Repeat(" me {", DefaultMaxDepth) + " id" + strings.Repeat(" }", DefaultMaxDepth) + " }"
	long := "{ me { id } }" + strings.Repeat(" ", DefaultMaxQueryBytes)
	for name, schema := range map[string]*graphql.Schema{"full": e.full, "public": e.public, "queries": e.queries} {
		t.Run(name, func(t *testing.T) {
			if errs := schema.Validate(repeated); !slices.ContainsFunc(errs, hasRule(ruleOverlapLimit)) {
				t.Errorf("a field repeated 8000 times: %d errors, none from the overlap limit", len(errs))
			}
			if errs := schema.Validate(deep); !slices.ContainsFunc(errs, hasRule(ruleDepthLimit)) {
				t.Errorf("%d fields deep: %d errors, none from the depth limit", DefaultMaxDepth+1, len(errs))
			}
			if errs := schema.Validate(long); len(errs) != 1 || !strings.Contains(errs[0].Message, "exceeds the maximum allowed query length") {
				t.Errorf("a query longer than the limit: errors %v, want the length limit's", errs)
			}
		})
	}
}

// hasRule reports whether an error is from the validation rule named rule.
func hasRule(rule string) func(*gqlerrors.QueryError) bool {
	return func(e *gqlerrors.QueryError) bool { return e.Rule == rule }
}

func TestLocationsComeInDocumentOrderOnce(t *testing.T) {
	e, err := newEngine(newStore(nil), defaultLimits(t))
	if err != nil {
		t.Fatal(err)
	}
	const query = "query { ...F b: me { id } ...F }\nfragment F on Query { a: me { id } }"
	got := e.unauthorizedLocations(query, map[string]bool{"a": true, "b": true})
	want := []gqlerrors.Location{{Line: 1, Column: 14}, {Line: 2, Column: 23}}
	if !slices.Equal(got, want) {
		t.Errorf("unauthorizedLocations = %v, want %v", got, want)
	}
}

func TestPanicsBecomeGraphQLStyle500(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := s.logRequests(s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
	if got, want := rec.Code, 500; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	if got, want := rec.Body.String(), `{"errors":[{"message":"internal server error","customer_facing":false}]}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}
