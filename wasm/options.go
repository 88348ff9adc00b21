//go:build js && wasm

package main

import (
	"errors"
	"math"
	"time"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/hack-pad/safejs"
)

// DefaultMaxResponseBytes bounds a response body unless the app sets
// maxResponseBytes: a body announced larger is not read, one without a
// length is cut off at the limit.
const DefaultMaxResponseBytes = 32 << 20

// maxKeepAliveQuery bounds keepAlive.query, which a client keeps for its
// life: a shared session holds the query of every client a port opens.
const maxKeepAliveQuery = 64 << 10

// Limits on numeric options.
const (
	maxTimeoutMs     = math.MaxInt32   // a Go timer in wasm is a setTimeout, which fires at once past this
	maxLeewaySeconds = 366 * 24 * 3600 // a year
)

// newClient(options, onWarning?) → handle. options are createClient's:
// endpoint, expiryLeewaySeconds, timeoutMs, allowInsecureHTTP, headers,
// credentials, maxResponseBytes, keepAlive. onWarning(message) hears why a token a
// response offered was not installed (the message never holds a token).
func (b *bridge) newClient(args []safejs.Value) (any, error) {
	o := argAt(args, 0)
	if jsbridge.TypeOf(o) != safejs.TypeObject {
		return nil, invalid("createClient needs an options object")
	}
	endpoint, err := stringField(o, "endpoint", true)
	if err != nil {
		return nil, err
	}
	e := &entry{}
	opts := []client.Option{client.OnEvent(e.publish)}
	if warn := argAt(args, 1); jsbridge.TypeOf(warn) == safejs.TypeFunction {
		opts = append(opts, client.OnWarning(func(err error) { _, _ = warn.Invoke(err.Error()) }))
	}
	transport := &fetchTransport{maxBytes: DefaultMaxResponseBytes}
	if v, ok, err := numberField(o, "expiryLeewaySeconds"); err != nil {
		return nil, err
	} else if ok {
		if v > maxLeewaySeconds {
			return nil, invalid("expiryLeewaySeconds must be at most %d", maxLeewaySeconds)
		}
		opts = append(opts, client.WithLeeway(time.Duration(v*float64(time.Second))))
	}
	if v, ok, err := numberField(o, "timeoutMs"); err != nil {
		return nil, err
	} else if ok {
		if v > maxTimeoutMs {
			return nil, invalid("timeoutMs must be at most %d (setTimeout's limit)", maxTimeoutMs)
		}
		opts = append(opts, client.WithTimeout(time.Duration(v*float64(time.Millisecond))))
	}
	if v, ok, err := boolField(o, "allowInsecureHTTP"); err != nil {
		return nil, err
	} else if ok && v {
		opts = append(opts, client.AllowInsecureHTTP())
	}
	headers, err := headersField(o)
	if err != nil {
		return nil, err
	}
	if headers != nil {
		opts = append(opts, client.WithHeaders(headers))
	}
	if transport.credentials, err = stringField(o, "credentials", false); err != nil {
		return nil, err
	}
	switch transport.credentials {
	case "", "omit", "same-origin", "include":
	default:
		return nil, invalid("credentials must be omit, same-origin or include, got %q", transport.credentials)
	}
	if keepAlive, err := keepAliveField(o); err != nil {
		return nil, err
	} else if keepAlive != nil {
		opts = append(opts, keepAlive)
	}
	if codes, err := refusalCodesField(o); err != nil {
		return nil, err
	} else if codes != nil {
		opts = append(opts, client.WithRefusalCodes(codes))
	}
	if v, ok, err := numberField(o, "maxResponseBytes"); err != nil {
		return nil, err
	} else if ok {
		if v < 1 || v > math.MaxInt32 {
			return nil, invalid("maxResponseBytes must be between 1 and %d", math.MaxInt32)
		}
		transport.maxBytes = int(v)
	}
	if e.c, err = client.New(endpoint, transport, opts...); err != nil {
		return nil, err
	}
	return b.clients.Add(e), nil
}

// keepAliveField reads options.keepAlive, {query, beforeExpiryMs}, as a
// client option, or nil when it is absent.
func keepAliveField(o safejs.Value) (client.Option, error) {
	k, err := field(o, "keepAlive")
	if err != nil || k.IsUndefined() || k.IsNull() {
		return nil, err
	}
	if jsbridge.TypeOf(k) != safejs.TypeObject {
		return nil, invalid("keepAlive must be {query, beforeExpiryMs}")
	}
	q, err := field(k, "query")
	if err != nil {
		return nil, err
	}
	query, err := jsbridge.String(q, maxKeepAliveQuery)
	if errors.Is(err, jsbridge.ErrTooLarge) {
		return nil, invalid("keepAlive.query is longer than %d KiB: it is a short query that rotates the token", maxKeepAliveQuery>>10)
	}
	if err != nil {
		return nil, invalid("keepAlive.query must be a string")
	}
	before, ok, err := numberField(k, "beforeExpiryMs")
	if err != nil || !ok || before < 1 || before > maxTimeoutMs {
		return nil, invalid("keepAlive.beforeExpiryMs must be a number of milliseconds from 1 to %d", maxTimeoutMs)
	}
	return client.WithKeepAlive(graphql.Request{Query: query}, time.Duration(before*float64(time.Millisecond))), nil
}

// refusalCodesField reads options.refusalCodes, a list of strings, or nil
// when it is absent.
func refusalCodesField(o safejs.Value) ([]string, error) {
	list, err := field(o, "refusalCodes")
	if err != nil || list.IsUndefined() || list.IsNull() {
		return nil, err
	}
	names, err := jsbridge.Keys(list, 32)
	if jsbridge.TypeOf(list) != safejs.TypeObject || err != nil {
		return nil, invalid("refusalCodes must be a list of at most 32 strings")
	}
	codes := make([]string, 0, len(names))
	for _, name := range names {
		v, err := field(list, name)
		if err != nil {
			return nil, err
		}
		code, err := jsbridge.String(v, 256)
		if err != nil {
			return nil, invalid("refusalCodes must be a list of strings of at most 256 characters")
		}
		codes = append(codes, code)
	}
	return codes, nil
}
