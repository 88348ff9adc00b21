package client

import (
	"errors"

	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/internal/fault"
	"github.com/gqlauth/gqlauth/wasm/session"
)

// Code is the machine-readable kind of a failure, as JavaScript sees it in
// AuthError.code.
type Code string

// The codes, one per way a call can fail.
const (
	CodeInvalidArgument    Code = "INVALID_ARGUMENT"     // the caller passed something unusable
	CodeInsecureEndpoint   Code = "INSECURE_ENDPOINT"    // plain http to a non-loopback host
	CodeNotAuthenticated   Code = "NOT_AUTHENTICATED"    // no token held; nothing was sent
	CodeTokenExpired       Code = "TOKEN_EXPIRED"        // token past expiry; nothing was sent
	CodeLoginFailed        Code = "LOGIN_FAILED"         // the server refused the credentials
	CodeTokenHeaderMissing Code = "TOKEN_HEADER_MISSING" // login answered without a readable token header
	CodeTokenMalformed     Code = "TOKEN_MALFORMED"      // the token header is not a usable JWT
	CodeUnauthorized       Code = "UNAUTHORIZED"         // the server refused the held token
	CodeHTTPError          Code = "HTTP_ERROR"           // a non-2xx status without a GraphQL answer
	CodeBadResponse        Code = "BAD_RESPONSE"         // the body is not a GraphQL response
	CodeNetworkError       Code = "NETWORK_ERROR"        // fetch failed: offline, DNS, CORS, reset
	CodeTimeout            Code = "TIMEOUT"              // no answer within the timeout
	CodeAborted            Code = "ABORTED"              // the caller's signal, or a newer login
	CodeInternal           Code = "INTERNAL"             // a bug in gqlauth; the module keeps working
)

// Codes lists every Code, in the order the README's table gives them. It is
// the one list: web/gqlauth.js and web/gqlauth.d.ts keep copies, which a
// test holds to it.
var Codes = []Code{
	CodeInvalidArgument, CodeInsecureEndpoint, CodeNotAuthenticated, CodeTokenExpired,
	CodeLoginFailed, CodeTokenHeaderMissing, CodeTokenMalformed, CodeUnauthorized,
	CodeHTTPError, CodeBadResponse, CodeNetworkError, CodeTimeout, CodeAborted, CodeInternal,
}

// Sentinel errors. Failures wrap one of these (or one of package session's
// or graphql's), and CodeOf maps them to a Code.
var (
	ErrInvalidArgument    = errors.New("invalid argument")
	ErrInsecureEndpoint   = errors.New("insecure endpoint")
	ErrLoginFailed        = errors.New("login failed")
	ErrTokenHeaderMissing = errors.New("no token header in the login response")
	ErrUnauthorized       = errors.New("unauthorized")
	ErrHTTPStatus         = errors.New("HTTP error status")
	// ErrResponseTooLarge is what a driver ends an exchange with when the
	// body is larger than Request.MaxBytes.
	ErrResponseTooLarge = errors.New("response too large")
	// ErrNetwork is what a driver ends an exchange with when fetch failed:
	// the network, DNS, CORS, a redirect, or a body that stopped coming.
	ErrNetwork = errors.New("network error")
	// ErrTimeout is what a driver ends an exchange with when no complete
	// answer came within Request.Timeout.
	ErrTimeout = errors.New("request timed out")
	// ErrAborted is what a driver ends an exchange with when its caller
	// aborted it.
	ErrAborted = errors.New("request aborted")
	// ErrOvertaken means a newer login or a logout superseded a login.
	ErrOvertaken = errors.New("login overtaken by a newer login or a logout")
	// ErrClosed means the client was closed.
	ErrClosed = errors.New("this client is closed")

	errIgnoredToken = errors.New("gqlauth: ignored the token in a response")
	errKeepAlive    = errors.New("gqlauth: the keep-alive request failed")
)

// ResponseError is a failure that came with an answer: it keeps the HTTP
// status, and says whether the body holds the server's GraphQL errors,
// which the caller reads from the body it passes on.
type ResponseError struct {
	// Status is the HTTP status code.
	Status int
	// ErrorsInBody says the body is a GraphQL response with errors.
	ErrorsInBody bool
	// Err is the sentinel-wrapping cause.
	Err error
}

func (e *ResponseError) Error() string { return e.Err.Error() }
func (e *ResponseError) Unwrap() error { return e.Err }

// codes maps sentinels to codes, checked in order.
var codes = []struct {
	err  error
	code Code
}{
	{ErrInvalidArgument, CodeInvalidArgument},
	{graphql.ErrInvalidVariables, CodeInvalidArgument},
	{ErrInsecureEndpoint, CodeInsecureEndpoint},
	{session.ErrNotAuthenticated, CodeNotAuthenticated},
	{ErrClosed, CodeNotAuthenticated},
	{session.ErrExpired, CodeTokenExpired},
	{session.ErrAlreadyExpired, CodeTokenExpired},
	{ErrLoginFailed, CodeLoginFailed},
	{ErrTokenHeaderMissing, CodeTokenHeaderMissing},
	{session.ErrNoToken, CodeTokenHeaderMissing},
	{session.ErrMalformed, CodeTokenMalformed},
	{session.ErrUnsafeHeader, CodeTokenMalformed},
	{ErrUnauthorized, CodeUnauthorized},
	{ErrHTTPStatus, CodeHTTPError},
	{graphql.ErrBadResponse, CodeBadResponse},
	{ErrResponseTooLarge, CodeBadResponse},
	{ErrTimeout, CodeTimeout},
	{ErrAborted, CodeAborted},
	{ErrOvertaken, CodeAborted},
	{ErrNetwork, CodeNetworkError},
}

// CodeOf returns the Code for err: the first sentinel err wraps, in the
// order a caller would act on them. An error wrapping none is CodeInternal.
func CodeOf(err error) Code {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return CodeInternal
}

// Details returns what a caller shows of err: its code, HTTP status (0
// when there was no answer) and whether the body holds the server's
// GraphQL errors.
func Details(err error) (code Code, status int, errorsInBody bool) {
	var re *ResponseError
	if errors.As(err, &re) {
		status, errorsInBody = re.Status, re.ErrorsInBody
	}
	return CodeOf(err), status, errorsInBody
}

func invalidArg(detail string) error { return fault.New(ErrInvalidArgument, detail) }
