package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// gqlRequest is the JSON body of a GraphQL request.
type gqlRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

// requestError is a request refused before it reaches the engine.
type requestError struct {
	status int
	msg    string
}

// Error returns the message sent to the client.
func (e *requestError) Error() string { return e.msg }

// decodeRequest reads one JSON object {"query", "variables",
// "operationName"} from body. It refuses with 413 when body is an
// http.MaxBytesReader that hit its limit, 400 otherwise.
func decodeRequest(body io.Reader) (gqlRequest, *requestError) {
	var req gqlRequest
	dec := json.NewDecoder(body)
	err := dec.Decode(&req)
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			err = nil
		} else if err == nil {
			err = errors.New("more than one JSON value")
		}
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return gqlRequest{}, &requestError{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit)}
	case err != nil:
		return gqlRequest{}, &requestError{http.StatusBadRequest,
			`request body must be one JSON object {"query", "variables", "operationName"}: ` + err.Error()}
	case strings.TrimSpace(req.Query) == "":
		return gqlRequest{}, &requestError{http.StatusBadRequest, `request body has no "query"`}
	}
	return req, nil
}

// requestFromQuery reads a GET request's parameters, as GraphQL over HTTP
// has them: query, and optionally variables (the JSON text of an object)
// and operationName. It refuses with 400.
func requestFromQuery(q url.Values) (gqlRequest, *requestError) {
	req := gqlRequest{Query: q.Get("query"), OperationName: q.Get("operationName")}
	if strings.TrimSpace(req.Query) == "" {
		return gqlRequest{}, &requestError{http.StatusBadRequest, `a GET request needs a "query" parameter`}
	}
	if v := q.Get("variables"); v != "" {
		if err := json.Unmarshal([]byte(v), &req.Variables); err != nil || req.Variables == nil {
			return gqlRequest{}, &requestError{http.StatusBadRequest, `the "variables" parameter must be the JSON text of an object`}
		}
	}
	return req, nil
}

// graphqlMethods is the Allow list of /graphql.
const graphqlMethods = "GET, POST, OPTIONS"

