package client

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestCheckEndpoint(t *testing.T) {
	tests := []struct {
		endpoint string
		insecure bool
		want     string // "" when refused
		code     Code
	}{
		{"https://api.example.com/graphql", false, "https://api.example.com/graphql", ""},
		{"HTTPS://API.example.com:8443/graphql?x=1#frag", false, "https://API.example.com:8443/graphql?x=1", ""},
		{"http://127.0.0.1:8080/graphql", false, "http://127.0.0.1:8080/graphql", ""},
		{"http://localhost:8080", false, "http://localhost:8080", ""},
		{"http://app.localhost/graphql", false, "http://app.localhost/graphql", ""},
		{"http://[::1]:8080/graphql", false, "http://[::1]:8080/graphql", ""},
		{"http://api.example.com/graphql", true, "http://api.example.com/graphql", ""},
		{"http://api.example.com/graphql", false, "", CodeInsecureEndpoint},
		{"http://127.0.0.1.evil.example/", false, "", CodeInsecureEndpoint},
		{"http://localhost.evil.example/", false, "", CodeInsecureEndpoint},
		{"http://0177.0.0.1/", false, "", CodeInsecureEndpoint}, // octal: not recognised, refused
		{"http://2130706433/", false, "", CodeInsecureEndpoint}, // decimal: not recognised, refused
		{"http://[0:0:0:0:0:0:0:1]/", false, "", CodeInsecureEndpoint},
		{"http://127.0.0.256/", false, "", CodeInsecureEndpoint},
		{"http://127.0.0.1@evil.example/", false, "", CodeInvalidArgument},
		{"https://u:p@api.example.com/", false, "", CodeInvalidArgument},
		{"http://evil.example\\@127.0.0.1/", false, "", CodeInvalidArgument},
		{"http://127.0.0.1\t.evil.example/", false, "", CodeInvalidArgument},
		{"http://127.0.0.1:80x/", false, "", CodeInvalidArgument},
		{"http://[::1/", false, "", CodeInvalidArgument},
		{"http://[::1]x/", false, "", CodeInvalidArgument},
		{"https://:443/", false, "", CodeInvalidArgument},
		{"https:///graphql", false, "", CodeInvalidArgument},
		{"https://a:b:c/", false, "", CodeInvalidArgument},
		{"https://api%2eexample.com/", false, "", CodeInvalidArgument},
		{"https://[fe80::1%25eth0]/", false, "", CodeInvalidArgument},
		{"https://zoë.example/", false, "", CodeInvalidArgument},
		{"/graphql", false, "", CodeInvalidArgument},
		{"", false, "", CodeInvalidArgument},
		{"javascript:alert(1)", false, "", CodeInvalidArgument},
		{"ftp://example.com/x", false, "", CodeInvalidArgument},
	}
	for _, tt := range tests {
		got, err := checkEndpoint(tt.endpoint, tt.insecure)
		if got != tt.want || CodeOf(err) != tt.code && err != nil || tt.code != "" && err == nil {
			t.Errorf("checkEndpoint(%q, %t) = %q, %v; want %q, %s", tt.endpoint, tt.insecure, got, err, tt.want, tt.code)
		}
	}
}

// FuzzEndpointAgreesWithNetURL holds the hand-written check to net/url:
// whatever it accepts, net/url reads as the same scheme and host, without
// user info; and plain http it accepts without allowInsecureHTTP goes to a
// host net/url also sees as loopback.
func FuzzEndpointAgreesWithNetURL(f *testing.F) {
	for _, s := range []string{"https://api.example.com/graphql", "http://127.0.0.1:8080/graphql", "http://[::1]/", "http://a.localhost/#x", "http://127.0.0.1@x/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, endpoint string) {
		got, err := checkEndpoint(endpoint, false)
		if err != nil {
			return
		}
		u, perr := url.Parse(endpoint)
		if perr != nil {
			t.Fatalf("checkEndpoint accepted %q, which net/url refuses: %v", endpoint, perr)
		}
		if u.User != nil || u.Host == "" || !strings.HasPrefix(got, u.Scheme+"://") {
			t.Fatalf("checkEndpoint accepted %q as %q; net/url reads scheme %q, host %q, user %v", endpoint, got, u.Scheme, u.Host, u.User)
		}
		authority := strings.TrimPrefix(got, u.Scheme+"://")
		if i := strings.IndexAny(authority, "/?"); i >= 0 {
			authority = authority[:i]
		}
		if !strings.EqualFold(authority, u.Host) {
			t.Fatalf("checkEndpoint reads host %q in %q, net/url %q", authority, endpoint, u.Host)
		}
		if u.Scheme == "http" {
			host := strings.ToLower(u.Hostname())
			ip, err := netip.ParseAddr(host)
			if host != "localhost" && !strings.HasSuffix(host, ".localhost") && (err != nil || !ip.IsLoopback()) {
				t.Fatalf("plain http to %q accepted, which net/url does not see as loopback", endpoint)
			}
		}
	})
}
