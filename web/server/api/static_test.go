package api_test

import (
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/gqlauth/gqlauth/web/server/api"
)

// writeFiles creates files (path -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStaticFilesAreServedWithTheRightTypes(t *testing.T) {
	base := t.TempDir()
	first, second := filepath.Join(base, "first"), filepath.Join(base, "second")
	writeFiles(t, base, map[string]string{
		"secret.txt":               "secret",
		"first/index.html":         "<h1>first</h1>",
		"first/app.js":             "first js",
		"first/.env":               "secret",
		"first/empty/keep.txt":     "x",
		"second/app.js":            "second js",
		"second/gqlauth.wasm":      "\x00asm",
		"second/mod.mjs":           "export {}",
		"second/gqlauth.worker.js": "worker",
		"second/sub/index.html":    "sub",
		"second/data/points.json":  "[]",
	})
	if err := os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(first, "escape.txt")); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, api.Config{StaticDirs: []string{first, second}})

	tests := []struct {
		path       string
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"/", 200, "text/html", "<h1>first</h1>"},
		{"/index.html", 200, "text/html", "<h1>first</h1>"},
		{"/app.js", 200, "text/javascript", "first js"},
		{"/gqlauth.wasm", 200, "application/wasm", "\x00asm"},
		{"/mod.mjs", 200, "text/javascript", "export {}"},
		{"/gqlauth.worker.js", 200, "text/javascript", "worker"},
		{"/sub/", 200, "text/html", "sub"},
		{"/data/points.json", 200, "application/json", "[]"},
		{"/missing.js", 404, "", ""},
		{"/empty/", 404, "", ""},
		{"/.env", 404, "", ""},
		{"/../secret.txt", 404, "", ""},
		{"/%2e%2e/secret.txt", 404, "", ""},
		{"/escape.txt", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := send(t, ts, http.MethodGet, tt.path, nil, "")
			if res.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", res.status, tt.wantStatus, res.body)
			}
			if tt.wantStatus != 200 {
				if string(res.body) == "secret" {
					t.Error("served a file it must not")
				}
				return
			}
			mt, _, _ := mime.ParseMediaType(res.header.Get("Content-Type"))
			if mt != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", res.header.Get("Content-Type"), tt.wantType)
			}
			if got := res.header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
			if string(res.body) != tt.wantBody {
				t.Errorf("body = %q, want %q", res.body, tt.wantBody)
			}
		})
	}

	if res := send(t, ts, http.MethodPost, "/app.js", nil, ""); res.status != 405 || res.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /app.js: status %d, Allow %q; want 405, GET, HEAD", res.status, res.header.Get("Allow"))
	}
}

func TestNoStaticDirsServeNothing(t *testing.T) {
	ts := newServer(t, api.Config{})
	for _, path := range []string{"/", "/index.html"} {
		if res := send(t, ts, http.MethodGet, path, nil, ""); res.status != 404 {
			t.Errorf("GET %s: status = %d, want 404", path, res.status)
		}
	}
}

func TestNewRefusesMissingStaticDir(t *testing.T) {
	if _, err := api.New(api.Config{StaticDirs: []string{filepath.Join(t.TempDir(), "nope")}}); err == nil {
		t.Error("api.New accepted a missing static directory")
	}
}

func TestContentSecurityPolicyIsSentWithStaticFilesOnly(t *testing.T) {
	const policy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.html": "<h1>hi</h1>", "app.js": "js"})
	ts := newServer(t, api.Config{StaticDirs: []string{dir}, ContentSecurityPolicy: policy, TestHooks: true})
	tests := []struct {
		method, path string
		want         string
	}{
		{http.MethodGet, "/", policy},
		{http.MethodGet, "/app.js", policy},
		{http.MethodHead, "/app.js", policy},
		{http.MethodGet, "/missing.js", policy},
		{http.MethodPost, "/graphql", ""},
		{http.MethodGet, "/test/tokens", ""},
	}
	for _, tt := range tests {
		res := send(t, ts, tt.method, tt.path, map[string]string{"Content-Type": "application/json"}, `{"query":"{ __typename }"}`)
		if got := res.header.Get("Content-Security-Policy"); got != tt.want {
			t.Errorf("%s %s: Content-Security-Policy = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}

	plain := newServer(t, api.Config{StaticDirs: []string{dir}})
	if got := send(t, plain, http.MethodGet, "/", nil, "").header.Get("Content-Security-Policy"); got != "" {
		t.Errorf("without a policy: Content-Security-Policy = %q, want none", got)
	}
	if _, err := api.New(api.Config{ContentSecurityPolicy: "default-src 'self'\r\nX-Injected: 1"}); err == nil {
		t.Error("api.New accepted a policy with CR LF")
	}
}
