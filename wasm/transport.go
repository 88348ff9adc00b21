//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/gqlauth/gqlauth/wasm/client"
)

// DefaultMaxResponseBytes bounds a response body unless the app sets
// maxResponseBytes: larger ones are refused with BAD_RESPONSE before they are
// copied into Go memory.
const DefaultMaxResponseBytes = 32 << 20

// fetchTransport is client.Transport over the browser's fetch.
type fetchTransport struct {
	credentials string
	maxBytes    int64
}

func (t *fetchTransport) RoundTrip(ctx context.Context, req *client.Request) (*client.Response, error) {
	resp, err := jsbridge.Fetch(ctx, jsbridge.FetchRequest{
		URL:             req.URL,
		Method:          "POST",
		Header:          req.Header,
		Body:            req.Body,
		Credentials:     t.credentials,
		ResponseHeaders: req.ResponseHeaders,
		MaxBytes:        t.maxBytes,
	})
	switch {
	case errors.Is(err, jsbridge.ErrBodyTooLarge):
		return nil, errorf(client.ErrResponseTooLarge, "%v", err)
	case errors.Is(err, jsbridge.ErrFetch):
		return nil, errorf(client.ErrNetwork, "%v (the server is down, unreachable, or its CORS headers do not allow this origin)", err)
	case err != nil:
		return nil, err
	}
	return &client.Response{Status: resp.Status, Header: resp.Header, Body: resp.Body, Native: resp.BodyJS}, nil
}

// errorf wraps sentinel with a message.
func errorf(sentinel error, format string, a ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, a...))
}
