package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gqlauth/gqlauth/web/server/api"
)

// A login answers with the token in both headers; a protected query without
// it gets the seed's Unauthorized error.
func Example() {
	srv, err := api.New(api.Config{})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	query := func(q string) *http.Response {
		resp, err := http.Post(ts.URL+"/graphql", "application/json", strings.NewReader(q))
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body))
		return resp
	}

	resp := query(`{"query":"{ loginUser(username: \"demo\", password: \"demo-password\") { id } }"}`)
	token := resp.Header.Get("X-Authorization")
	fmt.Println(strings.HasPrefix(token, "Bearer "), token == resp.Header.Get("Authorization"))
	query(`{"query":"query {\n  me { username }\n}"}`)
	// Output:
	// {"data":{"loginUser":{"id":"1"}}}
	// true true
	// {"errors":[{"message":"Unauthorized","locations":[{"line":2,"column":3}],"customer_facing":false}]}
}
