//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
)

// withFetch makes Fetch call the JavaScript function src (as fetch) for the
// rest of the test. The function may record what it saw in globalThis.seen.
func withFetch(t *testing.T, src string) {
	t.Helper()
	if err := Init(); err != nil {
		t.Fatal(err)
	}
	real := builtins.fetch
	builtins.fetch = eval(t, src)
	eval(t, "globalThis.seen = {}")
	t.Cleanup(func() { builtins.fetch = real })
}

func seen(t *testing.T, expr string) safejs.Value {
	t.Helper()
	return eval(t, "globalThis.seen."+expr)
}

func request(max int) *FetchRequest {
	return &FetchRequest{
		URL:             "https://api.example.com/graphql",
		Init:            `{"method":"POST","headers":{"Content-Type":"application/json","Authorization":"Bearer t"}}`,
		Body:            []byte(`{"query":"{ me { id } }"}`),
		MaxBytes:        max,
		ResponseHeaders: []string{"X-Authorization", "Authorization"},
	}
}

func fetchWithin(t *testing.T, d time.Duration, req *FetchRequest) (*FetchResponse, error) {
	t.Helper()
	ctx, cancel := context.WithTimeoutCause(context.Background(), d, errors.New("test timeout"))
	defer cancel()
	return Fetch(ctx, req)
}

func TestFetchSendsAndReads(t *testing.T) {
	withFetch(t, `(url, init) => {
		globalThis.seen = {url, method: init.method, redirect: init.redirect, auth: init.headers.Authorization,
			credentials: init.credentials, body: init.body, sent: new TextDecoder().decode(init.body), hasSignal: init.signal instanceof AbortSignal};
		return Promise.resolve(new Response('{"data":{"me":{"id":"1"}}}', {status: 201,
			headers: {'X-Authorization': 'Bearer a, Bearer a', 'Content-Length': '26'}}));
	}`)
	req := request(1 << 20)
	req.Init = `{"method":"POST","headers":{"Authorization":"Bearer t"},"credentials":"include","redirect":"follow"}`
	req.SecretBody = true
	resp, err := fetchWithin(t, time.Second, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 201 || string(resp.Body) != `{"data":{"me":{"id":"1"}}}` || resp.Problem != nil {
		t.Fatalf("response %d %q %v", resp.Status, resp.Body, resp.Problem)
	}
	if got := resp.Header["X-Authorization"]; got != "Bearer a, Bearer a" {
		t.Errorf("X-Authorization = %q", got)
	}
	if _, ok := resp.Header["Authorization"]; ok {
		t.Error("a header the response does not have came back")
	}
	for expr, want := range map[string]string{
		"url": req.URL, "method": "POST", "redirect": "error", "auth": "Bearer t", "credentials": "include",
		"sent": `{"query":"{ me { id } }"}`,
	} {
		if s, _ := seen(t, expr).String(); s != want {
			t.Errorf("fetch saw %s = %q, want %q", expr, s, want)
		}
	}
	if ok, _ := seen(t, "hasSignal").Bool(); !ok {
		t.Error("fetch got no AbortSignal")
	}
	if zeroed, _ := eval(t, "globalThis.seen.body.every((b) => b === 0)").Bool(); !zeroed {
		t.Error("the JS copy of a secret request body was not zeroed after fetch took it")
	}
	if n, _ := resp.JSBody.Get("byteLength"); mustInt(n) != 26 {
		t.Errorf("JSBody is not the 26-byte ArrayBuffer the body came in")
	}
}

func mustInt(v safejs.Value) int {
	n, _ := v.Int()
	return n
}

func TestFetchRefusesOptionsThatAreNotAnObject(t *testing.T) {
	withFetch(t, `() => { globalThis.seen.called = true; return Promise.resolve(new Response('{}')) }`)
	req := request(100)
	req.Init = `"method: POST"`
	if _, err := fetchWithin(t, time.Second, req); !errors.Is(err, ErrFetchFailed) {
		t.Fatalf("Fetch with options %s: %v", req.Init, err)
	}
	if called, _ := seen(t, "called").Bool(); called {
		t.Error("fetch was called")
	}
}

func TestFetchReadsAStreamedBody(t *testing.T) {
	withFetch(t, `() => Promise.resolve(new Response(new ReadableStream({
		start(c) { for (const part of ['{"data":', '{"a":', '1}}']) c.enqueue(new TextEncoder().encode(part)); c.close(); },
	})))`)
	resp, err := fetchWithin(t, time.Second, request(1<<20))
	if err != nil || resp.Problem != nil || string(resp.Body) != `{"data":{"a":1}}` {
		t.Fatalf("streamed body %q, %v, %v", resp.Body, err, resp.Problem)
	}
}

func TestFetchFailures(t *testing.T) {
	tests := []struct {
		name  string
		fetch string
		want  error
	}{
		{"rejects", `() => Promise.reject(new TypeError('Failed to fetch'))`, ErrFetchFailed},
		{"throws", `() => { throw new Error('boom') }`, ErrFetchFailed},
		{"rejects with a hostile value", `() => Promise.reject({toString() { throw 1 }})`, ErrFetchFailed},
		{"returns a number", `() => 42`, ErrFetchFailed},
		{"resolves to {}", `() => Promise.resolve({})`, ErrFetchFailed},
		{"resolves to {status} only", `() => Promise.resolve({status: 200})`, ErrFetchFailed},
		{"a status getter that throws", `() => Promise.resolve({get status() { throw new Error('x') }})`, ErrFetchFailed},
		{"a throwing Proxy", `() => Promise.resolve(new Proxy({}, {get() { throw new Error('x') }}))`, ErrFetchFailed},
		{"a thenable whose then throws", `() => ({get then() { throw new Error('x') }})`, ErrFetchFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withFetch(t, tt.fetch)
			before := Stats().Waits
			_, err := fetchWithin(t, time.Second, request(1<<20))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Fetch error = %v, want %v", err, tt.want)
			}
			if Stats().Waits != before {
				t.Error("a wait was left behind")
			}
		})
	}
}

