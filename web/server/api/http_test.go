package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gqlauth/gqlauth/web/server/api"
)

func TestBadRequestsGetGraphQLStyleErrors(t *testing.T) {
	ts := newServer(t, api.Config{})
	jsonType := map[string]string{"Content-Type": "application/json"}
	tests := []struct {
		name      string
		method    string
		header    map[string]string
		body      string
		status    int
		message   string // prefix
		wantAllow string
		path      string // the query string
	}{
		{"PUT", http.MethodPut, jsonType, `{"query":"{ __typename }"}`, 405, "method not allowed", "GET, POST, OPTIONS", ""},
		{"no Content-Type", http.MethodPost, nil, `{"query":"{ __typename }"}`, 415, "Content-Type must be application/json", "", ""},
		{"text/plain", http.MethodPost, map[string]string{"Content-Type": "text/plain"}, `{"query":"{ __typename }"}`, 415, "Content-Type must be application/json", "", ""},
		{"not JSON", http.MethodPost, jsonType, `query { me { id } }`, 400, "request body must be one JSON object", "", ""},
		{"JSON array", http.MethodPost, jsonType, `[{"query":"{ __typename }"}]`, 400, "request body must be one JSON object", "", ""},
		{"two JSON values", http.MethodPost, jsonType, `{"query":"{ __typename }"} {}`, 400, "request body must be one JSON object", "", ""},
		{"query not a string", http.MethodPost, jsonType, `{"query":1}`, 400, "request body must be one JSON object", "", ""},
		{"body over 1 MiB", http.MethodPost, jsonType, `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("a", api.MaxBodyBytes) + `"}}`, 413, "request body is larger than 1048576 bytes", "", ""},
		{"missing query", http.MethodPost, jsonType, `{"variables":{}}`, 400, `request body has no "query"`, "", ""},
		{"blank query", http.MethodPost, jsonType, `{"query":"  "}`, 400, `request body has no "query"`, "", ""},
		{"empty body", http.MethodPost, jsonType, ``, 400, "request body must be one JSON object", "", ""},
		{"GET without a query", http.MethodGet, nil, "", 400, `a GET request needs a "query" parameter`, "", ""},
		{"GET with variables not an object", http.MethodGet, nil, "", 400, `the "variables" parameter must be the JSON text of an object`, "",
			"?query=%7B+__typename+%7D&variables=%5B1%5D"},
		{"GET with a mutation", http.MethodGet, nil, "", 405, "a mutation must be sent with POST", "POST, OPTIONS",
			"?query=mutation+%7B+addItem(name:%22x%22)+%7B+id+%7D+%7D"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := send(t, ts, tt.method, "/graphql"+tt.path, tt.header, tt.body)
			if res.status != tt.status {
				t.Errorf("status = %d, want %d", res.status, tt.status)
			}
			if got := res.header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if got := res.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			b := decode(t, res)
			if len(b.Errors) != 1 || !strings.HasPrefix(b.Errors[0].Message, tt.message) ||
				b.Errors[0].CustomerFacing == nil || *b.Errors[0].CustomerFacing {
				t.Errorf("body = %s, want one error %q..., customer_facing false", res.body, tt.message)
			}
			if b.Data != nil {
				t.Errorf("body has data: %s", res.body)
			}
		})
	}
}

