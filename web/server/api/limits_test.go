package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/gqlauth/gqlauth/web/server/api"
)

// limitError checks that res is the answer to a query refused by a limit:
// 200, one GraphQL error starting with prefix, not customer facing, no
// data.
func limitError(t *testing.T, res result, prefix string) {
	t.Helper()
	if res.status != 200 {
		t.Errorf("status = %d, want 200", res.status)
	}
	b := decode(t, res)
	if len(b.Errors) != 1 || !strings.HasPrefix(b.Errors[0].Message, prefix) ||
		b.Errors[0].CustomerFacing == nil || *b.Errors[0].CustomerFacing {
		t.Errorf("body = %.300s, want one error %q..., customer_facing false", res.body, prefix)
	}
	if b.Data != nil {
		t.Errorf("body has data: %.300s", res.body)
	}
}

func TestAFieldRepeatedThousandsOfTimesGetsTheOverlapLimitsError(t *testing.T) {
	ts := newServer(t, api.Config{})
	token := login(t, ts)
	const want = "the query repeats fields under one name too often to validate (more than 10000 pairs to compare): ask for each field once"
	res := post(t, ts, "", repeatedFieldQuery(), nil)
	limitError(t, res, want)
	noToken(t, res)
	// With a valid token, the same error, and a fresh token as for any
	// valid request.
	res = post(t, ts, "Bearer "+token, repeatedFieldQuery(), nil)
	limitError(t, res, want)
	token = tokenOf(t, res)
	// The same fields under distinct aliases are fine.
	var q strings.Builder
	q.WriteString("{")
	for i := range 100 {
		fmt.Fprintf(&q, " m%d: me { id }", i)
	}
	q.WriteString(" }")
	res = post(t, ts, "Bearer "+token, q.String(), nil)
	if b := decode(t, res); len(b.Errors) != 0 || len(b.Data) != 100 {
		t.Errorf("100 aliases of me: %.300s", res.body)
	}
}

func TestBlobsTogetherCannotExceedTheAnswerBudget(t *testing.T) {
	ts := newServer(t, api.Config{})
	token := login(t, ts)
	res := post(t, ts, "Bearer "+token, blobAliasesQuery(16), nil)
	if res.status != 200 {
		t.Errorf("status = %d, want 200", res.status)
	}
	// blob is non-null: one that failed makes the whole data null. Which of
	// the aliases got the budget depends on the order they ran in.
	b := decode(t, res)
	if len(b.Errors) != 15 || b.Data != nil || !strings.HasSuffix(string(res.body), `"data":null}`) {
		t.Fatalf("body %.300s, want 15 errors and null data", res.body)
	}
	for _, e := range b.Errors {
		if want := fmt.Sprintf("the answer would be larger than the limit of %d bytes: ask for less in one request", api.DefaultMaxAnswerBytes); !strings.HasPrefix(e.Message, want) {
			t.Errorf("error %q, want %q...", e.Message, want)
		}
	}
	// A valid request, answered with errors, carries a fresh token as usual.
	token = tokenOf(t, res)
	// One blob of MaxBlobBytes fits the default budget.
	res = post(t, ts, "Bearer "+token, blobAliasesQuery(1), nil)
	const head, tail = `{"data":{"b0":"`, `"}}`
	if body := string(res.body); len(body) != len(head)+api.MaxBlobBytes+len(tail) ||
		!strings.HasPrefix(body, head+"xxx") || !strings.HasSuffix(body, "xxx"+tail) {
		t.Errorf("one blob of MaxBlobBytes: %d bytes, %.100s", len(body), body)
	}
}

func TestTheAnswerBudgetIsPerRequestAndSharedByBlobAndItems(t *testing.T) {
	ts := newServer(t, api.Config{Limits: api.Limits{AnswerBytes: 1000}})
	token := login(t, ts)
	tests := []struct {
		query string
		ok    bool
	}{
		{`{ a: blob(bytes: 600) b: blob(bytes: 400) }`, true},
		{`{ a: blob(bytes: 600) b: blob(bytes: 401) }`, false},
		{`{ items(first: 1) { nodes { name } } }`, true},
		{`{ items(first: 1) { nodes { name } } blob(bytes: 1000) }`, false},
		{`{ items(first: 0) { totalCount } blob(bytes: 1000) }`, true},
		// Items draws for the nodes it returns, whatever the query selects
		// of them: 50 nodes cost more than 1000 bytes.
		{`{ items(first: 50) { totalCount } }`, false},
	}
	for _, tt := range tests {
		// Each request has the whole budget, whatever the one before spent.
		for range 2 {
			res := post(t, ts, "Bearer "+token, tt.query, nil)
			token = tokenOf(t, res)
			b := decode(t, res)
			if tt.ok && (len(b.Errors) != 0 || b.Data == nil) {
				t.Errorf("%s: %.300s, want data and no errors", tt.query, res.body)
			}
			if !tt.ok && (len(b.Errors) != 1 || b.Data != nil ||
				!strings.HasPrefix(b.Errors[0].Message, "the answer would be larger than the limit of 1000 bytes: ask for less in one request")) {
				t.Errorf("%s: %.300s, want the answer budget's error and null data", tt.query, res.body)
			}
		}
	}
}

