package api

import (
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
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

// staticFiles serves files from dirs, the first directory holding the file
// winning. A directory path serves its index.html; there are no listings,
// no dot files, and nothing outside the directories, symbolic links
// included.
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
			f, info, ok := openStatic(dir, name)
			if !ok {
				continue
			}
			defer f.Close()
			ct := staticTypes[path.Ext(info.Name())]
			if ct == "" {
				ct = mime.TypeByExtension(path.Ext(info.Name()))
			}
			if ct != "" {
				w.Header().Set("Content-Type", ct)
			}
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeContent(w, r, info.Name(), info.ModTime(), f)
			return
		}
		http.NotFound(w, r)
	})
}

// openStatic opens name in dir, or name/index.html when name is a
// directory. ok is false when there is no such regular file.
func openStatic(dir, name string) (f *os.File, info fs.FileInfo, ok bool) {
	for _, candidate := range []string{name, path.Join(name, "index.html")} {
		if candidate == "" {
			continue
		}
		f, err := os.OpenInRoot(dir, candidate)
		if err != nil {
			return nil, nil, false
		}
		info, err := f.Stat()
		if err == nil && info.Mode().IsRegular() {
			return f, info, true
		}
		f.Close()
		if err != nil || !info.IsDir() {
			return nil, nil, false
		}
	}
	return nil, nil, false
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
