// Package graphql encodes GraphQL-over-HTTP requests and judges answers:
// Judge reads a body as it passes, in pieces or whole, and says whether it
// is a GraphQL response, whether it has errors, whether one of them says
// Unauthorized, and whether data holds a given field. It keeps a few words
// of state and never the body, and never decodes data into Go structs;
// whoever asked for the data parses the body itself (in the page).
//
// It is pure Go: it must not import syscall/js, net/http or fmt. It does
// not use encoding/json either, which would add its reflection-based encoder
// to the module for the one thing needed here, quoting a string
// (AppendString).
package graphql

import (
	"errors"
	"unicode/utf8"
	"unsafe"

	"github.com/gqlauth/gqlauth/wasm/internal/fault"
	"github.com/gqlauth/gqlauth/wasm/internal/jsonscan"
)

// ErrInvalidVariables means the variables were not a JSON object.
var ErrInvalidVariables = errors.New("variables must be a JSON object")

// ErrBadResponse means a response body is not a GraphQL response: not JSON,
// not an object, nested too deeply, or with neither data nor errors.
var ErrBadResponse = errors.New("the response is not a GraphQL response")

// DefaultRefusalCodes are the extensions.code values that say an error is
// a refused token, whatever its message: Apollo Server's convention.
var DefaultRefusalCodes = []string{"UNAUTHENTICATED"}

// UnauthorizedMessage is the error message the API contract uses for a
// missing, expired or refused token (and servers for permission errors).
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
			return nil, fault.Wrap(ErrInvalidVariables, "", err)
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
