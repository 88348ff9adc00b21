//go:build js && wasm

package main

import (
	"errors"
	"math"
	"strings"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/gqlauth/gqlauth/wasm/internal/jsonscan"
	"github.com/hack-pad/safejs"
)

// Reading the arguments JavaScript passes: every read goes through jsbridge,
// so a throwing getter, a Proxy or a BigInt is an INVALID_ARGUMENT, never a
// crash.

// maxArgBytes bounds every string and Uint8Array read from JavaScript. A
// longer one is refused before Go allocates for it: running out of memory
// would end the module, for every tab that shares it.
const maxArgBytes = 32 << 20

// text reads the string v, named name in the error.
func text(v safejs.Value, name string) (string, error) {
	s, err := jsbridge.String(v, maxArgBytes)
	return s, argError(err, name, "a string")
}

// argError describes an error from jsbridge.String, Bytes or CopyBytes.
func argError(err error, name, want string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jsbridge.ErrTooLarge):
		return invalid("%s is longer than %d MiB", name, maxArgBytes>>20)
	default:
		return invalid("%s must be %s", name, want)
	}
}

func argAt(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}

func invalid(format string, a ...any) error {
	return errorf(client.ErrInvalidArgument, format, a...)
}

func stringArg(args []safejs.Value, i int, name string) (string, error) {
	return text(argAt(args, i), name)
}

func optionalStringArg(args []safejs.Value, i int, name string) (string, error) {
	if v := argAt(args, i); v.IsUndefined() || v.IsNull() {
		return "", nil
	}
	return stringArg(args, i, name)
}

// field reads o[name]; a getter that throws is an invalid argument.
func field(o safejs.Value, name string) (safejs.Value, error) {
	v, err := jsbridge.Get(o, name)
	if err != nil {
		return safejs.Value{}, invalid("%v", err)
	}
	return v, nil
}

func stringField(o safejs.Value, name string, required bool) (string, error) {
	v, err := field(o, name)
	if err != nil {
		return "", err
	}
	if (v.IsUndefined() || v.IsNull()) && !required {
		return "", nil
	}
	return text(v, name)
}

// optionalStringField reads o[name], a string, or "" when o or the field is
// absent.
func optionalStringField(o safejs.Value, name string) (string, error) {
	if o.IsUndefined() || o.IsNull() {
		return "", nil
	}
	if jsbridge.TypeOf(o) != safejs.TypeObject {
		return "", invalid("options must be an object")
	}
	return stringField(o, name, false)
}

func numberField(o safejs.Value, name string) (float64, bool, error) {
	v, err := field(o, name)
	if err != nil || v.IsUndefined() || v.IsNull() {
		return 0, false, err
	}
	if jsbridge.TypeOf(v) != safejs.TypeNumber {
		return 0, false, invalid("%s must be a number", name)
	}
	f, err := v.Float()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e12 {
		return 0, false, invalid("%s must be a finite, non-negative number", name)
	}
	return f, true, nil
}

func boolField(o safejs.Value, name string) (bool, bool, error) {
	v, err := field(o, name)
	if err != nil || v.IsUndefined() || v.IsNull() {
		return false, false, err
	}
	if jsbridge.TypeOf(v) != safejs.TypeBoolean {
		return false, false, invalid("%s must be a boolean", name)
	}
	b, err := v.Bool()
	return b, true, err
}

// headersField reads options.headers, a plain object of string values.
func headersField(o safejs.Value) (map[string]string, error) {
	h, err := field(o, "headers")
	if err != nil || h.IsUndefined() || h.IsNull() {
		return nil, err
	}
	if jsbridge.TypeOf(h) != safejs.TypeObject {
		return nil, invalid("headers must be an object of strings")
	}
	names, err := jsbridge.Keys(h, 100)
	if err != nil {
		return nil, invalid("headers must be a plain object of at most 100 strings: %v", err)
	}
	out := make(map[string]string, len(names))
	for _, name := range names {
		if out[name], err = stringField(h, name, true); err != nil {
			return nil, invalid("header %q must be a string", name)
		}
	}
	return out, nil
}

// credentialsArg reads login's {username?, email?, password}. The password
// is read as bytes (jsbridge.Bytes), never as a Go string, so that it can be
// zeroed; the caller clears it.
func credentialsArg(o safejs.Value) (client.Credentials, error) {
	var cr client.Credentials
	if jsbridge.TypeOf(o) != safejs.TypeObject {
		return cr, invalid("login needs {username or email, password}")
	}
	var err error
	if cr.Username, err = stringField(o, "username", false); err != nil {
		return cr, err
	}
	if cr.Email, err = stringField(o, "email", false); err != nil {
		return cr, err
	}
	password, err := field(o, "password")
	if err != nil {
		return cr, err
	}
	cr.Password, err = jsbridge.Bytes(password, maxArgBytes)
	return cr, argError(err, "password", "a string")
}

// passRequestArg reads the request of a pass call: {method, query?,
// headers?, body?}, where headers is the JSON text of an object of strings
// and body a string or a Uint8Array.
func passRequestArg(o safejs.Value) (client.PassRequest, error) {
	var r client.PassRequest
	if jsbridge.TypeOf(o) != safejs.TypeObject {
		return r, invalid("the request must be an object")
	}
	var err error
	if r.Method, err = stringField(o, "method", true); err != nil {
		return r, err
	}
	if r.Query, err = stringField(o, "query", false); err != nil {
		return r, err
	}
	headers, err := stringField(o, "headers", false)
	if err != nil {
		return r, err
	}
	if headers != "" {
		// One level: an object of strings.
		if jsonscan.CheckObject([]byte(headers), 1) != nil {
			return r, invalid("headers must be the JSON text of an object of strings")
		}
		r.Header = map[string]string{}
		for name, value := range jsonscan.Value(strings.Trim(headers, " \t\r\n")).Members() {
			s, ok := value.Text()
			if !ok {
				return r, invalid("header %q must be a string", name)
			}
			r.Header[name] = s
		}
	}
	body, err := field(o, "body")
	if err != nil {
		return r, err
	}
	switch jsbridge.TypeOf(body) {
	case safejs.TypeUndefined, safejs.TypeNull:
	case safejs.TypeString:
		r.Body, err = jsbridge.Bytes(body, maxArgBytes)
	default:
		r.Body, err = jsbridge.CopyBytes(body, maxArgBytes)
	}
	return r, argError(err, "the body", "a string or a Uint8Array")
}
