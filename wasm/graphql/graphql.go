// Package graphql encodes GraphQL-over-HTTP requests and reads what the
// client needs from responses: the errors, whether the server refused the
// whole operation, and one field of data. It reads responses with package
// jsonscan, which checks a body in one pass and then reads the parts asked
// for in place, and never decodes data into Go structs; whoever asked for
// the data parses the body itself.
//
// It is pure Go: it must not import syscall/js or net/http. It does not use
// encoding/json either, which would add its reflection-based encoder to the
// module for the one thing needed here, quoting a string (AppendString).
package graphql

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/gqlauth/gqlauth/wasm/internal/jsonscan"
)

// ErrInvalidVariables means the variables were not a JSON object.
var ErrInvalidVariables = errors.New("variables must be a JSON object")

// ErrBadResponse means a response body is not a GraphQL response: not JSON,
// not an object, nested too deeply, or with neither data nor errors.
var ErrBadResponse = errors.New("response is not a GraphQL response")

// UnauthorizedMessage is the error message the API uses for a missing,
// expired or refused token.
const UnauthorizedMessage = "Unauthorized"

// MaxDepth is how deeply arrays and objects may nest in a response or in
// variables. Real GraphQL answers nest a few dozen levels.
const MaxDepth = 256

// Request is one GraphQL operation.
type Request struct {
	Query string
	// Variables is a JSON object, or empty for none. It is copied into the
	// body as it is, after a validity check.
	Variables []byte
	// OperationName selects an operation in a document with several; empty
	// for none.
	OperationName string
}

// Encode returns the JSON body for r. Variables that are not a JSON object
// (null and empty count as none) return ErrInvalidVariables.
func (r Request) Encode() ([]byte, error) {
	vars := trimSpace(r.Variables)
	if string(vars) == "null" {
		vars = nil
	}
	if len(vars) > 0 {
		if err := jsonscan.CheckObject(vars, MaxDepth); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidVariables, err)
		}
	}
	// Room for the query and the operation name escaped at worst, so that
	// the buffer never grows: vars may hold a password, and a buffer that
	// grew would leave a copy behind.
	b := make([]byte, 0, 6*(len(r.Query)+len(r.OperationName))+len(vars)+64)
	b = append(b, `{"query":`...)
	b = AppendString(b, r.Query)
	if len(vars) > 0 {
		b = append(b, `,"variables":`...)
		b = append(b, vars...)
	}
	if r.OperationName != "" {
		b = append(b, `,"operationName":`...)
		b = AppendString(b, r.OperationName)
	}
	return append(b, '}'), nil
}

func trimSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// AppendString appends s to dst as a JSON string literal, quotes included,
// and returns the extended buffer. It escapes what JSON requires (quote,
// backslash, control characters) and U+2028, U+2029; invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func AppendString(dst []byte, s string) []byte {
	return AppendBytes(dst, unsafe.Slice(unsafe.StringData(s), len(s)))
}

// AppendBytes is AppendString for text held in a byte slice. It copies s
// straight into dst, so a secret (a password) leaves no other copy behind.
func AppendBytes(dst []byte, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Response is a parsed view of a GraphQL response body. It reads from the
// body on demand, without copying it, so the body must not change while
// the Response is in use. Its methods never panic.
type Response struct {
	data   jsonscan.Value // empty when absent
	errors jsonscan.Value
}

// ParseResponse checks that body is a GraphQL response: a JSON object with
// data or errors, nested at most MaxDepth levels. Otherwise it returns an
// error wrapping ErrBadResponse that says what is wrong.
func ParseResponse(body []byte) (*Response, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: the body is empty", ErrBadResponse)
	}
	members, err := jsonscan.Object(body, MaxDepth)
	if err := checkScan(err); err != nil {
		return nil, err
	}
	r := &Response{}
	for _, m := range members { // the last of a repeated name counts, as in JSON.parse
		switch m.Name {
		case "data":
			r.data = m.Value
		case "errors":
			r.errors = m.Value
		}
	}
	if r.data == nil && r.errors == nil {
		return nil, fmt.Errorf("%w: it has neither data nor errors", ErrBadResponse)
	}
	if kind := r.errors.Kind(); kind != 0 && kind != jsonscan.KindArray && kind != jsonscan.KindNull {
		return nil, fmt.Errorf("%w: errors is not a list", ErrBadResponse)
	}
	return r, nil
}

