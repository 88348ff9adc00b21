package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/gqlauth/gqlauth/wasm/graphql"
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
// or graphql's) with %w, and CodeOf maps them to a Code.
var (
	ErrInvalidArgument    = errors.New("invalid argument")
	ErrInsecureEndpoint   = errors.New("insecure endpoint")
	ErrLoginFailed        = errors.New("login failed")
	ErrTokenHeaderMissing = errors.New("no token header in the login response")
	ErrUnauthorized       = errors.New("unauthorized")
	ErrHTTPStatus         = errors.New("HTTP error status")
	ErrResponseTooLarge   = errors.New("response too large")
	// ErrNetwork is what a Transport wraps when the request could not be
	// completed at all.
	ErrNetwork = errors.New("network error")
	// ErrTimeout is the context cause a Client sets when its timeout runs out.
	ErrTimeout = errors.New("request timed out")
	// ErrAborted is the cause to cancel a context with when the caller aborts.
	ErrAborted = errors.New("request aborted")
	// ErrOvertaken means a newer login or a logout superseded a login.
	ErrOvertaken = errors.New("login overtaken by a newer login or a logout")
	// ErrClosed means the client was closed.
	ErrClosed = errors.New("client is closed")
)

// ResponseError is a failure that came with a response: it keeps the HTTP
// status and the GraphQL errors as the server sent them.
type ResponseError struct {
	// Status is the HTTP status code.
	Status int
	// GraphQLErrors is the response's errors list as raw JSON, "" if none.
	GraphQLErrors string
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
	{context.DeadlineExceeded, CodeTimeout},
	{ErrAborted, CodeAborted},
	{ErrOvertaken, CodeAborted},
	{context.Canceled, CodeAborted},
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

// Details returns what a caller shows of err: its code, HTTP status (0 when
// there was no response) and the server's GraphQL errors as raw JSON.
func Details(err error) (code Code, status int, graphQLErrors string) {
	var re *ResponseError
	if errors.As(err, &re) {
		status, graphQLErrors = re.Status, re.GraphQLErrors
	}
	return CodeOf(err), status, graphQLErrors
}

func invalidArg(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}
