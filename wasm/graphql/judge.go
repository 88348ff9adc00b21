package graphql

import (
	"errors"

	"github.com/gqlauth/gqlauth/wasm/internal/fault"
	"github.com/gqlauth/gqlauth/wasm/internal/jsonscan"
)

// Judge reads a response body as it passes, in pieces or whole, and says at
// its end what the client needs to know of it, keeping a few words of state
// and never the body. Set its fields (or leave them zero), Write the pieces
// in order, then call End. It is the module's only reader of answers.
type Judge struct {
	// Codes are the extensions.code values that say an error is a refused
	// token (see Verdict.Unauthorized); nil means DefaultRefusalCodes.
	Codes []string
	// Field names a member of data whose presence Verdict.Field reports
	// (ASCII, at most twelve bytes), or "".
	Field string

	scan    jsonscan.Stream
	started bool
	empty   bool
	// What the top-level members said so far; for a repeated name the last
	// counts, as in JSON.parse.
	hasData, hasErrors, errorsListed bool // errors is a list or null
	verdict                          Verdict
	inData, inErrors                 bool // reading data (an object), the errors list
	inError, inExtensions            bool // reading an entry of errors, an object, and its extensions
	entry                            int  // entries of the errors list so far
	// Whether the entry's message, and its extensions' code, say
	// Unauthorized (for a repeated name the last counts).
	entryMessage, entryCode bool
}

// Verdict is what Judge says of a GraphQL response.
type Verdict struct {
	// Errors says its errors list has at least one entry.
	Errors bool
	// Unauthorized says one of the errors says the request was not
	// authenticated: its message is "Unauthorized", or its extensions.code
	// is one of Judge.Codes. Whether the server refused the token or denied
	// a permission to a token it accepted is for the caller to tell (an
	// authenticated answer brings a new token).
	Unauthorized bool
	// Field says data holds Judge.Field, and it is not null.
	Field bool
	// Message is the first error's message, when it is a short string (see
	// jsonscan.Visit.Text); else "".
	Message string
}

// Write reads the next piece of the body.
func (j *Judge) Write(p []byte) {
	if !j.started {
		j.started, j.empty = true, true
		j.scan = jsonscan.Stream{MaxDepth: MaxDepth, VisitDepth: 4, OnValue: j.visit}
	}
	if len(p) > 0 {
		j.empty = false
	}
	_ = j.scan.Write(p) // End reports the error
}

// End says the body is complete. It returns the verdict, or an error
// wrapping ErrBadResponse that says why the body is not a GraphQL
// response: empty, not JSON, not an object, nested deeper than MaxDepth,
// with neither data nor errors, or errors not a list.
func (j *Judge) End() (Verdict, error) {
	if !j.started || j.empty {
		return Verdict{}, fault.New(ErrBadResponse, "the body is empty")
	}
	switch err := j.scan.End(); {
	case err == nil:
	case errors.Is(err, jsonscan.ErrTooDeep):
		return Verdict{}, fault.New(ErrBadResponse, "the body nests deeper than 256 levels")
	case errors.Is(err, jsonscan.ErrNotObject):
		return Verdict{}, fault.New(ErrBadResponse, "the body is not a JSON object")
	default:
		return Verdict{}, fault.Wrap(ErrBadResponse, "the body is not valid JSON", err)
	}
	switch {
	case !j.hasData && !j.hasErrors:
		return Verdict{}, fault.New(ErrBadResponse, "it has neither data nor errors")
	case j.hasErrors && !j.errorsListed:
		return Verdict{}, fault.New(ErrBadResponse, "errors is not a list")
	}
	return j.verdict, nil
}

// visit watches data and its member Field, errors, the entries of errors,
// their messages and their extensions' codes.
func (j *Judge) visit(v *jsonscan.Visit) {
	switch v.Depth {
	case 1:
		if v.End {
			j.inData, j.inErrors = false, false
			return
		}
		switch {
		case v.NameIs("data"):
			j.hasData, j.inData, j.verdict.Field = true, v.Kind == jsonscan.KindObject, false
		case v.NameIs("errors"):
			j.hasErrors, j.entry, j.verdict.Errors, j.verdict.Unauthorized, j.verdict.Message = true, 0, false, false, ""
			j.errorsListed = v.Kind == jsonscan.KindArray || v.Kind == jsonscan.KindNull
			j.inErrors = v.Kind == jsonscan.KindArray
		}
	case 2:
		if j.inData && !v.End && j.Field != "" && v.NameIs(j.Field) {
			j.verdict.Field = v.Kind != jsonscan.KindNull
		}
		if !j.inErrors {
			return
		}
		if !v.End {
			j.entry++
			j.verdict.Errors = true
		}
		if v.Kind != jsonscan.KindObject {
			return
		}
		if v.End {
			j.verdict.Unauthorized = j.verdict.Unauthorized || j.entryMessage || j.entryCode
		}
		j.inError, j.entryMessage, j.entryCode, j.inExtensions = !v.End, false, false, false
	case 3:
		switch {
		case !j.inError:
		case v.End:
			j.inExtensions = false
		case v.NameIs("message"):
			j.entryMessage = v.StringIs(UnauthorizedMessage)
			if j.entry == 1 {
				j.verdict.Message, _ = v.Text()
			}
		case v.NameIs("extensions"):
			j.inExtensions, j.entryCode = v.Kind == jsonscan.KindObject, false
		}
	case 4:
		if j.inExtensions && v.NameIs("code") {
			code, ok := v.Text()
			j.entryCode = ok && j.isRefusalCode(code)
		}
	}
}

func (j *Judge) isRefusalCode(code string) bool {
	codes := j.Codes
	if codes == nil {
		codes = DefaultRefusalCodes
	}
	for _, c := range codes {
		if c == code {
			return true
		}
	}
	return false
}
