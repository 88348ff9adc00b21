package api

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// hostPolicy is the set of host names the server answers for. Checking the
// Host header defeats DNS rebinding: a page of evil.example whose name was
// made to resolve to 127.0.0.1 reaches the server as a same-origin client,
// but its requests say Host: evil.example.
type hostPolicy struct {
	extra map[string]bool // normalized, besides the loopback names
}

func newHostPolicy(hosts []string) (*hostPolicy, error) {
	p := &hostPolicy{extra: make(map[string]bool)}
	for _, h := range hosts {
		if err := CheckHost(h); err != nil {
			return nil, err
		}
		p.extra[normalizeHost(h)] = true
	}
	return p, nil
}

// CheckHost reports whether name can be listed in Config.Hosts: a DNS name
// (letters, digits, '-', '_' and dots) or an IP address, IPv6 with or
// without brackets, and no scheme, port or path.
func CheckHost(name string) error {
	n := normalizeHost(name)
	if n == "" {
		return fmt.Errorf("host %q: empty", name)
	}
	if net.ParseIP(n) != nil {
		return nil
	}
	if strings.Contains(name, ":") {
		return fmt.Errorf("host %q: list host names without a scheme or port", name)
	}
	for label := range strings.SplitSeq(n, ".") {
		if label == "" {
			return fmt.Errorf("host %q: empty label", name)
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("host %q: %q is not allowed in a host name", name, c)
			}
		}
	}
	return nil
}

// normalizeHost lower-cases a host name and drops the brackets of an IPv6
// address and the final dot of a fully qualified name.
func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	return strings.TrimSuffix(h, ".")
}

// hostOf returns the host name of a Host header value, without its port.
func hostOf(hostHeader string) string {
	h := hostHeader
	if host, _, err := net.SplitHostPort(hostHeader); err == nil {
		h = host
	}
	return normalizeHost(h)
}

// allows reports whether the server answers for the host a Host header
// names: a loopback name (localhost, *.localhost, 127.0.0.0/8, ::1) or one
// listed in Config.Hosts. The port is not checked.
func (p *hostPolicy) allows(hostHeader string) bool {
	h := hostOf(hostHeader)
	if h == "" {
		return false
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return true
	}
	return p.extra[h]
}

// checkHost answers 421 Misdirected Request, before anything else can
// happen, to a request whose Host header names a host the server does not
// serve: no token, no CORS headers, no file.
func (s *Server) checkHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hosts.allows(r.Host) {
			http.Error(w, "misdirected request: this server does not answer for that host name (see -hosts)",
				http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}
