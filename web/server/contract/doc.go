// Package contract serves gqlauth's token contract from an existing net/http
// GraphQL API, whatever its engine (graph-gophers/graphql-go's relay.Handler,
// gqlgen, …):
//
//   - a successful loginUser answers with a token, as "Bearer <jwt>", in both
//     the X-Authorization and the Authorization header;
//   - a request sends its token as "Authorization: Bearer <jwt>", and the
//     answer to a request with a valid token carries a fresh one the same way;
//   - a protected field asked for without a valid token fails with the
//     GraphQL error "Unauthorized", and the answer carries no token.
//
// Wrap the GraphQL handler:
//
//	tokens := &contract.Tokens{Key: key, TTL: time.Hour} // key: 32 secret random bytes or more
//	http.Handle("/graphql", contract.CORS(origins, tokens.Middleware(&relay.Handler{Schema: schema})))
//
// and let the resolvers say and ask who the user is:
//
//	func (r *Resolver) LoginUser(ctx context.Context, args LoginArgs) (*User, error) {
//		user, err := r.Users.Check(args.Username, args.Email, args.Password)
//		if err != nil {
//			return nil, err
//		}
//		contract.LoggedIn(ctx, user.ID)
//		return user, nil
//	}
//
//	func (r *Resolver) Me(ctx context.Context) (*User, error) {
//		id := contract.UserID(ctx)
//		if id == "" {
//			return nil, errors.New("Unauthorized")
//		}
//		return r.Users.ByID(id)
//	}
//
// The package knows nothing of GraphQL or of the API's users: it imports the
// standard library and github.com/golang-jwt/jwt/v5 only, and must stay so.
package contract
