package api_test

import (
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/gqlauth/gqlauth/web/server/api"
)

func TestPermissionErrorsAreFieldErrorsThatKeepTheToken(t *testing.T) {
	ts := newServer(t, api.Config{})
	token := login(t, ts)
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"nullable query field: partial data", `{ me { id } restricted }`,
			`{"errors":[{"message":"Unauthorized","path":["restricted"],"customer_facing":false}],
			  "data":{"me":{"id":"1"},"restricted":null}}`},
		{"nullable mutation field", `mutation { forbidden }`,
			`{"errors":[{"message":"Unauthorized","path":["forbidden"],"customer_facing":false}],
			  "data":{"forbidden":null}}`},
		{"non-null mutation field: no data", `mutation { forbiddenStrict }`,
			`{"errors":[{"message":"Unauthorized","path":["forbiddenStrict"],"customer_facing":false}],
			  "data":null}`},
		{"non-null field after an addItem that ran", `mutation { addItem(name: "milk") { id } forbiddenStrict }`,
			`{"errors":[{"message":"Unauthorized","path":["forbiddenStrict"],"customer_facing":false}],
			  "data":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := post(t, ts, "Bearer "+token, tt.query, nil)
			if res.status != 200 {
				t.Errorf("status = %d, want 200", res.status)
			}
			assertJSON(t, res.body, tt.want)
			next := tokenOf(t, res)
			if claimsOf(t, next)["jti"] == claimsOf(t, token)["jti"] {
				t.Error("the answer carries the request's token, want a new one")
			}
			token = next
		})
	}
	// items.totalCount counts what addItem added: 50 fixed items, one
	// added although the answer had no data.
	res := post(t, ts, "Bearer "+token, `{ items { totalCount } }`, nil)
	assertJSON(t, res.body, `{"data":{"items":{"totalCount":51}}}`)
}

func TestEveryProtectedRootFieldIsRefusedWithoutAToken(t *testing.T) {
	ts := newServer(t, api.Config{})
	// One query per root field but loginUser, the field at column 3 of line.
	protected := map[string]struct {
		query string
		line  int
	}{
		"me":              {`{ me { id } }`, 1},
		"items":           {`{ items { totalCount } }`, 1},
		"session":         {`{ session { jti } }`, 1},
		"blob":            {`{ blob(bytes: 1) }`, 1},
		"restricted":      {`{ restricted }`, 1},
		"addItem":         {"mutation {\n  addItem(name: \"x\") { id }\n}", 2},
		"forbidden":       {"mutation {\n  forbidden\n}", 2},
		"forbiddenStrict": {"mutation {\n  forbiddenStrict\n}", 2},
	}

	// The table covers every root field of the schema.
	var schema struct {
		Data struct {
			Schema struct {
				QueryType, MutationType struct{ Fields []struct{ Name string } }
			} `json:"__schema"`
		}
	}
	decodeInto(t, post(t, ts, "", `{ __schema { queryType { fields { name } } mutationType { fields { name } } } }`, nil), &schema)
	var roots []string
	for _, f := range slices.Concat(schema.Data.Schema.QueryType.Fields, schema.Data.Schema.MutationType.Fields) {
		if f.Name != "loginUser" {
			roots = append(roots, f.Name)
		}
	}
	var listed []string
	for name := range protected {
		listed = append(listed, name)
	}
	sort.Strings(roots)
	sort.Strings(listed)
	if !slices.Equal(roots, listed) {
		t.Errorf("root fields besides loginUser %q, test covers %q", roots, listed)
	}

	for name, q := range protected {
		t.Run(name, func(t *testing.T) {
			res := post(t, ts, "", q.query, nil)
			noToken(t, res)
			want := `{"errors":[{"message":"Unauthorized","locations":[{"line":` +
				strconv.Itoa(q.line) + `,"column":3}],"customer_facing":false}]}`
			assertJSON(t, res.body, want)
		})
	}
}
