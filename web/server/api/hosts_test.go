package api_test

import (
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gqlauth/gqlauth/web/server/api"
)

const loginBody = `{"query":"{ loginUser(username: \"demo\", password: \"demo-password\") { id } }"}`

// assertMisdirected checks a 421 answer: short plain text, and neither a
// token nor CORS headers.
func assertMisdirected(t *testing.T, res result) {
	t.Helper()
	if res.status != http.StatusMisdirectedRequest {
		t.Errorf("status = %d, want 421", res.status)
	}
	if mt, _, _ := mime.ParseMediaType(res.header.Get("Content-Type")); mt != "text/plain" || len(res.body) > 200 {
		t.Errorf("Content-Type %q, %d body bytes; want short text/plain", res.header.Get("Content-Type"), len(res.body))
	}
	noToken(t, res)
	for k := range res.header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("%s = %q, want no CORS headers", k, res.header.Get(k))
		}
	}
}

func TestDNSRebindingLoginGetsMisdirectedRequest(t *testing.T) {
	ts := newServer(t, api.Config{})
	u, _ := url.Parse(ts.URL)
	// evil.example resolved to 127.0.0.1: the browser sees its own origin.
	evil := "evil.example:" + u.Port()
	res := send(t, ts, http.MethodPost, "/graphql", map[string]string{
		"Host": evil, "Origin": "http://" + evil, "Content-Type": "application/json",
	}, loginBody)
	assertMisdirected(t, res)
}

func TestEveryEndpointRefusesOtherHosts(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.js"), []byte("js"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, api.Config{TestHooks: true, StaticDirs: []string{dir}, Origins: []string{allowed}})
	tests := []struct {
		name, method, path string
		header             map[string]string
		body               string
	}{
		{"GraphQL", http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"}, loginBody},
		{"preflight", http.MethodOptions, "/graphql", map[string]string{"Origin": allowed, "Access-Control-Request-Method": "POST"}, ""},
		{"static file", http.MethodGet, "/app.js", nil, ""},
		{"token log", http.MethodGet, "/test/tokens", nil, ""},
		{"reset", http.MethodPost, "/test/reset", nil, ""},
		{"release", http.MethodPost, "/graphql?release=all", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := map[string]string{"Host": "evil.example"}
			for k, v := range tt.header {
				header[k] = v
			}
			assertMisdirected(t, send(t, ts, tt.method, tt.path, header, tt.body))
			// The same request for localhost is served.
			header["Host"] = "localhost"
			if res := send(t, ts, tt.method, tt.path, header, tt.body); res.status == http.StatusMisdirectedRequest {
				t.Errorf("Host localhost: status 421")
			}
		})
	}
}

func TestOnlyLoopbackAndListedHostsAreServed(t *testing.T) {
	srv, err := api.New(api.Config{Hosts: []string{"gqlauth.test", "192.168.1.10", "[fe80::1]", "Demo.Example."}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host   string
		served bool
	}{
		{"localhost", true},
		{"localhost:8080", true},
		{"LOCALHOST:8080", true},
		{"localhost.:8080", true},
		{"app.localhost:5173", true},
		{"127.0.0.1:8080", true},
		{"127.0.0.1", true},
		{"127.1.2.3:9", true},
		{"[::1]:8080", true},
		{"[::1]", true},
		{"gqlauth.test", true},
		{"gqlauth.test:443", true},
		{"GQLAUTH.TEST:1", true},
		{"192.168.1.10:8080", true},
		{"[fe80::1]:8080", true},
		{"demo.example", true},
		{"evil.example", false},
		{"evil.example:8080", false},
		{"localhost.evil.example", false},
		{"notlocalhost", false},
		{"127.0.0.1.nip.io", false},
		{"gqlauth.test.evil.example", false},
		{"sub.gqlauth.test", false},
		{"192.168.1.11", false},
		{"[::2]:8080", false},
		{"0.0.0.0:8080", false},
		{"", false},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(loginBody))
		req.Host = tt.host
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if got := rec.Code != http.StatusMisdirectedRequest; got != tt.served {
			t.Errorf("Host %q: status %d; served %v, want %v", tt.host, rec.Code, got, tt.served)
		}
		if got := rec.Header().Get("X-Authorization") != ""; got != tt.served {
			t.Errorf("Host %q: token sent %v, want %v", tt.host, got, tt.served)
		}
	}
}

func TestSameOriginLoginThroughAListedHostGetsAToken(t *testing.T) {
	ts := newServer(t, api.Config{Hosts: []string{"gqlauth.test"}})
	u, _ := url.Parse(ts.URL)
	host := "gqlauth.test:" + u.Port()
	res := send(t, ts, http.MethodPost, "/graphql", map[string]string{
		"Host": host, "Origin": "http://" + host, "Content-Type": "application/json",
	}, loginBody)
	if res.status != 200 {
		t.Errorf("status = %d, want 200", res.status)
	}
	tokenOf(t, res)
}

func TestNewRefusesUnusableHosts(t *testing.T) {
	for _, host := range []string{"", " ", "example.com:8080", "http://example.com", "example.com/", "*.example.com",
		"exa mple.com", "a..b", ".", "[::1]:80", "user@example.com"} {
		if _, err := api.New(api.Config{Hosts: []string{host}}); err == nil {
			t.Errorf("api.New accepted host %q", host)
		}
	}
	for _, host := range []string{"example.com", "EXAMPLE.com.", "my_host", "10.0.0.1", "::1", "[2001:db8::1]"} {
		if err := api.CheckHost(host); err != nil {
			t.Errorf("CheckHost(%q) = %v, want nil", host, err)
		}
	}
}