// serveGraphQL answers /graphql: a POST of JSON, or a GET with the request
// in the URL, for queries only (a mutation sent with GET never runs: it is
// refused with 405 once it validates, and a mutation that does not validate
// gets the engine's validation errors, as with POST). When a protected field failed for want of a valid token,
// the answer is only the Unauthorized errors: no data, no other errors, and
// no token even if loginUser succeeded alongside.
func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", graphqlMethods)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed: send GraphQL requests with POST, or queries with GET")
		return
	}
	if s.cfg.TestHooks && r.Method == http.MethodPost && r.URL.Query().Has("release") {
		s.serveRelease(w, r)
		return
	}
	raw := bearerToken(r.Header.Get("Authorization"))
	seq := s.ledger.received(raw, s.now())
	var req gqlRequest
	var refused *requestError
	if r.Method == http.MethodGet {
		req, refused = requestFromQuery(r.URL.Query())
	} else if mt, _, perr := mime.ParseMediaType(r.Header.Get("Content-Type")); perr != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	} else {
		req, refused = decodeRequest(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	}
	if refused != nil {
		writeError(w, refused.status, refused.msg)
		return
	}

	// Hooks come after reading the body: only then does net/http notice a
	// client that went away and cancel the request context.
	var hooks hookParams
	hr := hookRequest{seq: seq, op: operationLabel(req)}
	if s.cfg.TestHooks {
		s.ledger.named(seq, hr.op)
		var err error
		if hooks, err = takeHookParams(r.URL.Query(), &req); err != nil {
			writeError(w, http.StatusBadRequest, "test hooks: "+err.Error())
			return
		}
		if raw != "" {
			hr.jti = unverifiedClaims(raw).ID
		}
		if !s.waitBefore(r, hr, hooks) {
			return
		}
		if bodyFaults[hooks.fault] {
			s.writeFault(w, hr, hooks)
			return
		}
	}

	st := s.authenticate(raw)
	resp := s.gql.exec(r.Context(), st, req, r.Method == http.MethodGet)
	if r.Method == http.MethodGet && isMutationRefusal(resp) {
		w.Header().Set("Allow", "POST, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "a mutation must be sent with POST")
		return
	}
	if keys := unauthorizedFields(resp.Errors); len(keys) > 0 {
		s.ledger.refused(seq)
		writeUnauthorized(w, s.gql.unauthorizedLocations(req.Query, keys))
		return
	}
	if err := s.sendToken(w, st, seq, hooks.fault); err != nil {
		s.log.Error("issuing token", "err", err)
		writeError(w, http.StatusInternalServerError, "internal server error")
		return
	}
	if hooks.fault == faultEchoToken && raw != "" {
		w.Header().Set("X-Debug-Request-Token", raw)
	}
	if s.cfg.TestHooks && !s.waitLag(r, hr, hooks) {
		return
	}
	writeGraphQL(w, http.StatusOK, toWireErrors(resp.Errors), resp.Data)
}

// leadingOperation matches the name of a document's first operation.
var leadingOperation = regexp.MustCompile(`^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)`)

// operationLabel names a request in the test log: its operationName, else
// the name of the document's first operation, else "".
func operationLabel(req gqlRequest) string {
	if req.OperationName != "" {
		return req.OperationName
	}
	if m := leadingOperation.FindStringSubmatch(req.Query); m != nil {
		return m[1]
	}
	return ""
}

// authenticate checks the request's token and gives the request its answer
// budget. The state has no claims when the token is missing, malformed,
// badly signed, expired, for an unknown user or, with strict rotation,
// superseded.
func (s *Server) authenticate(raw string) *requestState {
	st := &requestState{answer: newAnswerBudget(s.cfg.Limits.AnswerBytes)}
	if raw == "" {
		return st
	}
	c, err := s.tokens.verify(raw)
	if err != nil {
		return st
	}
	u, ok := s.users.byID(c.Subject)
	if !ok || s.cfg.StrictRotation && !s.ledger.isNewest(c.ID) {
		return st
	}
	st.claims, st.user = &c, u
	return st
}

// sendToken puts a token in both token headers: a new session's after a
// login, else the next one of the session of a valid request token. seq is
// the request's number in the test log; fault is the request's test fault,
// if any, which may change the token or how the headers carry it.
func (s *Server) sendToken(w http.ResponseWriter, st *requestState, seq int, fault string) error {
	st.mu.Lock()
	login := st.login
	st.mu.Unlock()
	var sub string
	var chain int
	switch {
	case login != nil:
		sub, chain = login.ID, s.ledger.newChain()
	case st.claims != nil:
		sub, chain = st.claims.Subject, s.ledger.chain(st.claims.ID)
	default:
		return nil
	}
	raw, c, err := s.sessionToken(sub, chain, seq, fault)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("X-Authorization", "Bearer "+raw)
	h.Set("Authorization", "Bearer "+raw)
	if headerFaults[fault] {
		return s.addTokenLine(h, fault, raw, c, chain, seq)
	}
	return nil
}

// wireError is a GraphQL error as sent: the standard fields plus the seed's
// customer_facing, true only for messages meant for end users (a failed
// login).
type wireError struct {
	Message        string               `json:"message"`
	Locations      []gqlerrors.Location `json:"locations,omitempty"`
	Path           []any                `json:"path,omitempty"`
	Extensions     map[string]any       `json:"extensions,omitempty"`
	CustomerFacing bool                 `json:"customer_facing"`
}

func toWireErrors(errs []*gqlerrors.QueryError) []wireError {
	out := make([]wireError, 0, len(errs))
	for _, e := range errs {
		out = append(out, wireError{
			Message:        e.Message,
			Locations:      e.Locations,
			Path:           e.Path,
			Extensions:     e.Extensions,
			CustomerFacing: errors.Is(e.ResolverError, errLoginFailed),
		})
	}
	return out
}

// writeUnauthorized writes the seed's answer to a protected field asked for
// without a valid token: one error per field, nothing else.
func writeUnauthorized(w http.ResponseWriter, locs []gqlerrors.Location) {
	errs := make([]wireError, 0, len(locs))
	for _, loc := range locs {
		errs = append(errs, wireError{Message: "Unauthorized", Locations: []gqlerrors.Location{loc}})
	}
	if len(errs) == 0 {
		errs = append(errs, wireError{Message: "Unauthorized"})
	}
	writeGraphQL(w, http.StatusOK, errs, nil)
}

// writeError writes a GraphQL-style error body with the given status.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeGraphQL(w, status, []wireError{{Message: msg}}, nil)
}

// writeGraphQL writes {"errors": errs, "data": data}, leaving out what is
// empty. data, already JSON, is copied as is.
func writeGraphQL(w http.ResponseWriter, status int, errs []wireError, data json.RawMessage) {
	var b bytes.Buffer
	b.Grow(len(data) + 64)
	b.WriteByte('{')
	if len(errs) > 0 {
		enc, err := json.Marshal(errs)
		if err != nil {
			enc = []byte(`[{"message":"internal server error","customer_facing":false}]`)
		}
		b.WriteString(`"errors":`)
		b.Write(enc)
	}
	if len(data) > 0 {
		if len(errs) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"data":`)
		b.Write(data)
	}
	b.WriteByte('}')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