func TestFetchBodyProblems(t *testing.T) {
	tests := []struct {
		name  string
		fetch string
		max   int
		want  error
		read  bool // whether the body may have been read
	}{
		{"announced larger than the limit", `() => Promise.resolve({status: 200,
			headers: new Headers({'Content-Length': '5000'}),
			arrayBuffer() { globalThis.seen.read = true; return Promise.resolve(new ArrayBuffer(5000)) }})`, 100, ErrTooLarge, false},
		{"streams past the limit", `() => Promise.resolve(new Response(new ReadableStream({
			pull(c) { c.enqueue(new Uint8Array(64)) },
			cancel() { globalThis.seen.cancelled = true },
		})))`, 1000, ErrTooLarge, true},
		{"encoded, so streamed and counted", `() => Promise.resolve({status: 200,
			headers: new Headers({'Content-Length': '10', 'Content-Encoding': 'gzip'}),
			body: new ReadableStream({start(c) { c.enqueue(new Uint8Array(500)); c.close() }})})`, 100, ErrTooLarge, true},
		{"the stream errors midway", `() => Promise.resolve(new Response(new ReadableStream({
			start(c) { c.enqueue(new Uint8Array(10)); c.error(new TypeError('network error')) },
		})))`, 1000, ErrFetchFailed, true},
		{"arrayBuffer rejects", `() => Promise.resolve({status: 200, headers: new Headers({'Content-Length': '2'}),
			arrayBuffer: () => Promise.reject(new TypeError('aborted'))})`, 1000, ErrFetchFailed, true},
		{"headers.get throws, and no body to read", `() => Promise.resolve({status: 200, headers: {get() { throw new Error('x') }}})`,
			1000, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withFetch(t, tt.fetch)
			resp, err := fetchWithin(t, time.Second, request(tt.max))
			if err != nil {
				t.Fatalf("Fetch error = %v, want an answer with a problem", err)
			}
			if resp.Status != 200 || !errors.Is(resp.Problem, tt.want) || tt.want != nil && resp.Body != nil {
				t.Fatalf("response %d, body %d bytes, problem %v; want %v", resp.Status, len(resp.Body), resp.Problem, tt.want)
			}
			if read, _ := seen(t, "read").Bool(); read && !tt.read {
				t.Error("a body announced too large was read")
			}
		})
	}
}

