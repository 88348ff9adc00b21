//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// Errors a fetch can fail with, besides the context's cause.
var (
	// ErrFetch means fetch rejected: the network, DNS, a refused
	// connection, or a CORS failure (the browser does not tell which).
	ErrFetch = errors.New("fetch failed")
	// ErrBodyTooLarge means the response body is larger than MaxBytes.
	ErrBodyTooLarge = errors.New("response body too large")
)

// FetchRequest is one fetch call.
type FetchRequest struct {
	URL    string
	Method string
	// Header holds the request headers.
	Header map[string]string
	// Body is sent as bytes; nil sends no body.
	Body []byte
	// Credentials is fetch's credentials mode ("omit", "same-origin",
	// "include"); empty leaves fetch's default.
	Credentials string
	// ResponseHeaders names the response headers to read back.
	ResponseHeaders []string
	// MaxBytes bounds the response body; 0 means no bound.
	MaxBytes int64
}

// FetchResponse is what came back.
type FetchResponse struct {
	Status int
	// Header maps the requested names to their values; absent when the
	// response had no such header or the browser would not expose it.
	Header map[string]string
	// Body is the body copied into Go memory.
	Body []byte
	// BodyJS is the same bytes as a JS Uint8Array, for handing back to
	// JavaScript without a second copy.
	BodyJS safejs.Value
}

// Fetch performs req with the global fetch and reads the whole body. When
// ctx ends, the fetch is aborted and Fetch returns context.Cause(ctx). A body
// larger than MaxBytes is refused with ErrBodyTooLarge before it is copied
// into Go memory.
func Fetch(ctx context.Context, req FetchRequest) (resp *FetchResponse, err error) {
	defer Recover(&err)
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	if err := Init(); err != nil {
		return nil, err
	}
	controller, err := builtins.abortController.New()
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { controller.Call("abort") })
	defer stop()

	init, err := fetchInit(req, controller)
	if err != nil {
		return nil, err
	}
	promise, err := builtins.fetch.Invoke(req.URL, init)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	r, err := Await(ctx, promise)
	if body, _ := init.Get("body"); !body.IsUndefined() {
		body.Call("fill", 0) // sent (or failed): keep no copy of it in JS memory
	}
	if err != nil {
		return nil, fetchError(ctx, err)
	}
	resp = &FetchResponse{Header: make(map[string]string, len(req.ResponseHeaders))}
	if resp.Status, err = getInt(r, "status"); err != nil {
		return nil, err
	}
	headers, err := r.Get("headers")
	if err != nil {
		return nil, err
	}
	for _, name := range req.ResponseHeaders {
		v, err := headers.Call("get", name)
		if err != nil || v.IsNull() {
			continue
		}
		if s, err := v.String(); err == nil {
			resp.Header[name] = s
		}
	}
	if req.MaxBytes > 0 {
		if n, ok := contentLength(headers); ok && n > req.MaxBytes {
			controller.Call("abort")
			return nil, fmt.Errorf("%w: %d bytes announced, the limit is %d", ErrBodyTooLarge, n, req.MaxBytes)
		}
	}
	if resp.Body, resp.BodyJS, err = readBody(ctx, r, req.MaxBytes); err != nil {
		return nil, err
	}
	return resp, nil
}

func fetchInit(req FetchRequest, controller safejs.Value) (safejs.Value, error) {
	headers := make(map[string]any, len(req.Header))
	for k, v := range req.Header {
		headers[k] = v
	}
	signal, err := controller.Get("signal")
	if err != nil {
		return safejs.Value{}, err
	}
	init := map[string]any{"method": req.Method, "headers": headers, "signal": signal}
	if req.Credentials != "" {
		init["credentials"] = req.Credentials
	}
	if req.Body != nil {
		body, err := BytesToJS(req.Body)
		if err != nil {
			return safejs.Value{}, err
		}
		init["body"] = body
	}
	return newObject(init)
}

// newObject returns a JS object with fields set from m; values may be
// safejs.Values or anything safejs.ValueOf takes.
func newObject(m map[string]any) (safejs.Value, error) {
	o, err := builtins.object.New()
	if err != nil {
		return safejs.Value{}, err
	}
	for k, v := range m {
		if err := o.Set(k, v); err != nil {
			return safejs.Value{}, err
		}
	}
	return o, nil
}

// readBody reads the body into JS memory, checks its size, then copies it
// into Go once.
func readBody(ctx context.Context, r safejs.Value, maxBytes int64) ([]byte, safejs.Value, error) {
	p, err := r.Call("arrayBuffer")
	if err != nil {
		return nil, safejs.Value{}, err
	}
	buf, err := Await(ctx, p)
	if err != nil {
		return nil, safejs.Value{}, fetchError(ctx, err)
	}
	n, err := getInt(buf, "byteLength")
	if err != nil {
		return nil, safejs.Value{}, err
	}
	if maxBytes > 0 && int64(n) > maxBytes {
		return nil, safejs.Value{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrBodyTooLarge, n, maxBytes)
	}
	u8, err := builtins.uint8Array.New(buf)
	if err != nil {
		return nil, safejs.Value{}, err
	}
	body := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(body, u8); err != nil {
		return nil, safejs.Value{}, err
	}
	return body, u8, nil
}

// fetchError explains a rejected fetch: the context's cause if it ended,
// else ErrFetch with the browser's message.
func fetchError(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return fmt.Errorf("%w: %w", ErrFetch, err)
}

func contentLength(headers safejs.Value) (int64, bool) {
	v, err := headers.Call("get", "Content-Length")
	if err != nil || v.IsNull() {
		return 0, false
	}
	s, err := v.String()
	if err != nil {
		return 0, false
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		return 0, false
	}
	return n, true
}

func getInt(v safejs.Value, name string) (int, error) {
	p, err := v.Get(name)
	if err != nil {
		return 0, err
	}
	return p.Int()
}

// BytesToJS copies b into a new JS Uint8Array.
func BytesToJS(b []byte) (safejs.Value, error) {
	if err := Init(); err != nil {
		return safejs.Value{}, err
	}
	u8, err := builtins.uint8Array.New(len(b))
	if err != nil {
		return safejs.Value{}, err
	}
	_, err = safejs.CopyBytesToJS(u8, b)
	return u8, err
}
