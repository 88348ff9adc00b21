//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/gqlauth/gqlauth/wasm/client"
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
		Method:          "POST",
		Header:          req.Header,
		Body:            req.Body,
		Credentials:     t.credentials,
		MaxBytes:        t.maxBytes,
		ResponseHeaders: req.ResponseHeaders,
	})
	if err != nil {
		return nil, transportError(err)
	}
	return &client.Response{Status: r.Status, Header: r.Header, Body: r.Body, Problem: transportError(r.Problem)}, nil
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
