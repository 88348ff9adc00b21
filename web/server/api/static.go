package api

import (
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// staticTypes fixes the Content-Type of the files the demo depends on,
// whatever the system's MIME tables say.
var staticTypes = map[string]string{
	".wasm": "application/wasm",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".map":  "application/json",
	".svg":  "image/svg+xml",
}

// precompressed lists the content codings staticFiles serves from sibling
// files made at build time (gqlauth.wasm.br next to gqlauth.wasm), in order
// of preference when a client accepts several equally.
var precompressed = []struct {
	coding  string
	suffix  string
	aliases []string
}{
	{coding: "br", suffix: ".br"},
	{coding: "gzip", suffix: ".gz", aliases: []string{"x-gzip"}},
}

// staticFiles serves files from dirs, the first directory holding the file
// winning. A directory path serves its index.html; there are no listings,
// no dot files, and nothing outside the directories, symbolic links
// included.
//
// A file with a pre-compressed sibling (name.br, name.gz) that is not older
// than the file itself is served from that sibling, with Content-Encoding,
// when the request's Accept-Encoding allows the coding; brotli is preferred.
// Content-Type is always the original file's, so gqlauth.wasm stays
// application/wasm and streaming compilation works. Every file is sent with
// Cache-Control: no-cache and an ETag that names the representation, so a
// browser revalidates and gets 304 Not Modified until the build changes.
func staticFiles(dirs []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if hasDotSegment(name) {
			http.NotFound(w, r)
			return
		}
		for _, dir := range dirs {
			f, info, resolved, ok := openStatic(dir, name)
			if !ok {
				continue
			}
			defer f.Close()
			hdr := w.Header()
			ct := staticTypes[path.Ext(info.Name())]
			if ct == "" {
				ct = mime.TypeByExtension(path.Ext(info.Name()))
			}
			if ct != "" {
				hdr.Set("Content-Type", ct)
			}
			hdr.Set("Cache-Control", "no-cache")
			body, bodyInfo, coding, variants := pickEncoding(dir, resolved, f, info, r.Header.Get("Accept-Encoding"))
			if variants {
				hdr.Add("Vary", "Accept-Encoding")
			}
			if coding != "" {
				defer body.Close()
				hdr.Set("Content-Encoding", coding)
				w = contentLengthWriter{w, bodyInfo.Size()}
			}
			hdr.Set("ETag", etag(bodyInfo, coding))
			http.ServeContent(w, r, info.Name(), bodyInfo.ModTime(), body)
			return
		}
		http.NotFound(w, r)
	})
}

// withCSP adds policy, unless empty, as the Content-Security-Policy of every
// answer of h.
func withCSP(policy string, h http.Handler) http.Handler {
	if policy == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", policy)
		h.ServeHTTP(w, r)
	})
}

// pickEncoding returns what to send for the file name in dir, opened as f
// with info: the pre-compressed sibling whose coding acceptEncoding ranks
// highest (ties go to the first of precompressed), or f itself with coding
// "" when it allows none. A sibling older than the file is stale and
// ignored; times are compared to the second, because brotli copies the
// source's modification time without its fraction. variants reports whether any usable sibling exists, which makes
// the response vary by Accept-Encoding. A returned sibling is the caller's
// to close.
func pickEncoding(dir, name string, f *os.File, info fs.FileInfo, acceptEncoding string) (body *os.File, bodyInfo fs.FileInfo, coding string, variants bool) {
	body, bodyInfo = f, info
	best := 0.0
	for _, enc := range precompressed {
		sibling, sinfo, err := openRegular(dir, name+enc.suffix)
		if err != nil {
			continue
		}
		if sinfo.ModTime().Before(info.ModTime().Truncate(time.Second)) {
			sibling.Close()
			continue
		}
		variants = true
		if q := codingQuality(acceptEncoding, enc.coding, enc.aliases); q > best {
			if coding != "" {
				body.Close()
			}
			body, bodyInfo, coding, best = sibling, sinfo, enc.coding, q
			continue
		}
		sibling.Close()
	}
	return body, bodyInfo, coding, variants
}

// contentLengthWriter sets Content-Length on a full (200) response.
// http.ServeContent leaves it out when Content-Encoding is set, which would
// send a pre-compressed file chunked, without its size.
type contentLengthWriter struct {
	http.ResponseWriter
	size int64
}

func (w contentLengthWriter) WriteHeader(code int) {
	if code == http.StatusOK && w.Header().Get("Content-Length") == "" {
		w.Header().Set("Content-Length", strconv.FormatInt(w.size, 10))
	}
	w.ResponseWriter.WriteHeader(code)
}

// etag names one representation of a file: its size and modification time,
// and the content coding, so that the brotli, gzip and identity bodies of
// one file never share a validator.
func etag(info fs.FileInfo, coding string) string {
	tag := strconv.FormatInt(info.Size(), 36) + "-" + strconv.FormatInt(info.ModTime().UnixNano(), 36)
	if coding != "" {
		tag += "-" + coding
	}
	return `"` + tag + `"`
}

// codingQuality returns the q-value acceptEncoding (an Accept-Encoding
// header) gives to coding or one of its aliases: its own entry if listed,
// else the "*" entry, else 0. A malformed q-value counts as 0.
func codingQuality(acceptEncoding, coding string, aliases []string) float64 {
	own, star := -1.0, -1.0
	for entry := range strings.SplitSeq(acceptEncoding, ",") {
		name, params, _ := strings.Cut(entry, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		q := 1.0
		for param := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(param, "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0
			}
			q = f
		}
		switch {
		case name == coding || containsString(aliases, name):
			own = max(own, q)
		case name == "*":
			star = q
		}
	}
	switch {
	case own >= 0:
		return own
	case star >= 0:
		return star
	}
	return 0
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// openStatic opens name in dir, or name/index.html when name is a
// directory. resolved is the path of the file opened, relative to dir. ok
// is false when there is no such regular file.
func openStatic(dir, name string) (f *os.File, info fs.FileInfo, resolved string, ok bool) {
	for _, candidate := range []string{name, path.Join(name, "index.html")} {
		if candidate == "" {
			continue
		}
		f, info, err := openRegular(dir, candidate)
		if err == nil {
			return f, info, candidate, true
		}
		if info == nil || !info.IsDir() {
			return nil, nil, "", false
		}
	}
	return nil, nil, "", false
}

// openRegular opens name in dir if it is a regular file. Otherwise it
// returns an error, and the file's info when it exists but is not regular.
func openRegular(dir, name string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenInRoot(dir, name)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, info, fs.ErrInvalid
	}
	return f, info, nil
}

// hasDotSegment reports whether a slash-separated path has a segment
// starting with a dot, such as .git or .env.
func hasDotSegment(name string) bool {
	for seg := range strings.SplitSeq(name, "/") {
		if strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}
