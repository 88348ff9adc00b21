package api

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// schemaSDL is the API's schema. Everything but loginUser needs a token.
const schemaSDL = `
schema {
	query: Query
	mutation: Mutation
}

type Query {
	"Logs in with a username or an email (or both, naming the same user). The token comes back in the X-Authorization and Authorization response headers."
	loginUser(email: String, username: String, password: String!): User
	"The logged-in user."
	me: User!
	"A fixed list of 50 items plus the ones the user added, in pages."
	items(first: Int = 10, after: String): ItemConnection!
	"The token this request carried."
	session: Session!
	"A string of exactly bytes ASCII characters, for response-size benchmarks."
	blob(bytes: Int!): String!
	"Always null with the field error Unauthorized: a permission error, with a valid token, on one field of an otherwise successful answer."
	restricted: String
}

type Mutation {
	"Adds an item (1 to 100 characters) to the user's list. items.totalCount counts the items added."
	addItem(name: String!): Item!
	"Always null with the field error Unauthorized: a permission error on a nullable field."
	forbidden: Boolean
	"Always fails with the field error Unauthorized; being non-null, it makes the whole data null."
	forbiddenStrict: Boolean!
}

type User {
	id: ID!
	username: String!
	email: String!
}

type Item {
	id: ID!
	name: String!
}

type ItemConnection {
	nodes: [Item!]!
	pageInfo: PageInfo!
	totalCount: Int!
}

type PageInfo {
	endCursor: String
	hasNextPage: Boolean!
}

"iat and exp of the token, in unix seconds."
type Session {
	jti: String!
	subject: String!
	issuedAt: Float!
	expiresAt: Float!
}
`

// publicSchemaSDL is the part of the schema open to everyone. Validating a
// query against it makes the engine report, with locations, every field
// that needs a token. This schema only validates, it never executes; its
// Mutation type has a placeholder field because types cannot be empty.
const publicSchemaSDL = `
schema {
	query: Query
	mutation: Mutation
}

type Query {
	loginUser(email: String, username: String, password: String!): User
}

type Mutation {
	placeholder: Boolean
}

type User {
	id: ID!
	username: String!
	email: String!
}
`

// Errors resolvers return.
var (
	// errUnauthorized is a protected field asked for without a valid
	// token: it turns the whole answer into the seed's Unauthorized.
	errUnauthorized = errors.New("unauthorized")
	// errForbidden is a permission error on one field, with a valid token:
	// an ordinary field error, whose message happens to be the seed's.
	errForbidden = errors.New("Unauthorized")
	// errLoginFailed is meant for end users: its GraphQL error has
	// customer_facing true.
	errLoginFailed = errors.New("invalid username, email or password")
)

// engine runs queries with graph-gophers/graphql-go.
type engine struct {
	full   *graphql.Schema
	public *graphql.Schema
	// queries is full without its mutation root, for GET requests: the
	// engine refuses a mutation there before running anything.
	queries *graphql.Schema
	limits  Limits
}

// newEngine makes the schemas, each with the engine's limits of lim, whose
// fields must all be set.
func newEngine(st *store, lim Limits) (*engine, error) {
	r := &resolver{store: st}
	opts := lim.schemaOptions()
	withResolvers := append(lim.schemaOptions(), graphql.UseFieldResolvers())
	full, err := graphql.ParseSchema(schemaSDL, r, withResolvers...)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	public, err := graphql.ParseSchema(publicSchemaSDL, nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("public schema: %w", err)
	}
	queriesSDL := strings.Replace(schemaSDL, "\tmutation: Mutation\n", "", 1)
	if queriesSDL == schemaSDL {
		return nil, errors.New("queries schema: the schema's mutation root was not found")
	}
	queries, err := graphql.ParseSchema(queriesSDL, r, withResolvers...)
	if err != nil {
		return nil, fmt.Errorf("queries schema: %w", err)
	}
	return &engine{full: full, public: public, queries: queries, limits: lim}, nil
}

// noMutations is graphql-go's answer to a mutation in a schema without a
// mutation root, which it gives before running anything.
const noMutations = "no mutations are offered by the schema"

// isMutationRefusal reports whether resp is the queries schema refusing to
// run a mutation.
func isMutationRefusal(resp *graphql.Response) bool {
	return len(resp.Data) == 0 && len(resp.Errors) == 1 && resp.Errors[0].Message == noMutations
}

// exec runs req with the request state in ctx; queriesOnly (a GET) runs it
// against the schema without mutations. A query over the limits is
// answered with one error, and the engine's errors for its limits say what
// to do.
func (e *engine) exec(ctx context.Context, st *requestState, req gqlRequest, queriesOnly bool) *graphql.Response {
	if err := e.limits.queryTooLong(req.Query); err != nil {
		return &graphql.Response{Errors: []*gqlerrors.QueryError{err}}
	}
	schema := e.full
	if queriesOnly {
		schema = e.queries
	}
	resp := schema.Exec(withState(ctx, st), req.Query, req.OperationName, req.Variables)
	e.limits.explain(resp.Errors)
	return resp
}

