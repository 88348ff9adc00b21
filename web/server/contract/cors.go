package contract

import "net/http"

// CORS lets pages from origins call next from the browser and read the
// token headers of its answers.
//
// origins are exact origins, such as "https://app.example.com" (scheme, host
// and port if any, no trailing slash); "*" is no wildcard here. A request
// whose Origin is in origins gets Access-Control-Allow-Origin (its origin)
// and Access-Control-Expose-Headers: Authorization, X-Authorization; any
// other request gets no CORS headers, so that the browser keeps the answer
// from the page. Every answer has Vary: Origin.
//
// CORS answers every OPTIONS request itself, with 204 No Content: a
// preflight from an allowed origin gets Access-Control-Allow-Methods (GET,
// POST), Access-Control-Allow-Headers (Authorization, Content-Type) and
// Access-Control-Max-Age (10 minutes).
func CORS(origins []string, next http.Handler) http.Handler {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		ok := origin != "" && allowed[origin]
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "Authorization, X-Authorization")
		}
		if r.Method != http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		if ok {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
