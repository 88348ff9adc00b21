package main

import (
	"slices"
	"testing"
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
		o.demoPassword != "demo-password" || o.testHooks || o.strictRotation {
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

func TestSplitList(t *testing.T) {
	got := splitList(" http://a:1 ,, http://b:2,")
	if want := []string{"http://a:1", "http://b:2"}; !slices.Equal(got, want) {
		t.Errorf("splitList = %q, want %q", got, want)
	}
}
