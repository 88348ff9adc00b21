//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall/js"

	"github.com/hack-pad/safejs"
)

// Errors of Fetch.
var (
	// ErrFetchFailed means fetch rejected (the network, DNS, CORS, a
	// redirect), or a body that had begun stopped coming.
	ErrFetchFailed = errors.New("fetch failed")
	// ErrTooLarge means the body is larger than FetchRequest.MaxBytes, or
	// a string or array read with String, Bytes or CopyBytes is longer
	// than the limit given.
	ErrTooLarge = errors.New("too large")
)

// FetchRequest is one request for Fetch.
type FetchRequest struct {
	URL string
	// Init is fetch's options as JSON text: method, headers, credentials
	// and so on. Fetch parses it in one call (much cheaper than setting each
	// field from Go) and adds the body, its AbortSignal and redirect: "error".
	Init string
	// Body is copied into a Uint8Array for fetch, which copies it again as
	// it starts.
	Body []byte
	// SecretBody says Body holds a secret (a password): the Uint8Array is
	// zeroed as soon as fetch has taken its copy, so that the only copy left
	// in JavaScript memory is the browser's own.
	SecretBody bool
	// MaxBytes bounds the body: a body announced larger is not read, and one
	// of unknown size is cut off as soon as it passes the bound.
	MaxBytes int
	// ResponseHeaders names the response headers to return.
	ResponseHeaders []string
	// AllHeaders asks for every response header too, in FetchResponse.All.
	AllHeaders bool
	// Stream asks for the body as a BodyReader, to read piece by piece,
	// instead of whole.
	Stream bool
}

// FetchResponse is an answer: its status and headers, and its body or why
// the body was not read whole.
type FetchResponse struct {
	Status     int
	StatusText string
	// Header holds the requested headers that the response has (and that
	// CORS lets a script read).
	Header map[string]string
	Body   []byte
	// JSBody is the ArrayBuffer the body was read into, when it was read in
	// one piece (else undefined): a caller that hands the body back to
	// JavaScript can pass it on instead of copying Body again.
	JSBody safejs.Value
	// Problem is set when the body was not read whole: ErrTooLarge,
	// ErrFetchFailed, or the context's cause. Body is then nil.
	Problem error
	// All holds every header the response has (that CORS lets a script
	// read), name and value, when the request asked for them.
	All [][2]string
	// Stream is the body, when the request asked for it piece by piece;
	// Body, JSBody and Problem are then unused.
	Stream *BodyReader
}

// Fetch sends req with the fetch the module found when it started, never
// following a redirect (redirect: "error": a redirect is ErrFetchFailed and
// nothing is sent to its target). It returns an error when no answer
// arrived: ErrFetchFailed, or context.Cause(ctx) when ctx ended first (the
// fetch is then aborted). Once an answer began, the error is nil and any
// failure to read the body is the response's Problem.
func Fetch(ctx context.Context, req *FetchRequest) (*FetchResponse, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	if TypeOf(builtins.fetch) != safejs.TypeFunction {
		return nil, fmt.Errorf("%w: this JavaScript environment has no fetch", ErrFetchFailed)
	}
	if ctx.Err() != nil { // nothing is sent
		return nil, context.Cause(ctx)
	}
	controller, err := builtins.abortController.New()
	if err != nil {
		return nil, err
	}
	defer func() {
		if ctx.Err() != nil { // gave up waiting: stop the request too
			_, _ = controller.Call("abort")
		}
	}()
	init, err := fetchInit(req, controller)
	if err != nil {
		return nil, err
	}
	responding, err := builtins.fetch.Invoke(req.URL, init)
	if req.SecretBody {
		if body, _ := getOwn(init, "body"); TypeOf(body) == safejs.TypeObject {
			_, _ = body.Call("fill", 0)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrFetchFailed, errorText(err))
	}
	response, err := Await(ctx, responding)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("%w: %s", ErrFetchFailed, strings.TrimPrefix(err.Error(), ErrRejected.Error()+": "))
	}
	resp := &FetchResponse{Header: map[string]string{}}
	if resp.Status, err = intProperty(response, "status"); err != nil {
		return nil, fmt.Errorf("%w: the response has no status", ErrFetchFailed)
	}
	headers, err := getOwn(response, "headers")
	if err != nil || TypeOf(headers) != safejs.TypeObject {
		return nil, fmt.Errorf("%w: the response has no headers", ErrFetchFailed)
	}
	for _, name := range req.ResponseHeaders {
		if v, ok := header(headers, name); ok {
			resp.Header[name] = v
		}
	}
	if text, err := getOwn(response, "statusText"); err == nil && TypeOf(text) == safejs.TypeString {
		resp.StatusText, _ = text.String()
	}
	if req.AllHeaders {
		resp.All = allHeaders(headers)
	}
	if req.Stream {
		resp.Stream = newBodyReader(response, headers, controller, req.MaxBytes)
		return resp, nil
	}
	resp.Body, resp.JSBody, resp.Problem = readBody(ctx, response, headers, controller, req.MaxBytes)
	if resp.Problem != nil {
		_, _ = controller.Call("abort") // stop the download
		resp.Body = nil
		if ctx.Err() != nil {
			resp.Problem = context.Cause(ctx)
		}
	}
	return resp, nil
}

