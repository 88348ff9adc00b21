package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/gqlauth/gqlauth/web/server/api"
)

func TestOnlyLoopbackAddressesAreAcceptedByDefault(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"127.0.0.1:0", true},
		{"localhost:8080", true},
		{"[::1]:8080", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"192.168.1.10:8080", false},
		{"example.com:80", false},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		if got := requireLoopback(tt.addr) == nil; got != tt.ok {
			t.Errorf("requireLoopback(%q) accepted = %v, want %v", tt.addr, got, tt.ok)
		}
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != "127.0.0.1:8080" || o.tokenTTL.String() != "1h0m0s" || !o.exposeTokenHeaders ||
		o.demoPassword != "demo-password" || o.testHooks || o.strictRotation || o.hosts != nil || o.csp != "" {
		t.Errorf("defaults = %+v", o)
	}
	if _, err := parseFlags([]string{"-addr", "0.0.0.0:8080"}); err == nil {
		t.Error("non-loopback -addr accepted without -allow-public")
	}
	if _, err := parseFlags([]string{"-addr", "0.0.0.0:8080", "-allow-public"}); err != nil {
		t.Errorf("-allow-public: %v", err)
	}
	if _, err := parseFlags([]string{"-token-ttl", "0s"}); err == nil {
		t.Error("zero -token-ttl accepted")
	}
}

func TestParseLimitFlags(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	defaults := api.Limits{
		QueryBytes:   api.DefaultMaxQueryBytes,
		Depth:        api.DefaultMaxDepth,
		Selections:   api.DefaultMaxSelections,
		OverlapPairs: api.DefaultMaxOverlapPairs,
		AnswerBytes:  api.DefaultMaxAnswerBytes,
	}
	if o.limits != defaults {
		t.Errorf("default limits = %+v, want %+v", o.limits, defaults)
	}
	o, err = parseFlags([]string{"-max-query-bytes", "1000", "-max-depth", "3", "-max-selections", "50",
		"-max-overlap-pairs", "100", "-max-answer-bytes", "33554432"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (api.Limits{QueryBytes: 1000, Depth: 3, Selections: 50, OverlapPairs: 100, AnswerBytes: 32 << 20}); o.limits != want {
		t.Errorf("limits = %+v, want %+v", o.limits, want)
	}
	for _, name := range []string{"-max-query-bytes", "-max-depth", "-max-selections", "-max-overlap-pairs", "-max-answer-bytes"} {
		for _, bad := range []string{"0", "-1"} {
			if _, err := parseFlags([]string{name, bad}); err == nil || !strings.Contains(err.Error(), name+" must be positive") {
				t.Errorf("%s %s: error %v, want one saying it must be positive", name, bad, err)
			}
		}
	}
}

func TestParseHostsFlag(t *testing.T) {
	o, err := parseFlags([]string{"-hosts", " gqlauth.test, 192.168.1.10,,[::2]"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"gqlauth.test", "192.168.1.10", "[::2]"}; !slices.Equal(o.hosts, want) {
		t.Errorf("-hosts = %q, want %q", o.hosts, want)
	}
	for _, bad := range []string{"gqlauth.test:8080", "http://gqlauth.test", "*.test", "a b"} {
		if _, err := parseFlags([]string{"-hosts", bad}); err == nil || !strings.Contains(err.Error(), "-hosts") {
			t.Errorf("-hosts %q: error %v, want one naming -hosts", bad, err)
		}
	}
}

func TestServedHostsAddTheAddrHost(t *testing.T) {
	tests := []struct {
		addr  string
		hosts []string
		want  []string
	}{
		{"127.0.0.1:8080", nil, []string{"127.0.0.1"}},
		{"localhost:0", []string{"a.test"}, []string{"a.test", "localhost"}},
		{"[::1]:8080", nil, []string{"::1"}},
		{"192.168.1.10:8080", []string{"a.test"}, []string{"a.test", "192.168.1.10"}},
		{"demo.example:80", nil, []string{"demo.example"}},
		{":8080", []string{"a.test"}, []string{"a.test"}},
		{"0.0.0.0:8080", nil, nil},
		{"[::]:8080", nil, nil},
	}
	for _, tt := range tests {
		if got := servedHosts(options{addr: tt.addr, hosts: tt.hosts}); !slices.Equal(got, tt.want) {
			t.Errorf("servedHosts(-addr %s, -hosts %q) = %q, want %q", tt.addr, tt.hosts, got, tt.want)
		}
	}
}

func TestParseCSPFlag(t *testing.T) {
	const policy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"
	o, err := parseFlags([]string{"-csp", policy})
	if err != nil {
		t.Fatal(err)
	}
	if o.csp != policy {
		t.Errorf("-csp = %q, want %q", o.csp, policy)
	}
}

func TestSplitList(t *testing.T) {
	got := splitList(" http://a:1 ,, http://b:2,")
	if want := []string{"http://a:1", "http://b:2"}; !slices.Equal(got, want) {
		t.Errorf("splitList = %q, want %q", got, want)
	}
}