func TestQueriesOverTheLimitsGetGraphQLErrorsAndRunNothing(t *testing.T) {
	// Room for loginQuery, not much more.
	ts := newServer(t, api.Config{Limits: api.Limits{QueryBytes: 200, Depth: 2, Selections: 10}})
	token := login(t, ts)
	tests := []struct {
		name   string
		query  string
		prefix string
	}{
		{"query too long", "{ me { id } }" + strings.Repeat(" ", 188),
			"the query is 201 bytes long, more than the limit of 200: send a shorter query"},
		{"too deep", "{ items { nodes { id } } }",
			`Field "id" has depth 3 that exceeds max depth 2: nest fields less deeply`},
		{"too many selections", "{ a: me { id } b: me { id } c: me { id } d: me { id } e: me { id } f: me { id } }",
			"the query expands to more than 10 selections: ask for fewer fields"},
		{"too many selections through fragments", "{ ...F ...F } fragment F on Query { a: me { id } b: me { id } c: me { id } }",
			"the query expands to more than 10 selections: ask for fewer fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Without a token: the limit's error, not Unauthorized, and
			// no resolver runs. With one: no addItem runs either.
			limitError(t, post(t, ts, "", tt.query, nil), tt.prefix)
			limitError(t, post(t, ts, "Bearer "+token, tt.query, nil), tt.prefix)
		})
	}
	// Just under the limits.
	res := post(t, ts, "Bearer "+token, "{ a: me { id } b: me { id } c: me { id } d: me { id } e: items { totalCount } }", nil)
	assertJSON(t, res.body, `{"data":{"a":{"id":"1"},"b":{"id":"1"},"c":{"id":"1"},"d":{"id":"1"},"e":{"totalCount":50}}}`)
	// A mutation over a limit does not run, not even its first fields:
	// the count is unchanged.
	limitError(t, post(t, ts, "Bearer "+token, `mutation { a: addItem(name: "x") { id } b: addItem(name: "x") { id } `+
		`c: addItem(name: "x") { id } d: addItem(name: "x") { id } e: addItem(name: "x") { id } f: addItem(name: "x") { id } }`, nil),
		"the query expands to more than 10 selections")
	res = post(t, ts, "Bearer "+login(t, ts), "{ items { totalCount } }", nil)
	assertJSON(t, res.body, `{"data":{"items":{"totalCount":50}}}`)
}

func TestTheDefaultLimitsLeaveIntrospectionAndLongQueriesWorking(t *testing.T) {
	ts := newServer(t, api.Config{})
	// 15 fields deep, as deep as the default allows.
	deep := "{ __schema { types { fields { type" + strings.Repeat(" { ofType", 10) + " { name }" + strings.Repeat(" }", 10) + " } } } }"
	res := post(t, ts, "", deep, nil)
	if b := decode(t, res); len(b.Errors) != 0 || b.Data["__schema"] == nil {
		t.Errorf("introspection 15 fields deep: %.300s", res.body)
	}
	limitError(t, post(t, ts, "", strings.Replace(deep, "{ name }", "{ ofType { name } }", 1), nil),
		`Field "name" has depth 16 that exceeds max depth 15`)
	// A query of exactly DefaultMaxQueryBytes runs; one byte more does not.
	query := "{ __typename }"
	query += strings.Repeat(" ", api.DefaultMaxQueryBytes-len(query))
	assertJSON(t, post(t, ts, "", query, nil).body, `{"data":{"__typename":"Query"}}`)
	limitError(t, post(t, ts, "", query+" ", nil), "the query is 65537 bytes long, more than the limit of 65536")
}

func TestNegativeLimitsAreRefused(t *testing.T) {
	for _, lim := range []api.Limits{{QueryBytes: -1}, {Depth: -1}, {Selections: -1}, {OverlapPairs: -1}, {AnswerBytes: -1}} {
		if _, err := api.New(api.Config{Limits: lim}); err == nil || !strings.Contains(err.Error(), "use a positive number, or 0 for the default") {
			t.Errorf("New with %+v: error %v, want a negative limit refused", lim, err)
		}
	}
}

func TestLimitsHoldForGet(t *testing.T) {
	ts := newServer(t, api.Config{})
	res := send(t, ts, "GET", "/graphql?query="+url.QueryEscape(repeatedFieldQuery()), nil, "")
	limitError(t, res, "the query repeats fields under one name too often")
}