func TestEngineErrorsAreGraphQLErrorsWithCustomerFacing(t *testing.T) {
	ts := newServer(t, api.Config{})
	token := login(t, ts)
	tests := []struct {
		name          string
		authorization string
		body          string
		want          string
	}{
		{"unknown operationName", "", `{"query":"query A { __typename }","operationName":"B"}`,
			`{"errors":[{"message":"no operation with name \"B\"","customer_facing":false}]}`},
		{"unknown field", "", `{"query":"{\n  nope\n}"}`,
			`{"errors":[{"message":"Cannot query field \"nope\" on type \"Query\".","locations":[{"line":2,"column":3}],"customer_facing":false}]}`},
		{"syntax error", "", `{"query":"{"}`,
			`{"errors":[{"message":"syntax error: unexpected \"\", expecting Ident","locations":[{"line":1,"column":2}],"customer_facing":false}]}`},
		{"invalid argument", "Bearer " + token, `{"query":"{ blob(bytes: -1) }"}`,
			`{"errors":[{"message":"bytes must be between 0 and 16777216","path":["blob"],"customer_facing":false}],"data":null}`},
		{"operationName picks the operation", "", `{"query":"query A { a: __typename } query B { b: __typename }","operationName":"B"}`,
			`{"data":{"b":"Query"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := send(t, ts, http.MethodPost, "/graphql",
				map[string]string{"Content-Type": "application/json; charset=utf-8", "Authorization": tt.authorization}, tt.body)
			if res.status != 200 {
				t.Errorf("status = %d, want 200", res.status)
			}
			assertJSON(t, res.body, tt.want)
		})
	}
}

func TestItemsPaginateWithCursors(t *testing.T) {
	ts := newServer(t, api.Config{})
	token := login(t, ts)
	const q = `query($after: String) { items(first: 20, after: $after) { nodes { id name } pageInfo { endCursor hasNextPage } totalCount } }`
	var after any
	var ids []string
	for page := 0; ; page++ {
		res := post(t, ts, "Bearer "+token, q, map[string]any{"after": after})
		token = tokenOf(t, res)
		var b struct {
			Data struct {
				Items struct {
					Nodes    []struct{ ID, Name string }
					PageInfo struct {
						EndCursor   *string
						HasNextPage bool
					}
					TotalCount int
				}
			}
		}
		decodeInto(t, res, &b)
		items := b.Data.Items
		if items.TotalCount != 50 {
			t.Fatalf("totalCount = %d, want 50", items.TotalCount)
		}
		for _, n := range items.Nodes {
			ids = append(ids, n.ID)
		}
		if !items.PageInfo.HasNextPage {
			break
		}
		if page > 3 {
			t.Fatal("too many pages")
		}
		after = *items.PageInfo.EndCursor
	}
	if len(ids) != 50 || ids[0] != "1" || ids[49] != "50" {
		t.Errorf("ids = %v, want 1..50", ids)
	}

	res := post(t, ts, "Bearer "+token, q, map[string]any{"after": "bogus"})
	assertJSON(t, res.body, `{"errors":[{"message":"invalid cursor: use a pageInfo.endCursor from an earlier page","path":["items"],"customer_facing":false}],"data":null}`)
}

func TestAddItemKeepsItemsPerUser(t *testing.T) {
	ts := newServer(t, api.Config{Users: []api.User{
		{ID: "1", Username: "a", Email: "a@example.com", Password: "pa"},
		{ID: "2", Username: "b", Email: "b@example.com", Password: "pb"},
	}})
	tokenA := tokenOf(t, post(t, ts, "", loginQuery, map[string]any{"username": "a", "password": "pa"}))
	tokenB := tokenOf(t, post(t, ts, "", loginQuery, map[string]any{"username": "b", "password": "pb"}))

	res := post(t, ts, "Bearer "+tokenA, `mutation { addItem(name: "milk") { id name } }`, nil)
	assertJSON(t, res.body, `{"data":{"addItem":{"id":"51","name":"milk"}}}`)
	tokenA = tokenOf(t, res)

	res = post(t, ts, "Bearer "+tokenA, `mutation { addItem(name: "") { id } }`, nil)
	assertJSON(t, res.body, `{"errors":[{"message":"name must be 1 to 100 characters long","path":["addItem"],"customer_facing":false}],"data":null}`)
	tokenA = tokenOf(t, res)

	tests := []struct {
		token     string
		wantCount int
		wantLast  string
	}{
		{tokenA, 51, "milk"},
		{tokenB, 50, "Item 50"},
	}
	for _, tt := range tests {
		res := post(t, ts, "Bearer "+tt.token, `{ items(first: 100) { totalCount nodes { name } } }`, nil)
		var b struct {
			Data struct {
				Items struct {
					TotalCount int
					Nodes      []struct{ Name string }
				}
			}
		}
		decodeInto(t, res, &b)
		items := b.Data.Items
		if items.TotalCount != tt.wantCount || len(items.Nodes) != tt.wantCount || items.Nodes[len(items.Nodes)-1].Name != tt.wantLast {
			t.Errorf("items = %s, want %d ending with %q", res.body, tt.wantCount, tt.wantLast)
		}
	}
}

func TestBlobReturnsExactlyTheBytesAskedFor(t *testing.T) {
	ts := newServer(t, api.Config{})
	token := login(t, ts)
	for _, n := range []int{0, 1, 1000, 1 << 20} {
		res := post(t, ts, "Bearer "+token, `query($n: Int!) { blob(bytes: $n) }`, map[string]any{"n": n})
		token = tokenOf(t, res)
		var b struct{ Data struct{ Blob string } }
		decodeInto(t, res, &b)
		if got := len(b.Data.Blob); got != n || strings.Trim(b.Data.Blob, "x") != "" {
			t.Errorf("blob(bytes: %d) has %d bytes", n, got)
		}
	}
	res := post(t, ts, "Bearer "+token, `{ blob(bytes: 16777217) }`, nil)
	assertJSON(t, res.body, `{"errors":[{"message":"bytes must be between 0 and 16777216","path":["blob"],"customer_facing":false}],"data":null}`)
}

func TestGetRunsQueriesWithTheToken(t *testing.T) {
	ts := newServer(t, api.Config{})
	tok := login(t, ts)
	q := url.Values{"query": {"query Me($n: Int) { me { id } items(first: $n) { totalCount } }"}, "variables": {`{"n":1}`}, "operationName": {"Me"}}
	res := send(t, ts, http.MethodGet, "/graphql?"+q.Encode(), map[string]string{"Authorization": "Bearer " + tok}, "")
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	assertJSON(t, res.body, `{"data":{"me":{"id":"1"},"items":{"totalCount":50}}}`)
	if next := tokenOf(t, res); next == tok {
		t.Error("a GET did not rotate the token")
	}
	// A mutation is not run by GET: the count is unchanged.
	m := url.Values{"query": {`mutation { addItem(name: "x") { id } }`}}
	if res := send(t, ts, http.MethodGet, "/graphql?"+m.Encode(), map[string]string{"Authorization": "Bearer " + tok}, ""); res.status != 405 {
		t.Fatalf("a mutation by GET: status %d", res.status)
	}
	tok = login(t, ts)
	assertJSON(t, post(t, ts, "Bearer "+tok, "{ items { totalCount } }", nil).body, `{"data":{"items":{"totalCount":50}}}`)
	// In a document with a mutation, the query it names runs; the mutation does not.
	both := url.Values{"query": {`query Q { me { id } } mutation M { addItem(name: "x") { id } }`}, "operationName": {"Q"}}
	res = send(t, ts, http.MethodGet, "/graphql?"+both.Encode(), map[string]string{"Authorization": "Bearer " + tok}, "")
	assertJSON(t, res.body, `{"data":{"me":{"id":"1"}}}`)
	both.Set("operationName", "M")
	if res := send(t, ts, http.MethodGet, "/graphql?"+both.Encode(), map[string]string{"Authorization": "Bearer " + tokenOf(t, res)}, ""); res.status != 405 {
		t.Errorf("the mutation of such a document, by GET: status %d", res.status)
	}
	// A mutation that does not validate (a variable left out) gets the
	// engine's validation error, as by POST, and does not run either.
	bad := url.Values{"query": {`mutation A($n: String!) { addItem(name: $n) { id } }`}}
	res = send(t, ts, http.MethodGet, "/graphql?"+bad.Encode(), map[string]string{"Authorization": "Bearer " + tok}, "")
	if body := string(res.body); res.status != 200 || !strings.Contains(body, `"errors"`) || strings.Contains(body, `"addItem"`) {
		t.Errorf("an invalid mutation by GET: status %d, %s", res.status, res.body)
	}
	tok = login(t, ts)
	assertJSON(t, post(t, ts, "Bearer "+tok, "{ items { totalCount } }", nil).body, `{"data":{"items":{"totalCount":50}}}`)
}