// unauthorizedFields returns the response keys of the fields that failed
// for want of a token; empty when there are none.
func unauthorizedFields(errs []*gqlerrors.QueryError) map[string]bool {
	keys := make(map[string]bool)
	for _, e := range errs {
		if errors.Is(e.ResolverError, errUnauthorized) && len(e.Path) > 0 {
			if key, ok := e.Path[0].(string); ok {
				keys[key] = true
			}
		}
	}
	return keys
}

// unauthorizedLocations returns, in document order, where the fields with
// the given response keys appear in query. graphql-go reports no locations
// for resolver errors, so the locations come from validating the query
// against the public schema, where those fields do not exist.
func (e *engine) unauthorizedLocations(query string, keys map[string]bool) []gqlerrors.Location {
	locs, _ := e.locateKeys(query, keys)
	return locs
}

// locateKeys is unauthorizedLocations. It also returns the index it read
// the names from, whose counter tells tests how much work that took.
//
// The locations are sorted before their names are read, so the index walks
// each line forward only: the work is linear in the size of the query and
// the number of locations, however many fields a query names.
func (e *engine) locateKeys(query string, keys map[string]bool) ([]gqlerrors.Location, *queryIndex) {
	var locs []gqlerrors.Location
	for _, err := range e.public.Validate(query) {
		if err.Rule == "FieldsOnCorrectTypeRule" {
			locs = append(locs, err.Locations...)
		}
	}
	slices.SortFunc(locs, compareLocations)
	locs = slices.Compact(locs)
	idx := newQueryIndex(query)
	kept := locs[:0]
	for _, loc := range locs {
		if keys[idx.nameAt(loc)] {
			kept = append(kept, loc)
		}
	}
	return kept, idx
}

// compareLocations orders locations as they appear in a document.
func compareLocations(a, b gqlerrors.Location) int {
	if c := cmp.Compare(a.Line, b.Line); c != 0 {
		return c
	}
	return cmp.Compare(a.Column, b.Column)
}

// queryIndex finds the engine's locations in one query: lines counted by
// '\n', columns in characters, both from 1, as text/scanner counts them
// for graphql-go. It finds the start of every line once, when made. Within
// a line it walks characters, resuming from the previous location when the
// next one lies after it on the same line; so looking up locations in
// document order steps over each character at most once.
type queryIndex struct {
	query      string
	lineStarts []int // byte offset of the first byte of each line

	// The position of the last lookup: line, column and byte offset.
	line, col, off int

	// work counts bytes scanned for line starts plus characters stepped
	// over to reach columns.
	work int
}