// fetchInit builds fetch's second argument: req.Init, and the body, the
// signal and redirect: "error".
func fetchInit(req *FetchRequest, controller safejs.Value) (safejs.Value, error) {
	init, err := builtins.json.Call("parse", req.Init)
	if err != nil || TypeOf(init) != safejs.TypeObject {
		return safejs.Value{}, fmt.Errorf("%w: the request options are not a JSON object", ErrFetchFailed)
	}
	signal, err := getOwn(controller, "signal")
	if err != nil {
		return safejs.Value{}, err
	}
	if err := init.Set("signal", signal); err != nil {
		return safejs.Value{}, err
	}
	if err := init.Set("redirect", "error"); err != nil {
		return safejs.Value{}, err
	}
	if req.Body != nil {
		body, err := BytesToJS(req.Body)
		if err != nil {
			return safejs.Value{}, err
		}
		if err := init.Set("body", body); err != nil {
			return safejs.Value{}, err
		}
	}
	return init, nil
}

// readBody reads the whole body, within max bytes. A same-origin body whose
// length is announced and that is not encoded is read in one piece (the
// fastest way); any other is read chunk by chunk and counted as it comes,
// so that it is cut off at the bound. (CORS hides Content-Encoding from
// scripts unless the API exposes it, so a cross-origin Content-Length may
// be that of a compressed body many times smaller than what it inflates
// to: only counting what arrives bounds it.)
func readBody(ctx context.Context, response, headers, controller safejs.Value, max int) ([]byte, safejs.Value, error) {
	length, known := header(headers, "Content-Length")
	announced, err := strconv.ParseInt(strings.TrimSpace(length), 10, 64)
	known = known && err == nil && announced >= 0
	if known && announced > int64(max) {
		return nil, safejs.Undefined(), fmt.Errorf("response body %w: it announces %d bytes, more than the %d allowed", ErrTooLarge, announced, max)
	}
	encoding, encoded := header(headers, "Content-Encoding")
	crossOrigin := false
	if kind, err := getOwn(response, "type"); err == nil && TypeOf(kind) == safejs.TypeString {
		s, _ := kind.String()
		crossOrigin = s == "cors"
	}
	if known && !crossOrigin && (!encoded || strings.EqualFold(strings.TrimSpace(encoding), "identity")) {
		return readWhole(ctx, response, max)
	}
	body, err := newBodyReader(response, headers, controller, max).readAll(ctx)
	return body, safejs.Undefined(), err
}

