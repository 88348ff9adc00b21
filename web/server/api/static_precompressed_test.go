package api_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gqlauth/gqlauth/web/server/api"
)

// Bodies of the fixture files: the content stands in for each encoding, so
// a test sees which file was sent.
const (
	identityBody = "\x00asm identity"
	brotliBody   = "brotli bytes"
	gzipBody     = "gzip bytes"
)

// precompressedServer serves a directory holding files (name -> content),
// every file with the same modification time, and returns the handler and
// the directory.
func precompressedServer(t *testing.T, files map[string]string) (http.Handler, string) {
	t.Helper()
	dir := t.TempDir()
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := api.New(api.Config{StaticDirs: []string{dir}})
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	return srv, dir
}

// getStatic sends method path with the given request headers (name, value
// pairs) straight to h, so that no HTTP client decompresses the answer. The
// request is for host localhost, which the server serves.
func getStatic(h http.Handler, method, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://localhost"+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func varyHas(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for field := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(field), name) {
				return true
			}
		}
	}
	return false
}

func TestPrecompressedSiblingFollowsAcceptEncoding(t *testing.T) {
	h, _ := precompressedServer(t, map[string]string{
		"gqlauth.wasm":    identityBody,
		"gqlauth.wasm.br": brotliBody,
		"gqlauth.wasm.gz": gzipBody,
	})
	tests := []struct {
		acceptEncoding string
		wantCoding     string
		wantBody       string
	}{
		{"gzip, deflate, br, zstd", "br", brotliBody},
		{"br", "br", brotliBody},
		{"BR", "br", brotliBody},
		{"gzip, deflate", "gzip", gzipBody},
		{"x-gzip", "gzip", gzipBody},
		{"br;q=0, gzip", "gzip", gzipBody},
		{"br;q=0.5, gzip;q=0.8", "gzip", gzipBody},
		{"gzip;q=0.8, br;q=0.8", "br", brotliBody},
		{"br;q=nope, gzip", "gzip", gzipBody},
		{"*", "br", brotliBody},
		{"br;q=0, *", "gzip", gzipBody},
		{"*;q=0", "", identityBody},
		{"identity", "", identityBody},
		{"deflate", "", identityBody},
		{"", "", identityBody},
	}
	for _, tt := range tests {
		t.Run(tt.acceptEncoding, func(t *testing.T) {
			rec := getStatic(h, http.MethodGet, "/gqlauth.wasm", "Accept-Encoding", tt.acceptEncoding)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			hdr := rec.Header()
			if got := hdr.Get("Content-Encoding"); got != tt.wantCoding {
				t.Errorf("Content-Encoding = %q, want %q", got, tt.wantCoding)
			}
			if got := rec.Body.String(); got != tt.wantBody {
				t.Errorf("body = %q, want %q", got, tt.wantBody)
			}
			if got := hdr.Get("Content-Type"); got != "application/wasm" {
				t.Errorf("Content-Type = %q, want application/wasm", got)
			}
			if got, want := hdr.Get("Content-Length"), strconv.Itoa(len(tt.wantBody)); got != want {
				t.Errorf("Content-Length = %q, want %q", got, want)
			}
			if !varyHas(hdr, "Accept-Encoding") {
				t.Errorf("Vary = %q, want it to name Accept-Encoding", hdr.Values("Vary"))
			}
			if got := hdr.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
			if hdr.Get("ETag") == "" {
				t.Error("no ETag")
			}
		})
	}
}

func TestEachEncodingHasItsOwnETag(t *testing.T) {
	h, _ := precompressedServer(t, map[string]string{
		"gqlauth.wasm":    identityBody,
		"gqlauth.wasm.br": brotliBody,
		"gqlauth.wasm.gz": gzipBody,
	})
	tags := map[string]string{}
	for _, ae := range []string{"br", "gzip", ""} {
		tag := getStatic(h, http.MethodGet, "/gqlauth.wasm", "Accept-Encoding", ae).Header().Get("ETag")
		for other, otherTag := range tags {
			if tag == otherTag {
				t.Errorf("Accept-Encoding %q and %q share the ETag %s", ae, other, tag)
			}
		}
		tags[ae] = tag
	}

	// Revalidating the brotli copy: 304 without a body; the gzip copy's tag
	// does not match the brotli representation.
	rec := getStatic(h, http.MethodGet, "/gqlauth.wasm", "Accept-Encoding", "br", "If-None-Match", tags["br"])
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match with the brotli ETag: status %d, %d body bytes; want 304, none", rec.Code, rec.Body.Len())
	}
	rec = getStatic(h, http.MethodGet, "/gqlauth.wasm", "Accept-Encoding", "br", "If-None-Match", tags["gzip"])
	if rec.Code != http.StatusOK || rec.Body.String() != brotliBody {
		t.Errorf("If-None-Match with the gzip ETag, br accepted: status %d, body %q; want 200, the brotli body", rec.Code, rec.Body)
	}
}

