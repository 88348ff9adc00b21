package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/relay"

	"github.com/gqlauth/gqlauth/web/server/contract"
)

// schema is a tiny API: loginUser is public, me needs a logged-in user and
// restricted a permission no user has.
const schema = `
type Query {
	loginUser(username: String, email: String, password: String!): User
	me: User
	restricted: String
}

type User {
	id: ID!
	username: String!
}`

// user is an account of the API.
type user struct{ ID, Username, Email, Password string }

// users are the API's accounts, by ID.
var users = map[string]user{"1": {"1", "demo", "demo@example.com", "demo-password"}}

// resolver resolves Query.
type resolver struct{}

// LoginUser checks the credentials, by username or email, and tells
// Middleware that the request is now the user's.
func (*resolver) LoginUser(ctx context.Context, args struct {
	Username, Email *string
	Password        string
}) (*userResolver, error) {
	for _, u := range users {
		if (args.Username != nil && *args.Username == u.Username || args.Email != nil && *args.Email == u.Email) &&
			args.Password == u.Password {
			contract.LoggedIn(ctx, u.ID)
			return &userResolver{u}, nil
		}
	}
	return nil, errors.New("invalid username, email or password")
}

// Me is protected: it needs the user of a valid token.
func (*resolver) Me(ctx context.Context) (*userResolver, error) {
	u, ok := users[contract.UserID(ctx)]
	if !ok {
		return nil, errors.New("Unauthorized")
	}
	return &userResolver{u}, nil
}

// Restricted is refused to every user, logged in or not: a permission error.
func (*resolver) Restricted(ctx context.Context) (*string, error) {
	return nil, errors.New("Unauthorized")
}

// userResolver resolves User.
type userResolver struct{ u user }

func (r *userResolver) ID() graphql.ID   { return graphql.ID(r.u.ID) }
func (r *userResolver) Username() string { return r.u.Username }

// newAPI serves schema at /graphql with relay.Handler, behind the contract.
func newAPI(tokens *contract.Tokens, origins []string) http.Handler {
	mux := http.NewServeMux()
	s := graphql.MustParseSchema(schema, &resolver{})
	mux.Handle("/graphql", contract.CORS(origins, tokens.Middleware(&relay.Handler{Schema: s})))
	return mux
}

// A login answers with a token in both headers; a request with it gets data
// and a fresh token; a request without a valid token gets Unauthorized and
// no token.
func Example() {
	tokens := &contract.Tokens{Key: []byte("an example key: 32 random bytes!"), TTL: time.Hour}
	ts := httptest.NewServer(newAPI(tokens, []string{"https://app.example.com"}))
	defer ts.Close()

	// ask posts query with authorization, prints the answer and returns
	// its X-Authorization header.
	ask := func(authorization, query string) string {
		body, _ := json.Marshal(map[string]string{"query": query})
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s\n", answer)
		token := resp.Header.Get("X-Authorization")
		if token != resp.Header.Get("Authorization") {
			panic("X-Authorization and Authorization differ")
		}
		return token
	}

	token := ask("", `{ loginUser(username: "demo", password: "demo-password") { id } }`)
	fmt.Println("token:", strings.HasPrefix(token, "Bearer "))
	next := ask(token, `{ me { username } }`)
	fmt.Println("fresh token:", next != "" && next != token)
	fmt.Printf("token: %q\n", ask("Bearer not-a-jwt", `{ me { username } }`))
	// Output:
	// {"data":{"loginUser":{"id":"1"}}}
	// token: true
	// {"data":{"me":{"username":"demo"}}}
	// fresh token: true
	// {"errors":[{"message":"Unauthorized","path":["me"]}],"data":{"me":null}}
	// token: ""
}