func TestFetchGivesUpWhenTheContextEnds(t *testing.T) {
	for name, fetch := range map[string]string{
		"fetch never settles": `(url, init) => { globalThis.seen.signal = init.signal; return new Promise(() => {}) }`,
		"the body never comes": `(url, init) => { globalThis.seen.signal = init.signal;
			return Promise.resolve({status: 200, headers: new Headers({'Content-Length': '5'}), arrayBuffer: () => new Promise(() => {})}) }`,
	} {
		t.Run(name, func(t *testing.T) {
			withFetch(t, fetch)
			before := Stats().Waits
			resp, err := fetchWithin(t, 50*time.Millisecond, request(100))
			if resp != nil {
				err = resp.Problem
			}
			if err == nil || !strings.Contains(err.Error(), "test timeout") {
				t.Fatalf("Fetch = %v, want the context's cause", err)
			}
			if aborted, _ := seen(t, "signal.aborted").Bool(); !aborted {
				t.Error("the fetch was not aborted")
			}
			if Stats().Waits != before {
				t.Error("a wait was left behind")
			}
		})
	}
}

// readAll reads a BodyReader to its end, or to its error.
func readAll(t *testing.T, b *BodyReader) (string, []safejs.Value, error) {
	t.Helper()
	ctx, cancel := context.WithTimeoutCause(context.Background(), time.Second, errors.New("test timeout"))
	defer cancel()
	var text strings.Builder
	var natives []safejs.Value
	for {
		piece, native, err := b.Next(ctx)
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return text.String(), natives, err
		}
		text.Write(piece)
		natives = append(natives, native)
	}
}

func TestFetchStreamsTheBodyPieceByPiece(t *testing.T) {
	withFetch(t, `(url, init) => {
		globalThis.seen = {method: init.method, body: init.body};
		return Promise.resolve(new Response(new ReadableStream({
			start(c) { for (const part of ['{"data":', '{"a":', '1}}']) c.enqueue(new TextEncoder().encode(part)); c.close(); },
		}), {status: 203, statusText: 'Partly', headers: [['Content-Type', 'application/json'], ['X-Authorization', 'Bearer t'], ['X-Many', 'a'], ['x-many', 'b']]}));
	}`)
	req := request(1 << 20)
	req.Init, req.Body, req.Stream, req.AllHeaders = `{"method":"GET"}`, nil, true, true
	resp, err := fetchWithin(t, time.Second, req)
	if err != nil || resp.Stream == nil || resp.Body != nil {
		t.Fatalf("Fetch = %+v, %v; want a stream", resp, err)
	}
	if resp.Status != 203 || resp.StatusText != "Partly" || resp.Header["X-Authorization"] != "Bearer t" {
		t.Errorf("head %d %q %v", resp.Status, resp.StatusText, resp.Header)
	}
	want := [][2]string{{"content-type", "application/json"}, {"x-authorization", "Bearer t"}, {"x-many", "a, b"}}
	if fmt.Sprint(resp.All) != fmt.Sprint(want) {
		t.Errorf("All = %q, want %q", resp.All, want)
	}
	if method, _ := seen(t, "method").String(); method != "GET" || !seen(t, "body").IsUndefined() {
		t.Errorf("fetch saw method %q and a body", method)
	}
	text, natives, err := readAll(t, resp.Stream)
	if err != nil || text != `{"data":{"a":1}}` || len(natives) != 3 {
		t.Fatalf("read %q in %d pieces, %v", text, len(natives), err)
	}
	if n, _ := natives[1].Get("byteLength"); mustInt(n) != 5 {
		t.Error("a native piece is not the Uint8Array fetch gave")
	}
}