func TestOnlyExistingFreshSiblingsAreServed(t *testing.T) {
	h, dir := precompressedServer(t, map[string]string{
		"gzip-only.js":      "console.log(1)",
		"gzip-only.js.gz":   gzipBody,
		"plain.js":          "console.log(2)",
		"stale.wasm":        identityBody,
		"stale.wasm.br":     brotliBody,
		"dir.wasm":          identityBody,
		"dir.wasm.br/x":     "not a file",
		"index.html":        "<h1>hi</h1>",
		"index.html.br":     brotliBody,
		"gqlauth.wasm":      identityBody,
		"gqlauth.wasm.br":   brotliBody,
		"whole.wasm":        identityBody,
		"whole.wasm.br":     brotliBody,
		"other/gqlauth.css": "body{}",
	})
	// The build rewrote stale.wasm after compressing it.
	later := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "stale.wasm"), later, later); err != nil {
		t.Fatal(err)
	}
	// brotli copies the source's time in whole seconds: the sibling is a
	// fraction of a second older than its source, and still fresh.
	fraction := time.Date(2026, 1, 2, 3, 4, 5, 979e6, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "whole.wasm"), fraction, fraction); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path       string
		wantCoding string
		wantType   string
		wantVary   bool
	}{
		{"/gzip-only.js", "gzip", "text/javascript; charset=utf-8", true},
		{"/plain.js", "", "text/javascript; charset=utf-8", false},
		{"/stale.wasm", "", "application/wasm", false},
		{"/whole.wasm", "br", "application/wasm", true},
		{"/dir.wasm", "", "application/wasm", false},
		{"/", "br", "text/html; charset=utf-8", true},
		{"/other/gqlauth.css", "", "text/css; charset=utf-8", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := getStatic(h, http.MethodGet, tt.path, "Accept-Encoding", "gzip, br")
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			if got := rec.Header().Get("Content-Encoding"); got != tt.wantCoding {
				t.Errorf("Content-Encoding = %q, want %q", got, tt.wantCoding)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if got := varyHas(rec.Header(), "Accept-Encoding"); got != tt.wantVary {
				t.Errorf("Vary names Accept-Encoding: %t, want %t", got, tt.wantVary)
			}
		})
	}
}

func TestPrecompressedHeadAndRange(t *testing.T) {
	h, _ := precompressedServer(t, map[string]string{
		"gqlauth.wasm":    identityBody,
		"gqlauth.wasm.br": brotliBody,
	})
	rec := getStatic(h, http.MethodHead, "/gqlauth.wasm", "Accept-Encoding", "br")
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD: status %d, %d body bytes; want 200, none", rec.Code, rec.Body.Len())
	}
	if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(len(brotliBody)); got != want {
		t.Errorf("HEAD: Content-Length = %q, want %q", got, want)
	}
	if got := rec.Header().Get("Content-Encoding"); got != "br" {
		t.Errorf("HEAD: Content-Encoding = %q, want br", got)
	}

	// A range of an encoded response is a range of the encoded bytes.
	rec = getStatic(h, http.MethodGet, "/gqlauth.wasm", "Accept-Encoding", "br", "Range", "bytes=0-5")
	if rec.Code != http.StatusPartialContent || rec.Body.String() != brotliBody[:6] {
		t.Errorf("Range: status %d, body %q; want 206, %q", rec.Code, rec.Body, brotliBody[:6])
	}
	if got := rec.Header().Get("Content-Encoding"); got != "br" {
		t.Errorf("Range: Content-Encoding = %q, want br", got)
	}
}

func TestWorkerScriptIsServedLikeAnyScript(t *testing.T) {
	h, _ := precompressedServer(t, map[string]string{
		"gqlauth.worker.js":    identityBody,
		"gqlauth.worker.js.br": brotliBody,
		"gqlauth.worker.js.gz": gzipBody,
		"gqlauth.mjs":          identityBody,
		"gqlauth.mjs.br":       brotliBody,
		"gqlauth.wasm":         identityBody,
		"gqlauth.wasm.gz":      gzipBody,
	})
	tests := []struct {
		path, acceptEncoding string
		wantType             string
		wantCoding           string
		wantBody             string
	}{
		{"/gqlauth.worker.js", "gzip, deflate, br", "text/javascript; charset=utf-8", "br", brotliBody},
		{"/gqlauth.worker.js", "gzip", "text/javascript; charset=utf-8", "gzip", gzipBody},
		{"/gqlauth.worker.js", "", "text/javascript; charset=utf-8", "", identityBody},
		{"/gqlauth.mjs", "br", "text/javascript; charset=utf-8", "br", brotliBody},
		{"/gqlauth.mjs", "gzip", "text/javascript; charset=utf-8", "", identityBody},
		{"/gqlauth.wasm", "gzip, br", "application/wasm", "gzip", gzipBody},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.acceptEncoding, func(t *testing.T) {
			rec := getStatic(h, http.MethodGet, tt.path, "Accept-Encoding", tt.acceptEncoding)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			hdr := rec.Header()
			if got := hdr.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if got := hdr.Get("Content-Encoding"); got != tt.wantCoding {
				t.Errorf("Content-Encoding = %q, want %q", got, tt.wantCoding)
			}
			if got := rec.Body.String(); got != tt.wantBody {
				t.Errorf("body = %q, want %q", got, tt.wantBody)
			}
			if !varyHas(hdr, "Accept-Encoding") {
				t.Errorf("Vary = %q, want it to name Accept-Encoding", hdr.Values("Vary"))
			}
		})
	}
}
