//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"

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
	})
	if err != nil {
		return nil, transportError(err)
	}
	resp := &client.Response{Status: r.Status, Header: r.Header, Body: r.Body, Problem: transportError(r.Problem)}
	if !r.JSBody.IsUndefined() {
		resp.Native = r.JSBody
	}
	return resp, nil
}

// init is fetch's options for req, as JSON: a POST with req's headers and
// the client's credentials mode.
func (t *fetchTransport) init(req *client.Request) string {
	b := make([]byte, 0, 256)
	b = append(b, `{"method":"POST","headers":{`...)
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