func readWhole(ctx context.Context, response safejs.Value, max int) ([]byte, safejs.Value, error) {
	reading, err := response.Call("arrayBuffer")
	if err != nil {
		return nil, safejs.Undefined(), fmt.Errorf("%w: %s", ErrFetchFailed, errorText(err))
	}
	buffer, err := Await(ctx, reading)
	if err != nil {
		return nil, safejs.Undefined(), bodyError(err)
	}
	view, err := builtins.uint8Array.New(buffer)
	if err != nil {
		return nil, safejs.Undefined(), fmt.Errorf("%w: the body is not an ArrayBuffer", ErrFetchFailed)
	}
	n, err := intProperty(view, "byteLength")
	if err != nil {
		return nil, safejs.Undefined(), fmt.Errorf("%w: the body is not bytes", ErrFetchFailed)
	}
	if n > max {
		return nil, safejs.Undefined(), fmt.Errorf("response body %w: more than the %d bytes allowed", ErrTooLarge, max)
	}
	body := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(body, view); err != nil {
		return nil, safejs.Undefined(), fmt.Errorf("%w: the body is not bytes", ErrFetchFailed)
	}
	return body, buffer, nil
}

// bodyError explains a failure while the body was coming in.
func bodyError(err error) error {
	if errors.Is(err, ErrRejected) {
		return fmt.Errorf("%w: the body stopped coming: %s", ErrFetchFailed, strings.TrimPrefix(err.Error(), ErrRejected.Error()+": "))
	}
	return err
}

// BodyReader reads a response body piece by piece, as fetch delivers it,
// within a size bound.
type BodyReader struct {
	reader     safejs.Value // the body's ReadableStream reader, or undefined without a body
	controller safejs.Value // aborts the download
	max, read  int
	buf        []byte // the last piece, reused
	err        error  // what ended it: io.EOF, or why it failed
}

func newBodyReader(response, headers, controller safejs.Value, max int) *BodyReader {
	b := &BodyReader{reader: safejs.Undefined(), controller: controller, max: max}
	stream, err := getOwn(response, "body")
	switch {
	case err != nil:
		b.fail(fmt.Errorf("%w: %s", ErrFetchFailed, errorText(err)))
		return b
	case stream.IsNull() || stream.IsUndefined():
		b.err = io.EOF // no body at all
		return b
	}
	if b.reader, err = stream.Call("getReader"); err != nil {
		b.fail(fmt.Errorf("%w: %s", ErrFetchFailed, errorText(err)))
		return b
	}
	// A body that fails rejects the reader's closed promise as well as the
	// read: Next reports the failure; that promise must not go unhandled.
	if closed, err := getOwn(b.reader, "closed"); err == nil && TypeOf(closed) == safejs.TypeObject {
		_, _ = closed.Call("catch", builtins.noop)
	}
	length, known := header(headers, "Content-Length")
	if announced, err := strconv.ParseInt(strings.TrimSpace(length), 10, 64); known && err == nil && announced > int64(max) {
		b.fail(fmt.Errorf("response body %w: it announces %d bytes, more than the %d allowed", ErrTooLarge, announced, max))
	}
	return b
}

// Next returns the next piece of the body: its bytes, valid until the next
// call, and the Uint8Array fetch delivered them in. After the last piece
// it returns io.EOF. It fails with ErrTooLarge, ErrFetchFailed, or the
// context's cause (the download is then stopped).
func (b *BodyReader) Next(ctx context.Context) ([]byte, safejs.Value, error) {
	if b.err != nil {
		return nil, safejs.Undefined(), b.err
	}
	reading, err := b.reader.Call("read")
	if err != nil {
		return nil, safejs.Undefined(), b.fail(fmt.Errorf("%w: %s", ErrFetchFailed, errorText(err)))
	}
	chunk, err := Await(ctx, reading)
	if err != nil {
		if ctx.Err() != nil {
			return nil, safejs.Undefined(), b.fail(context.Cause(ctx))
		}
		return nil, safejs.Undefined(), b.fail(bodyError(err))
	}
	if done, _ := getOwn(chunk, "done"); TypeOf(done) == safejs.TypeBoolean {
		if finished, _ := done.Bool(); finished {
			b.err = io.EOF
			return nil, safejs.Undefined(), io.EOF
		}
	}
	view, err := getOwn(chunk, "value")
	if err != nil {
		return nil, safejs.Undefined(), b.fail(fmt.Errorf("%w: %s", ErrFetchFailed, errorText(err)))
	}
	n, err := intProperty(view, "byteLength")
	if err != nil {
		return nil, safejs.Undefined(), b.fail(fmt.Errorf("%w: a chunk of the body is not bytes", ErrFetchFailed))
	}
	if b.read += n; b.read > b.max {
		return nil, safejs.Undefined(), b.fail(fmt.Errorf("response body %w: more than the %d bytes allowed", ErrTooLarge, b.max))
	}
	if cap(b.buf) < n {
		b.buf = make([]byte, n)
	}
	if _, err := safejs.CopyBytesToGo(b.buf[:n], view); err != nil {
		return nil, safejs.Undefined(), b.fail(fmt.Errorf("%w: a chunk of the body is not bytes", ErrFetchFailed))
	}
	return b.buf[:n], view, nil
}