func TestFetchStreamFailures(t *testing.T) {
	tests := []struct {
		name  string
		fetch string
		want  error
	}{
		{"announced larger than the limit", `() => Promise.resolve(new Response(new ReadableStream({
			pull(c) { globalThis.seen.read = true; c.enqueue(new Uint8Array(10)) },
			cancel() { globalThis.seen.cancelled = true },
		}, {highWaterMark: 0}), {headers: {'Content-Length': '5000'}}))`, ErrTooLarge},
		{"streams past the limit", `() => Promise.resolve(new Response(new ReadableStream({
			pull(c) { c.enqueue(new Uint8Array(64)) },
			cancel() { globalThis.seen.cancelled = true },
		})))`, ErrTooLarge},
		{"the stream errors midway", `() => Promise.resolve(new Response(new ReadableStream({
			start(c) { c.enqueue(new Uint8Array(10)); c.error(new TypeError('network error')) },
		})))`, ErrFetchFailed},
		{"a piece is not bytes", `() => Promise.resolve({status: 200, headers: new Headers(),
			body: {getReader: () => ({read: () => Promise.resolve({done: false, value: 'text'}), cancel() { globalThis.seen.cancelled = true }})}})`, ErrFetchFailed},
		{"the body never comes", `(url, init) => { globalThis.seen.signal = init.signal;
			return Promise.resolve(new Response(new ReadableStream({cancel() { globalThis.seen.cancelled = true }}))) }`, errors.New("test timeout")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withFetch(t, tt.fetch)
			req := request(1000)
			req.Stream = true
			resp, err := Fetch(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeoutCause(context.Background(), 50*time.Millisecond, tt.want)
			defer cancel()
			var got error
			for got == nil {
				_, _, got = resp.Stream.Next(ctx)
			}
			if got == io.EOF || !errors.Is(got, tt.want) && got.Error() != tt.want.Error() {
				t.Fatalf("Next() = %v, want %v", got, tt.want)
			}
			if _, _, again := resp.Stream.Next(ctx); again != got {
				t.Errorf("Next() after the failure = %v, want the same failure", again)
			}
			if read, _ := seen(t, "read").Bool(); read {
				t.Error("a body announced too large was read")
			}
			if strings.Contains(tt.name, "limit") || strings.Contains(tt.name, "never") {
				if cancelled, _ := seen(t, "cancelled").Bool(); !cancelled {
					t.Error("the download was not stopped")
				}
			}
		})
	}
}

func TestBodyReaderCloseStopsAnUnfinishedDownload(t *testing.T) {
	withFetch(t, `(url, init) => { globalThis.seen.signal = init.signal; return Promise.resolve(new Response(new ReadableStream({
		pull(c) { c.enqueue(new Uint8Array(8)) }, cancel() { globalThis.seen.cancelled = true },
	}))) }`)
	req := request(1 << 20)
	req.Stream = true
	resp, err := fetchWithin(t, time.Second, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := resp.Stream.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp.Stream.Close()
	cancelled, _ := seen(t, "cancelled").Bool()
	aborted, _ := seen(t, "signal.aborted").Bool()
	if !cancelled || !aborted {
		t.Errorf("after Close: stream cancelled %t, fetch aborted %t", cancelled, aborted)
	}
	if _, _, err := resp.Stream.Next(context.Background()); !errors.Is(err, ErrFetchFailed) {
		t.Errorf("Next() after Close = %v", err)
	}
}
