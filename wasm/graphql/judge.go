package graphql

import (
	"fmt"

	"github.com/gqlauth/gqlauth/wasm/internal/jsonscan"
)

// Judge reads a response body in pieces, as it passes through on its way
// to someone else, and says at its end what ParseResponse and Refused
// would say of the whole body, while keeping a few words of state and
// never the body. The zero Judge is ready; Write the pieces in order, then
// call End.
type Judge struct {
	scan    jsonscan.Stream
	started bool
	empty   bool
	// What the top-level members said so far; for a repeated name the last
	// counts, as in JSON.parse.
	hasData, dataNull       bool
	hasErrors, errorsListed bool // errors is a list or null
	unauthorized            bool // the errors list has an Unauthorized error
	inErrors                bool // reading the errors list
	inError                 bool // reading one of its entries, an object
	entryUnauthorized       bool // whose message is Unauthorized
}

// Write reads the next piece of the body.
func (j *Judge) Write(p []byte) {
	if !j.started {
		j.started, j.empty = true, true
		j.scan = jsonscan.Stream{MaxDepth: MaxDepth, VisitDepth: 3, OnValue: j.visit}
	}
	if len(p) > 0 {
		j.empty = false
	}
	_ = j.scan.Write(p) // End reports the error
}

// End says the body is complete. It returns what Refused would say of it,
// and nil, or the error ParseResponse would return (then refused is false).
func (j *Judge) End() (refused bool, err error) {
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
	return (!j.hasData || j.dataNull) && j.unauthorized, nil
}

// visit watches data, errors, the entries of errors and their messages.
func (j *Judge) visit(v *jsonscan.Visit) {
	switch v.Depth {
	case 1:
		if v.End {
			j.inErrors = false
			return
		}
		switch {
		case v.NameIs("data"):
			j.hasData, j.dataNull = true, v.Kind == jsonscan.KindNull
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
			j.unauthorized = j.unauthorized || j.entryUnauthorized
		}
		j.inError, j.entryUnauthorized = !v.End, false
	case 3:
		if j.inError && v.NameIs("message") {
			j.entryUnauthorized = v.StringIs(UnauthorizedMessage)
		}
	}
}
