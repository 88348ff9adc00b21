package seam

import (
	"bytes"
	"math"
	"strconv"
	"time"

	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/internal/jsonscan"
)

// Reading the records the worker writes: each is checked whole first (one
// JSON object, nested at most recordDepth levels), then read by name.

// recordDepth bounds how deeply a record nests: fetchWithAuth's variables
// are the deepest part, and nest as deeply as a request may.
const recordDepth = graphql.MaxDepth + 1

// object checks that rec is one JSON object and returns it.
func object(rec []byte, what string) (jsonscan.Value, error) {
	if err := jsonscan.CheckObject(rec, recordDepth); err != nil {
		return nil, invalid(what + " must be an object")
	}
	return jsonscan.Value(bytes.Trim(rec, " \t\r\n")), nil
}

// text reads o[name], a string; "" when it is absent or null, unless
// required.
func text(o jsonscan.Value, name string, required bool) (string, error) {
	v := o.Get(name)
	if k := v.Kind(); (k == 0 || k == jsonscan.KindNull) && !required {
		return "", nil
	}
	s, ok := v.Text()
	if !ok {
		return "", invalid(name + " must be a string")
	}
	return s, nil
}

// number reads o[name], a finite number from 0 to 1e12, and whether it is
// there.
func number(o jsonscan.Value, name string) (float64, bool, error) {
	v := o.Get(name)
	if k := v.Kind(); k == 0 || k == jsonscan.KindNull {
		return 0, false, nil
	}
	f, ok := v.Float()
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e12 {
		return 0, false, invalid(name + " must be a finite, non-negative number")
	}
	return f, true, nil
}

// headers reads a record's headers, an object of strings, or nil.
func headers(v jsonscan.Value, what string) (map[string]string, error) {
	switch v.Kind() {
	case 0, jsonscan.KindNull:
		return nil, nil
	case jsonscan.KindObject:
	default:
		return nil, invalid(what + " must be an object of strings")
	}
	h := map[string]string{}
	for name, value := range v.Members() {
		s, ok := value.Text()
		if !ok {
			return nil, invalid("header " + strconv.Quote(name) + " must be a string")
		}
		if len(h) == 100 {
			return nil, invalid(what + " must be an object of at most 100 strings")
		}
		h[name] = s
	}
	return h, nil
}

// The options of createClient, each read into a client.Option, or nil when
// absent.

func durationOption(name string, unit time.Duration, option func(time.Duration) client.Option) func(jsonscan.Value) (client.Option, error) {
	return func(o jsonscan.Value) (client.Option, error) {
		f, ok, err := number(o, name)
		if !ok || err != nil {
			return nil, err
		}
		return option(time.Duration(f * float64(unit))), nil
	}
}

func allowInsecure(o jsonscan.Value) (client.Option, error) {
	v := o.Get("allowInsecureHTTP")
	if k := v.Kind(); k == 0 || k == jsonscan.KindNull {
		return nil, nil
	}
	allow, ok := v.Bool()
	if !ok {
		return nil, invalid("allowInsecureHTTP must be a boolean")
	}
	if !allow {
		return nil, nil
	}
	return client.AllowInsecureHTTP(), nil
}

func headersOption(o jsonscan.Value) (client.Option, error) {
	h, err := headers(o.Get("headers"), "headers")
	if h == nil || err != nil {
		return nil, err
	}
	return client.WithHeaders(h), nil
}

func credentialsOption(o jsonscan.Value) (client.Option, error) {
	mode, err := text(o, "credentials", false)
	if mode == "" || err != nil {
		return nil, err
	}
	return client.WithCredentials(mode), nil
}

func maxBytesOption(o jsonscan.Value) (client.Option, error) {
	f, ok, err := number(o, "maxResponseBytes")
	if !ok || err != nil {
		return nil, err
	}
	if f != math.Trunc(f) || f < 1 || f > math.MaxInt32 {
		return nil, invalid("maxResponseBytes must be a whole number between 1 and 2147483647")
	}
	return client.WithMaxResponseBytes(int(f)), nil
}

func refusalCodesOption(o jsonscan.Value) (client.Option, error) {
	v := o.Get("refusalCodes")
	switch v.Kind() {
	case 0, jsonscan.KindNull:
		return nil, nil
	case jsonscan.KindArray:
	default:
		return nil, invalid("refusalCodes must be a list of strings")
	}
	codes := []string{}
	for e := range v.Elements() {
		code, ok := e.Text()
		if !ok {
			return nil, invalid("refusalCodes must be a list of strings")
		}
		if len(codes) == client.MaxRefusalCodes {
			return nil, invalid("refusalCodes must be a list of at most " + strconv.Itoa(client.MaxRefusalCodes) + " strings")
		}
		codes = append(codes, code)
	}
	return client.WithRefusalCodes(codes), nil
}

func keepAliveOption(o jsonscan.Value) (client.Option, error) {
	k := o.Get("keepAlive")
	switch k.Kind() {
	case 0, jsonscan.KindNull:
		return nil, nil
	case jsonscan.KindObject:
	default:
		return nil, invalid("keepAlive must be {query, beforeExpiryMs}")
	}
	query, err := text(k, "query", true)
	if err != nil {
		return nil, invalid("keepAlive.query must be a string")
	}
	before, ok, err := number(k, "beforeExpiryMs")
	if err != nil || !ok {
		return nil, invalid("keepAlive.beforeExpiryMs must be a number of milliseconds")
	}
	return client.WithKeepAlive(graphql.Request{Query: query}, time.Duration(before*float64(time.Millisecond))), nil
}

// decodeHead reads the head record of an answer.
func decodeHead(rec []byte) (client.Head, error) {
	o, err := object(rec, "the head")
	if err != nil {
		return client.Head{}, err
	}
	status, _, err := number(o, "status")
	if err != nil || status != math.Trunc(status) || status > 999 {
		return client.Head{}, invalid("status must be an HTTP status")
	}
	h := client.Head{Status: int(status)}
	if h.StatusText, err = text(o, "statusText", false); err != nil {
		return client.Head{}, err
	}
	if h.Header, err = headers(o.Get("headers"), "the answer's headers"); err != nil {
		return client.Head{}, err
	}
	if h.Header == nil {
		h.Header = map[string]string{}
	}
	for pair := range o.Get("all").Elements() {
		var kv [2]string
		i := 0
		for e := range pair.Elements() {
			if i < 2 {
				kv[i], _ = e.Text()
			}
			i++
		}
		h.All = append(h.All, kv)
	}
	return h, nil
}

// encodeRequest appends the request record of req to b: {url, method,
// headers, timeoutMs, maxBytes, credentials?, secret?, all?}.
func encodeRequest(b []byte, req *client.Request) []byte {
	b = append(b, `{"url":`...)
	b = graphql.AppendString(b, req.URL)
	b = append(b, `,"method":`...)
	b = graphql.AppendString(b, req.Method)
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
	b = append(b, `},"timeoutMs":`...)
	b = strconv.AppendInt(b, req.Timeout.Milliseconds(), 10)
	b = append(b, `,"maxBytes":`...)
	b = strconv.AppendInt(b, int64(req.MaxBytes), 10)
	if req.Credentials != "" {
		b = append(b, `,"credentials":`...)
		b = graphql.AppendString(b, req.Credentials)
	}
	if req.Secret {
		b = append(b, `,"secret":true`...)
	}
	if req.AllHeaders {
		b = append(b, `,"all":true`...)
	}
	return append(b, '}')
}