// readAll reads the rest of the body, piece by piece.
func (b *BodyReader) readAll(ctx context.Context) ([]byte, error) {
	body := []byte{}
	for {
		piece, _, err := b.Next(ctx)
		if err == io.EOF {
			return body, nil
		}
		if err != nil {
			return nil, err
		}
		body = append(body, piece...)
	}
}

// Close stops the download, unless the body was read to its end.
func (b *BodyReader) Close() {
	if b.err == nil {
		b.fail(fmt.Errorf("%w: the body was not read to its end", ErrFetchFailed))
	}
}

// fail ends the body with err and stops the download.
func (b *BodyReader) fail(err error) error {
	b.err = err
	if TypeOf(b.reader) == safejs.TypeObject {
		// Cancelling a body that already failed rejects with its error.
		if cancelled, err := b.reader.Call("cancel"); err == nil && TypeOf(cancelled) == safejs.TypeObject {
			_, _ = cancelled.Call("catch", builtins.noop)
		}
	}
	_, _ = b.controller.Call("abort")
	return err
}

// allHeaders returns every header of headers, as fetch's Headers iterates
// them (lower-case names, sorted; values of a repeated header joined). They
// cross as one string, joined with line feeds, which no header name or
// value can hold.
func allHeaders(headers safejs.Value) [][2]string {
	pairs, err := builtins.array.Call("from", headers)
	if err != nil {
		return nil
	}
	flat, err := pairs.Call("flat")
	if err != nil {
		return nil
	}
	joined, err := flat.Call("join", "\n")
	if err != nil || TypeOf(joined) != safejs.TypeString {
		return nil
	}
	text, err := joined.String()
	if err != nil || text == "" {
		return nil
	}
	parts := strings.Split(text, "\n")
	all := make([][2]string, 0, len(parts)/2)
	for i := 0; i+1 < len(parts); i += 2 {
		all = append(all, [2]string{parts[i], parts[i+1]})
	}
	return all
}

// header returns headers.get(name), and whether the response has it.
func header(headers safejs.Value, name string) (string, bool) {
	v, err := headers.Call("get", jsString(name))
	if err != nil || TypeOf(v) != safejs.TypeString {
		return "", false
	}
	s, err := v.String()
	return s, err == nil
}

// intProperty reads a numeric property of an object the caller does not
// control.
func intProperty(o safejs.Value, name string) (int, error) {
	v, err := getOwn(o, name)
	if err != nil {
		return 0, err
	}
	if TypeOf(v) != safejs.TypeNumber {
		return 0, fmt.Errorf("%s is not a number", name)
	}
	return v.Int()
}

// errorText describes an error from a JS call. The thrown value is shown
// with Describe: js.Error's own Error method reads its message property,
// which could throw, and a throw there would unwind through the module.
func errorText(err error) string {
	var thrown js.Error
	if errors.As(err, &thrown) {
		return Describe(safejs.Safe(thrown.Value))
	}
	return err.Error()
}
