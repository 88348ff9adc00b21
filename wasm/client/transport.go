package client

import "context"

// Request is one HTTP request a Transport sends: a POST of JSON, or, for
// the app's own requests (Client.Pass), a GET.
type Request struct {
	// Method is GET or POST; "" means POST.
	Method string
	URL    string
	// Header holds the request headers, canonical names as keys.
	Header map[string]string
	// Body is the JSON body.
	Body []byte
	// Secret says Body holds a password: a Transport must not keep it, and
	// must wipe any copy it makes once the request is on its way.
	Secret bool
	// ResponseHeaders names the response headers the client reads; a
	// Transport need not return any others.
	ResponseHeaders []string
	// AllHeaders asks for every response header the Transport can read as
	// well, in Response.All.
	AllHeaders bool
	// Stream asks for the body piece by piece, as it arrives: a Transport
	// may then return it as Response.Stream instead of reading it whole.
	Stream bool
}

// Response is the one record a Transport returns for a request that got an
// answer: the status, the requested headers, and the body or the problem
// that kept it from being read whole.
type Response struct {
	Status     int
	StatusText string
	// Header maps the requested response header names, as spelled in
	// Request.ResponseHeaders, to their values; a missing header is absent.
	// A header sent on several lines is one value, joined with ", ".
	Header map[string]string
	// Body is the whole body, when Problem is nil.
	Body []byte
	// Native is the transport's own handle on the body, if it has one (the
	// browser's transport: the JavaScript ArrayBuffer the body was read
	// into). The client passes it on in Result.Native untouched, so that a
	// caller handing the body back to where it came from need not copy it.
	Native any
	// Problem, when set, says why the body was not read whole although the
	// answer began: it wraps ErrResponseTooLarge, ErrNetwork (cut off) or the
	// context's cause (the time ran out). Status and Header still hold.
	Problem error
	// All holds every response header, name and value, when the request
	// asked for them (AllHeaders).
	All [][2]string
	// Stream, when set, is the body, still to be read (Request.Stream);
	// Body and Problem are then unused.
	Stream Stream
}

// Stream is a response body read piece by piece.
type Stream interface {
	// Next returns the next piece of the body, or io.EOF after the last.
	// The piece's bytes are valid until the next call. It fails as a
	// Response's Problem says: ErrResponseTooLarge, ErrNetwork, or the
	// context's cause.
	Next(ctx context.Context) (Chunk, error)
	// Close stops the download, if it is not complete. It may be called
	// more than once.
	Close()
}

// Chunk is one piece of a body.
type Chunk struct {
	Bytes []byte
	// Native is the transport's own handle on the same bytes (in the
	// browser, the Uint8Array fetch gave), or nil: a caller passing the
	// piece on to where it came from need not copy it.
	Native any
}

// Transport sends one request. It returns an error when no answer arrived:
// one wrapping ErrNetwork when the request could not be completed, or the
// context's cause (context.Cause) when ctx ended first. It never follows a
// redirect: a redirect is an error wrapping ErrNetwork, or an answer with
// its 3xx status, and nothing is sent to the redirect's target.
type Transport interface {
	RoundTrip(ctx context.Context, req *Request) (*Response, error)
}
