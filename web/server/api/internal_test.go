package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
		req, err := decodeRequest(http.MaxBytesReader(rec, io.NopCloser(bytes.NewReader(body)), 64))
		if err == nil {
			if strings.TrimSpace(req.Query) == "" {
				t.Errorf("accepted %q without a query", body)
			}
			return
		}
		var re *requestError
		if !errors.As(err, &re) || (re.status != 400 && re.status != 413) || re.msg == "" {
			t.Errorf("decodeRequest(%q) error = %#v, want a 400 or 413 requestError", body, err)
		}
	})
}

func TestNameAtReadsTheResponseKey(t *testing.T) {
	const query = "{\n  me { id }\n\tall: items { totalCount }\n  é: session { jti } }"
	tests := []struct {
		loc  gqlerrors.Location
		want string
	}{
		{gqlerrors.Location{Line: 2, Column: 3}, "me"},
		{gqlerrors.Location{Line: 3, Column: 2}, "all"},
		{gqlerrors.Location{Line: 4, Column: 6}, "session"},
		{gqlerrors.Location{Line: 9, Column: 1}, ""},
		{gqlerrors.Location{Line: 2, Column: 99}, ""},
		{gqlerrors.Location{Line: 0, Column: 0}, ""},
	}
	for _, tt := range tests {
		if got := nameAt(query, tt.loc); got != tt.want {
			t.Errorf("nameAt(%v) = %q, want %q", tt.loc, got, tt.want)
		}
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
