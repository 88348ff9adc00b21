//go:build js && wasm

package main

import (
	"errors"

	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/hack-pad/safejs"
)

// tokenExpiresAt(handle) → the held token's exp in milliseconds since the
// epoch, exactly as the server set it, or null.
func (b *bridge) tokenExpiresAt(args []safejs.Value) (any, error) {
	return b.read(args, nil, func(c *client.Client) any {
		if t := c.ExpiresAt(); !t.IsZero() {
			return float64(t.UnixMilli())
		}
		return nil
	})
}

// tokenExpiresIn(handle) → milliseconds until exp on the server's clock, 0
// without a valid token.
func (b *bridge) tokenExpiresIn(args []safejs.Value) (any, error) {
	return b.read(args, 0, func(c *client.Client) any { return float64(c.ExpiresIn().Milliseconds()) })
}

// tokenUsableFor(handle) → milliseconds the token may still be sent
// (until exp minus the leeway, on the server's clock), 0 without a usable
// token: with tokenExpiresAt and tokenExpiresIn, what a page mirrors.
func (b *bridge) tokenUsableFor(args []safejs.Value) (any, error) {
	return b.read(args, 0, func(c *client.Client) any { return float64(c.State().UsableFor.Milliseconds()) })
}

// isAuthenticated(handle) → whether a request now would carry a token.
func (b *bridge) isAuthenticated(args []safejs.Value) (any, error) {
	return b.read(args, false, func(c *client.Client) any { return c.Authenticated() })
}

// read answers a getter for the client at args[0]: what get says of it,
// or loggedOut for a closed client, which answers as a logged-out one.
func (b *bridge) read(args []safejs.Value, loggedOut any, get func(*client.Client) any) (any, error) {
	e, err := b.entryAt(args)
	if errors.Is(err, client.ErrClosed) {
		return loggedOut, nil
	}
	if err != nil {
		return nil, err
	}
	return get(e.c), nil
}
