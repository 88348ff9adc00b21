package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gqlauth/gqlauth/web/server/api"
)

const allowed = "http://127.0.0.1:5000"

func TestCORSPreflight(t *testing.T) {
	ts := newServer(t, api.Config{Origins: []string{allowed, "http://localhost:5173"}})
	tests := []struct {
		name       string
		origin     string
		wantStatus int
		want       map[string]string
	}{
		{"allowed origin", allowed, 204, map[string]string{
			"Access-Control-Allow-Origin":      allowed,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET, POST, OPTIONS",
			"Access-Control-Allow-Headers":     "Authorization, Content-Type",
			"Access-Control-Max-Age":           "600",
			"Access-Control-Expose-Headers":    "Authorization, X-Authorization",
		}},
		{"disallowed origin", "http://evil.example", 403, map[string]string{
			"Access-Control-Allow-Origin":      "",
			"Access-Control-Allow-Credentials": "",
			"Access-Control-Allow-Methods":     "",
			"Access-Control-Allow-Headers":     "",
			"Access-Control-Expose-Headers":    "",
		}},
		{"allowed origin with another port", "http://127.0.0.1:5001", 403, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := send(t, ts, http.MethodOptions, "/graphql", map[string]string{
				"Origin":                         tt.origin,
				"Access-Control-Request-Method":  "POST",
				"Access-Control-Request-Headers": "authorization, content-type",
			}, "")
			if res.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.status, tt.wantStatus)
			}
			for k, want := range tt.want {
				if got := res.header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if !strings.Contains(strings.Join(res.header.Values("Vary"), ","), "Origin") {
				t.Errorf("Vary = %q, want Origin in it", res.header.Values("Vary"))
			}
		})
	}
}

func TestCORSOnRequests(t *testing.T) {
	tests := []struct {
		name       string
		cfg        api.Config
		origin     string
		wantStatus int
		wantToken  bool
		want       map[string]string
	}{
		{"allowed origin", api.Config{Origins: []string{allowed}}, allowed, 200, true, map[string]string{
			"Access-Control-Allow-Origin":      allowed,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers":    "Authorization, X-Authorization",
		}},
		{"allowed origin, token headers hidden", api.Config{Origins: []string{allowed}, HideTokenHeaders: true}, allowed, 200, true, map[string]string{
			"Access-Control-Allow-Origin":   allowed,
			"Access-Control-Expose-Headers": "",
		}},
		{"disallowed origin", api.Config{Origins: []string{allowed}}, "http://evil.example", 403, false, map[string]string{
			"Access-Control-Allow-Origin":   "",
			"Access-Control-Expose-Headers": "",
		}},
		{"no origin", api.Config{}, "", 200, true, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, tt.cfg)
			res := send(t, ts, http.MethodPost, "/graphql",
				map[string]string{"Content-Type": "application/json", "Origin": tt.origin},
				`{"query":"{ loginUser(username: \"demo\", password: \"demo-password\") { id } }"}`)
			if res.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.status, tt.wantStatus)
			}
			if got := res.header.Get("X-Authorization") != ""; got != tt.wantToken {
				t.Errorf("token sent = %v, want %v", got, tt.wantToken)
			}
			for k, want := range tt.want {
				if got := res.header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestSameOriginRequestsNeedNoAllowList(t *testing.T) {
	ts := newServer(t, api.Config{})
	res := send(t, ts, http.MethodPost, "/graphql",
		map[string]string{"Content-Type": "application/json", "Origin": ts.URL}, `{"query":"{ __typename }"}`)
	if res.status != 200 {
		t.Errorf("status = %d, want 200", res.status)
	}
	assertJSON(t, res.body, `{"data":{"__typename":"Query"}}`)
}

func TestNewRefusesUnusableOrigins(t *testing.T) {
	for _, origin := range []string{"*", "http://127.0.0.1:5000/", "127.0.0.1:5000", "ftp://example.com", "HTTP://EXAMPLE.COM", "http://example.com/app", ""} {
		if _, err := api.New(api.Config{Origins: []string{origin}}); err == nil {
			t.Errorf("api.New accepted origin %q", origin)
		}
	}
	_, err := api.New(api.Config{Origins: []string{"*"}})
	if err == nil || !strings.Contains(err.Error(), "exact origins") {
		t.Errorf(`error for "*" = %v, want one that asks for exact origins`, err)
	}
}
