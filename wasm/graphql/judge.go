package graphql

import (
	"fmt"

	"github.com/gqlauth/gqlauth/wasm/internal/jsonscan"
)

// Judge reads a response body in pieces, as it passes through on its way
// to someone else, and says at its end what ParseResponse and Unauthorized
// would say of the whole body, while keeping a few words of state and
// never the body. Set Codes (else DefaultRefusalCodes count), Write the
// pieces in order, then call End.
type Judge struct {
	// Codes are the extensions.code values that say an error is a refused
	// token (see Response.Unauthorized); nil means DefaultRefusalCodes.
	Codes []string

	scan    jsonscan.Stream
	started bool
	empty   bool
	// What the top-level members said so far; for a repeated name the last
	// counts, as in JSON.parse.
	hasData, hasErrors, errorsListed bool // errors is a list or null
	unauthorized                     bool // the errors list has an Unauthorized error
	inErrors                         bool // reading the errors list
	inError                          bool // reading one of its entries, an object
	inExtensions                     bool // reading that entry's extensions
	// Whether the entry's message, and its extensions' code, say
	// Unauthorized (for a repeated name the last counts).
	entryMessage, entryCode bool
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

// End says the body is complete. It returns what Unauthorized would say of
// it, and nil, or the error ParseResponse would return (then unauthorized
// is false).
func (j *Judge) End() (unauthorized bool, err error) {
	if !j.started || j.empty {
		return false, fmt.Errorf("%w: the body is empty", ErrBadResponse)
	}
	if err := checkScan(j.scan.End()); err != nil {
		return false, err
	}
	switch {
	case !j.hasData && !j.hasErrors:
		return false, fmt.Errorf("%w: it has neither data nor errors", ErrBadResponse)
	case j.hasErrors && !j.errorsListed:
		return false, fmt.Errorf("%w: errors is not a list", ErrBadResponse)
	}
	return j.unauthorized, nil
}

// visit watches data, errors, the entries of errors, their messages and
// their extensions' codes.
func (j *Judge) visit(v *jsonscan.Visit) {
	switch v.Depth {
	case 1:
		if v.End {
			j.inErrors = false
			return
		}
		switch {
		case v.NameIs("data"):
			j.hasData = true
		case v.NameIs("errors"):
			j.hasErrors, j.unauthorized = true, false
			j.errorsListed = v.Kind == jsonscan.KindArray || v.Kind == jsonscan.KindNull
			j.inErrors = v.Kind == jsonscan.KindArray
		}
	case 2:
		if !j.inErrors || v.Kind != jsonscan.KindObject {
			return
		}
		if v.End {
			j.unauthorized = j.unauthorized || j.entryMessage || j.entryCode
		}
		j.inError, j.entryMessage, j.entryCode, j.inExtensions = !v.End, false, false, false
	case 3:
		switch {
		case !j.inError:
		case v.End:
			j.inExtensions = false
		case v.NameIs("message"):
			j.entryMessage = v.StringIs(UnauthorizedMessage)
		case v.NameIs("extensions"):
			j.inExtensions, j.entryCode = v.Kind == jsonscan.KindObject, false
		}
	case 4:
		if j.inExtensions && v.NameIs("code") {
			j.entryCode = j.isRefusalCode(v)
		}
	}
}

func (j *Judge) isRefusalCode(v *jsonscan.Visit) bool {
	codes := j.Codes
	if codes == nil {
		codes = DefaultRefusalCodes
	}
	for _, c := range codes {
		if v.StringIs(c) {
			return true
		}
	}
	return false
}
