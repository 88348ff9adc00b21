package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// corsPolicy is an allow-list of exact origins for credentialed requests.
type corsPolicy struct {
	allowed       map[string]bool
	exposeHeaders bool
}

func newCORSPolicy(origins []string, exposeHeaders bool) (*corsPolicy, error) {
	p := &corsPolicy{allowed: make(map[string]bool), exposeHeaders: exposeHeaders}
	for _, o := range origins {
		if err := checkOrigin(o); err != nil {
			return nil, err
		}
		p.allowed[o] = true
	}
	return p, nil
}

// checkOrigin accepts only what a browser sends in the Origin header:
// scheme://host[:port], lower case, nothing after it.
func checkOrigin(o string) error {
	if o == "*" {
		return errors.New(`origin "*" is not supported: the API is used with credentials, so list exact origins such as http://127.0.0.1:5000`)
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || o != u.Scheme+"://"+u.Host {
		return fmt.Errorf("origin %q is not of the form http(s)://host[:port] (lower case, no path or trailing slash)", o)
	}
	return nil
}

// sameOrigin reports whether origin is the origin the request was sent to.
func sameOrigin(r *http.Request, origin string) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return origin == scheme+"://"+r.Host
}

// withCORS answers preflights and adds CORS headers for allowed origins.
// A request from an origin that is neither allowed nor the server's own is
// refused with 403 and no CORS headers. methods is the Allow list of h.
func (s *Server) withCORS(methods string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		crossOrigin := origin != "" && !sameOrigin(r, origin)
		if crossOrigin {
			if !s.cors.allowed[origin] {
				writeError(w, http.StatusForbidden, "origin not allowed: add it to the server's -origins list")
				return
			}
			hdr.Set("Access-Control-Allow-Origin", origin)
			hdr.Set("Access-Control-Allow-Credentials", "true")
			if s.cors.exposeHeaders {
				hdr.Set("Access-Control-Expose-Headers", "Authorization, X-Authorization")
			}
		}
		if r.Method != http.MethodOptions {
			h.ServeHTTP(w, r)
			return
		}
		if crossOrigin && r.Header.Get("Access-Control-Request-Method") != "" {
			hdr.Add("Vary", "Access-Control-Request-Method")
			hdr.Add("Vary", "Access-Control-Request-Headers")
			hdr.Set("Access-Control-Allow-Methods", methods)
			hdr.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			hdr.Set("Access-Control-Max-Age", "600")
		}
		hdr.Set("Allow", methods)
		w.WriteHeader(http.StatusNoContent)
	})
}
