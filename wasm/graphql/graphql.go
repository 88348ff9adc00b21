// Package graphql encodes GraphQL-over-HTTP requests and reads what the
// client needs from responses: the errors, whether the server refused the
// token, and one field of data. It reads responses with gjson and never
// decodes data into Go structs; the JavaScript side parses the body itself.
//
// It is pure Go: it must not import syscall/js or net/http.
package graphql

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
)

// ErrInvalidVariables means the variables were not a JSON object.
var ErrInvalidVariables = errors.New("variables must be a JSON object")

// ErrBadResponse means a response body is not a GraphQL response: not JSON,
// not an object, or with neither data nor errors.
var ErrBadResponse = errors.New("response is not a GraphQL response")

// UnauthorizedMessage is the error message the API uses for a missing,
// expired or refused token.
const UnauthorizedMessage = "Unauthorized"

// Request is one GraphQL operation.
type Request struct {
	Query string
	// Variables is a JSON object, or empty for none. It is copied into the
	// body as it is, after a validity check.
	Variables string
	// OperationName selects an operation in a document with several; empty
	// for none.
	OperationName string
}

// Encode returns the JSON body for r. Variables that are not a JSON object
// (null and empty count as none) return ErrInvalidVariables.
func (r Request) Encode() ([]byte, error) {
	vars := strings.TrimSpace(r.Variables)
	if vars == "null" {
		vars = ""
	}
	if vars != "" && (!gjson.Valid(vars) || !gjson.Parse(vars).IsObject()) {
		return nil, ErrInvalidVariables
	}
	query, err := json.Marshal(r.Query)
	if err != nil {
		return nil, err
	}
	size := len(query) + len(vars) + len(r.OperationName) + 48
	b := make([]byte, 0, size)
	b = append(b, `{"query":`...)
	b = append(b, query...)
	if vars != "" {
		b = append(b, `,"variables":`...)
		b = append(b, vars...)
	}
	if r.OperationName != "" {
		name, err := json.Marshal(r.OperationName)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"operationName":`...)
		b = append(b, name...)
	}
	return append(b, '}'), nil
}

// Response is a parsed view of a GraphQL response body. It keeps the body
// and reads from it on demand; its methods never panic.
type Response struct {
	body   []byte
	errors gjson.Result
}

// ParseResponse checks that body is a GraphQL response: a JSON object with
// data or errors. Otherwise it returns an error wrapping ErrBadResponse.
func ParseResponse(body []byte) (*Response, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: the body is empty", ErrBadResponse)
	}
	if !gjson.ValidBytes(body) {
		return nil, fmt.Errorf("%w: the body is not valid JSON", ErrBadResponse)
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return nil, fmt.Errorf("%w: the body is not a JSON object", ErrBadResponse)
	}
	r := &Response{body: body}
	data := root.Get("data")
	r.errors = root.Get("errors")
	if !data.Exists() && !r.errors.Exists() {
		return nil, fmt.Errorf("%w: it has neither data nor errors", ErrBadResponse)
	}
	if r.errors.Exists() && !r.errors.IsArray() && r.errors.Type != gjson.Null {
		return nil, fmt.Errorf("%w: errors is not a list", ErrBadResponse)
	}
	return r, nil
}

// HasErrors reports whether the response lists at least one error.
func (r *Response) HasErrors() bool {
	return r.errors.IsArray() && len(r.errors.Array()) > 0
}

// ErrorsJSON returns the errors list exactly as the server sent it, or ""
// when there is none.
func (r *Response) ErrorsJSON() string {
	if !r.HasErrors() {
		return ""
	}
	return r.errors.Raw
}

// Errors returns the errors list decoded. Entries that are not objects are
// kept with their raw JSON as the message.
func (r *Response) Errors() []Error {
	if !r.HasErrors() {
		return nil
	}
	var errs []Error
	r.errors.ForEach(func(_, e gjson.Result) bool {
		errs = append(errs, errorFrom(e))
		return true
	})
	return errs
}

// Unauthorized reports whether any error has the message "Unauthorized",
// the API's answer to a missing, expired or refused token.
func (r *Response) Unauthorized() bool {
	found := false
	r.errors.ForEach(func(_, e gjson.Result) bool {
		found = e.Get("message").String() == UnauthorizedMessage
		return !found
	})
	return found
}

// DataField returns the raw JSON of data.<name>, or "" when it is absent or
// null.
func (r *Response) DataField(name string) string {
	v := gjson.GetBytes(r.body, "data."+gjsonEscape(name))
	if !v.Exists() || v.Type == gjson.Null {
		return ""
	}
	return v.Raw
}

// gjsonEscape quotes the characters gjson gives a meaning to in a path.
func gjsonEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`.*?|#@\!=<>%`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Location is a position in the query document, 1-based.
type Location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Error is one entry of a response's errors list.
type Error struct {
	Message   string     `json:"message"`
	Locations []Location `json:"locations,omitempty"`
	// Path is the response path of the field, names and indices.
	Path []any `json:"path,omitempty"`
	// Extensions is the raw JSON object, empty when absent.
	Extensions json.RawMessage `json:"extensions,omitempty"`
	// CustomerFacing is the API's customer_facing flag: whether the message
	// may be shown to end users. Nil when the server did not say.
	CustomerFacing *bool `json:"customer_facing,omitempty"`
}

func (e Error) Error() string { return e.Message }

func errorFrom(v gjson.Result) Error {
	if !v.IsObject() {
		return Error{Message: v.Raw}
	}
	e := Error{Message: v.Get("message").String()}
	v.Get("locations").ForEach(func(_, l gjson.Result) bool {
		e.Locations = append(e.Locations, Location{Line: int(l.Get("line").Int()), Column: int(l.Get("column").Int())})
		return true
	})
	v.Get("path").ForEach(func(_, p gjson.Result) bool {
		if p.Type == gjson.Number {
			e.Path = append(e.Path, int(p.Int()))
		} else {
			e.Path = append(e.Path, p.String())
		}
		return true
	})
	if x := v.Get("extensions"); x.IsObject() {
		e.Extensions = json.RawMessage(x.Raw)
	}
	if cf := v.Get("customer_facing"); cf.IsBool() {
		b := cf.Bool()
		e.CustomerFacing = &b
	}
	return e
}
