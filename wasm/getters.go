//go:build js && wasm

package main

import (
	"errors"

	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/hack-pad/safejs"
)

// The getters answer for a closed client as for a logged-out one.

// tokenExpiresAt(handle) → the held token's exp in milliseconds since the
// epoch, exactly as the server set it, or null.
func (b *bridge) tokenExpiresAt(args []safejs.Value) (any, error) {
	e, err := b.entryAt(args)
	if errors.Is(err, client.ErrClosed) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if t := e.c.ExpiresAt(); !t.IsZero() {
		return float64(t.UnixMilli()), nil
	}
	return nil, nil
}

// tokenExpiresIn(handle) → milliseconds until exp on the server's clock, 0
// without a valid token.
func (b *bridge) tokenExpiresIn(args []safejs.Value) (any, error) {
	e, err := b.entryAt(args)
	if errors.Is(err, client.ErrClosed) {
		return 0, nil
	}
	if err != nil {
		return nil, err
	}
	return float64(e.c.ExpiresIn().Milliseconds()), nil
}

// tokenUsableFor(handle) → milliseconds the token may still be sent
// (until exp minus the leeway, on the server's clock), 0 without a usable
// token: with tokenExpiresAt and tokenExpiresIn, what a page mirrors.
func (b *bridge) tokenUsableFor(args []safejs.Value) (any, error) {
	e, err := b.entryAt(args)
	if errors.Is(err, client.ErrClosed) {
		return 0, nil
	}
	if err != nil {
		return nil, err
	}
	return float64(e.c.State().UsableFor.Milliseconds()), nil
}

// isAuthenticated(handle) → whether a request now would carry a token.
func (b *bridge) isAuthenticated(args []safejs.Value) (any, error) {
	e, err := b.entryAt(args)
	if errors.Is(err, client.ErrClosed) {
		return false, nil
	}
	if err != nil {
		return nil, err
	}
	return e.c.Authenticated(), nil
}