func newQueryIndex(query string) *queryIndex {
	starts := []int{0}
	for i := 0; i < len(query); i++ {
		if query[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &queryIndex{query: query, lineStarts: starts, work: len(query)}
}

// offset returns the byte offset of loc in the query, or -1 when loc is not
// on a character of a line (a line's '\n' does not count).
func (x *queryIndex) offset(loc gqlerrors.Location) int {
	if loc.Line < 1 || loc.Line > len(x.lineStarts) || loc.Column < 1 {
		return -1
	}
	end := len(x.query)
	if loc.Line < len(x.lineStarts) {
		end = x.lineStarts[loc.Line] - 1
	}
	col, off := 1, x.lineStarts[loc.Line-1]
	if x.line == loc.Line && x.col <= loc.Column {
		col, off = x.col, x.off
	}
	for col < loc.Column && off < end {
		_, n := utf8.DecodeRuneInString(x.query[off:end])
		off += n
		col++
		x.work++
	}
	x.line, x.col, x.off = loc.Line, col, off
	if col != loc.Column || off >= end {
		return -1
	}
	return off
}

// nameAt returns the GraphQL name starting at loc, or "" when there is
// none. For a field that is its response key: the alias, or else the name.
func (x *queryIndex) nameAt(loc gqlerrors.Location) string {
	start := x.offset(loc)
	if start < 0 {
		return ""
	}
	end := start
	for end < len(x.query) && isNameByte(x.query[end], end == start) {
		end++
	}
	return x.query[start:end]
}

// isNameByte reports whether c can be in a GraphQL name, which is ASCII;
// first tells whether it would be the name's first byte.
func isNameByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

// requestState is what resolvers know about the HTTP request.
type requestState struct {
	claims *tokenClaims  // nil without a valid token
	user   User          // the token's user, when claims is set
	answer *answerBudget // what the answer may still take; nil is no limit

	mu    sync.Mutex
	login *User // set by a successful loginUser
}

type stateKey struct{}

func withState(ctx context.Context, st *requestState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// viewer returns the user of the request's token, or errUnauthorized.
func viewer(ctx context.Context) (*requestState, error) {
	st := stateFrom(ctx)
	if st == nil || st.claims == nil {
		return nil, errUnauthorized
	}
	return st, nil
}

// resolver is the root resolver for Query and Mutation.
type resolver struct {
	store *store
}

// gqlUser, gqlItem, … are the object types, resolved field by field.
type (
	gqlUser struct {
		ID       graphql.ID
		Username string
		Email    string
	}
	gqlItem struct {
		ID   graphql.ID
		Name string
	}
	gqlItemConnection struct {
		Nodes      []*gqlItem
		PageInfo   *gqlPageInfo
		TotalCount int32
	}
	gqlPageInfo struct {
		EndCursor   *string
		HasNextPage bool
	}
	gqlSession struct {
		Jti       string
		Subject   string
		IssuedAt  float64
		ExpiresAt float64
	}
)

func toGQLUser(u User) *gqlUser {
	return &gqlUser{ID: graphql.ID(u.ID), Username: u.Username, Email: u.Email}
}

// LoginUser resolves Query.loginUser.
func (r *resolver) LoginUser(ctx context.Context, args struct {
	Email    *string
	Username *string
	Password string
}) (*gqlUser, error) {
	u, ok := r.store.login(deref(args.Username), deref(args.Email), args.Password)
	if !ok {
		return nil, errLoginFailed
	}
	if st := stateFrom(ctx); st != nil {
		st.mu.Lock()
		st.login = &u
		st.mu.Unlock()
	}
	return toGQLUser(u), nil
}

// Me resolves Query.me.
func (r *resolver) Me(ctx context.Context) (*gqlUser, error) {
	st, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return toGQLUser(st.user), nil
}

// Items resolves Query.items.
func (r *resolver) Items(ctx context.Context, args struct {
	First int32
	After *string
}) (*gqlItemConnection, error) {
	st, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	if args.First < 0 || args.First > 100 {
		return nil, errors.New("first must be between 0 and 100")
	}
	all := r.store.items(st.user.ID)
	start := 0
	if args.After != nil {
		if start, err = decodeCursor(*args.After, len(all)); err != nil {
			return nil, err
		}
	}
	end := min(start+int(args.First), len(all))
	var size int64
	for _, it := range all[start:end] {
		size += itemAnswerBytes(it)
	}
	if err := st.answer.spend(size); err != nil {
		return nil, err
	}
	conn := &gqlItemConnection{
		Nodes:      make([]*gqlItem, 0, end-start),
		PageInfo:   &gqlPageInfo{HasNextPage: end < len(all)},
		TotalCount: int32(len(all)),
	}
	for _, it := range all[start:end] {
		conn.Nodes = append(conn.Nodes, &gqlItem{ID: graphql.ID(it.id), Name: it.name})
	}
	if end > start {
		c := encodeCursor(end)
		conn.PageInfo.EndCursor = &c
	}
	return conn, nil
}

// encodeCursor makes the opaque cursor of the position after n items.
func encodeCursor(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("items:" + strconv.Itoa(n)))
}

func decodeCursor(c string, total int) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		digits, ok := strings.CutPrefix(string(b), "items:")
		if n, err := strconv.Atoi(digits); ok && err == nil && n >= 0 && n <= total {
			return n, nil
		}
	}
	return 0, errors.New("invalid cursor: use a pageInfo.endCursor from an earlier page")
}

// Session resolves Query.session.
func (r *resolver) Session(ctx context.Context) (*gqlSession, error) {
	st, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	c := st.claims
	return &gqlSession{Jti: c.ID, Subject: c.Subject, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt}, nil
}

// Blob resolves Query.blob.
func (r *resolver) Blob(ctx context.Context, args struct{ Bytes int32 }) (string, error) {
	st, err := viewer(ctx)
	if err != nil {
		return "", err
	}
	if args.Bytes < 0 || args.Bytes > MaxBlobBytes {
		return "", fmt.Errorf("bytes must be between 0 and %d", MaxBlobBytes)
	}
	if err := st.answer.spend(int64(args.Bytes)); err != nil {
		return "", err
	}
	return strings.Repeat("x", int(args.Bytes)), nil
}

// Restricted resolves Query.restricted.
func (r *resolver) Restricted(ctx context.Context) (*string, error) {
	if _, err := viewer(ctx); err != nil {
		return nil, err
	}
	return nil, errForbidden
}

// Forbidden resolves Mutation.forbidden.
func (r *resolver) Forbidden(ctx context.Context) (*bool, error) {
	if _, err := viewer(ctx); err != nil {
		return nil, err
	}
	return nil, errForbidden
}

// ForbiddenStrict resolves Mutation.forbiddenStrict.
func (r *resolver) ForbiddenStrict(ctx context.Context) (bool, error) {
	if _, err := viewer(ctx); err != nil {
		return false, err
	}
	return false, errForbidden
}

// AddItem resolves Mutation.addItem.
func (r *resolver) AddItem(ctx context.Context, args struct{ Name string }) (*gqlItem, error) {
	st, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	if n := utf8.RuneCountInString(args.Name); n < 1 || n > 100 {
		return nil, errors.New("name must be 1 to 100 characters long")
	}
	it := r.store.addItem(st.user.ID, args.Name)
	return &gqlItem{ID: graphql.ID(it.id), Name: it.name}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