// checkScan explains a body jsonscan refused.
func checkScan(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jsonscan.ErrTooDeep):
		return fmt.Errorf("%w: the body nests deeper than %d levels", ErrBadResponse, MaxDepth)
	case errors.Is(err, jsonscan.ErrNotObject):
		return fmt.Errorf("%w: the body is not a JSON object", ErrBadResponse)
	}
	return fmt.Errorf("%w: the body is not valid JSON (%w)", ErrBadResponse, err)
}

// HasErrors reports whether the response lists at least one error.
func (r *Response) HasErrors() bool {
	for range r.errors.Elements() {
		return true
	}
	return false
}

// ErrorsJSON returns the errors list exactly as the server sent it, or ""
// when there is none.
func (r *Response) ErrorsJSON() string {
	if !r.HasErrors() {
		return ""
	}
	return string(r.errors)
}

// Errors returns the errors list decoded. Entries that are not objects are
// kept with their raw JSON as the message.
func (r *Response) Errors() []Error {
	if !r.HasErrors() {
		return nil
	}
	var errs []Error
	for e := range r.errors.Elements() {
		errs = append(errs, errorFrom(e))
	}
	return errs
}

// DefaultRefusalCodes are the extensions.code values that say an error is
// a refused token, whatever its message: Apollo Server's convention.
var DefaultRefusalCodes = []string{"UNAUTHENTICATED"}

// Unauthorized reports whether one of the response's errors says the
// request was not authenticated: its message is "Unauthorized" (the API
// contract's), or its extensions.code is one of codes. Whether that means
// the server refused the token, or denied a permission to a token it
// accepted, is for the caller to tell (an authenticated answer brings a
// new token).
func (r *Response) Unauthorized(codes []string) bool {
	for e := range r.errors.Elements() {
		if isUnauthorized(e.Get("message"), e.Get("extensions").Get("code"), codes) {
			return true
		}
	}
	return false
}

func isUnauthorized(message, code jsonscan.Value, codes []string) bool {
	if m, ok := message.Text(); ok && m == UnauthorizedMessage {
		return true
	}
	if c, ok := code.Text(); ok {
		for _, want := range codes {
			if c == want {
				return true
			}
		}
	}
	return false
}

// DataField returns the raw JSON of data.<name>, or "" when it is absent or
// null.
func (r *Response) DataField(name string) string {
	field := r.data.Get(name)
	if kind := field.Kind(); kind == 0 || kind == jsonscan.KindNull {
		return ""
	}
	return string(field)
}

// Location is a position in the query document, 1-based.
type Location struct {
	Line   int
	Column int
}

// Error is one entry of a response's errors list.
type Error struct {
	Message   string
	Locations []Location
	// Path is the response path of the field, names and indices.
	Path []any
	// Extensions is the raw JSON object, empty when absent.
	Extensions string
	// CustomerFacing is the API's customer_facing flag: whether the message
	// may be shown to end users. Nil when the server did not say.
	CustomerFacing *bool
}

func (e Error) Error() string { return e.Message }

// errorFrom reads one entry of an errors list. An entry that is not an
// object keeps its raw JSON as the message; a member of the wrong type
// reads as its text (message, a path segment) or as zero (a location).
func errorFrom(v jsonscan.Value) Error {
	if v.Kind() != jsonscan.KindObject {
		return Error{Message: string(v)}
	}
	e := Error{Message: text(v.Get("message"))}
	for l := range v.Get("locations").Elements() {
		e.Locations = append(e.Locations, Location{Line: integer(l.Get("line")), Column: integer(l.Get("column"))})
	}
	for p := range v.Get("path").Elements() {
		if p.Kind() == jsonscan.KindNumber {
			e.Path = append(e.Path, integer(p))
		} else {
			e.Path = append(e.Path, text(p))
		}
	}
	if x := v.Get("extensions"); x.Kind() == jsonscan.KindObject {
		e.Extensions = string(x)
	}
	if b, ok := v.Get("customer_facing").Bool(); ok {
		e.CustomerFacing = &b
	}
	return e
}

// text is a string's text, "" for null or nothing, and the raw JSON of
// anything else.
func text(v jsonscan.Value) string {
	if s, ok := v.Text(); ok {
		return s
	}
	if v.Kind() == jsonscan.KindNull {
		return ""
	}
	return string(v)
}

// integer is a number's integer part, or a string's when it holds one;
// else 0.
func integer(v jsonscan.Value) int {
	if f, ok := v.Float(); ok && f >= math.MinInt32 && f <= math.MaxInt32 {
		return int(f)
	}
	if s, ok := v.Text(); ok {
		n, _ := strconv.Atoi(s)
		return n
	}
	return 0
}
