//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/gqlauth/gqlauth/wasm/graphql"
)

// fetchTransport is the client's Transport in the browser: fetch, through
// jsbridge, with the client's credentials mode and size limit.
type fetchTransport struct {
	credentials string
	maxBytes    int
}

func (t *fetchTransport) RoundTrip(ctx context.Context, req *client.Request) (*client.Response, error) {
	r, err := jsbridge.Fetch(ctx, &jsbridge.FetchRequest{
		URL:             req.URL,
		Init:            t.init(req),
		Body:            req.Body,
		SecretBody:      req.Secret,
		MaxBytes:        t.maxBytes,
		ResponseHeaders: req.ResponseHeaders,
		AllHeaders:      req.AllHeaders,
		Stream:          req.Stream,
	})
	if err != nil {
		return nil, transportError(err)
	}
	resp := &client.Response{Status: r.Status, StatusText: r.StatusText, Header: r.Header, All: r.All,
		Body: r.Body, Problem: transportError(r.Problem)}
	if !r.JSBody.IsUndefined() {
		resp.Native = r.JSBody
	}
	if r.Stream != nil {
		resp.Stream = fetchStream{r.Stream}
	}
	return resp, nil
}

// fetchStream is a body fetch delivers piece by piece; each piece's Native
// is its Uint8Array.
type fetchStream struct{ r *jsbridge.BodyReader }

func (s fetchStream) Next(ctx context.Context) (client.Chunk, error) {
	b, native, err := s.r.Next(ctx)
	if err == io.EOF {
		return client.Chunk{}, io.EOF
	}
	if err != nil {
		return client.Chunk{}, transportError(err)
	}
	return client.Chunk{Bytes: b, Native: native}, nil
}

func (s fetchStream) Close() { s.r.Close() }

// init is fetch's options for req, as JSON: its method and headers, and the
// client's credentials mode.
func (t *fetchTransport) init(req *client.Request) string {
	method := req.Method
	if method == "" {
		method = "POST"
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"method":`...)
	b = graphql.AppendString(b, method)
	b = append(b, `,"headers":{`...)
	first := true
	for name, value := range req.Header {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = graphql.AppendString(b, name)
		b = append(b, ':')
		b = graphql.AppendString(b, value)
	}
	b = append(b, '}')
	if t.credentials != "" {
		b = append(b, `,"credentials":`...)
		b = graphql.AppendString(b, t.credentials)
	}
	return string(append(b, '}'))
}

// transportError gives jsbridge's errors the client's meaning; the
// context's causes pass as they are.
func transportError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jsbridge.ErrTooLarge):
		return fmt.Errorf("%w: %w", client.ErrResponseTooLarge, err)
	case errors.Is(err, jsbridge.ErrFetchFailed):
		return fmt.Errorf("%w: %w (the server is down or unreachable, it answered with a redirect, which gqlauth never follows, "+
			"or its CORS headers do not allow this origin)", client.ErrNetwork, err)
	}
	return err
}
