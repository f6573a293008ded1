// Package ui is continuum's user interface: hand-written HTML, CSS and
// JavaScript modules embedded in the binary, so `go run` and a copied
// binary serve the same screens with no build step and no download at run
// time (clinic networks are often closed, and a board on a wall must come
// back after a power cut without reaching the internet).
//
// The screens talk only to the JSON API and the websocket of package web,
// which mounts Handler at "/". Routing is client-side in the URL's
// fragment (#/census, #/patients/<id>), so the server only ever serves the
// files themselves and never sees a patient ID in a page request.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

//go:embed static
var static embed.FS

// contentSecurityPolicy allows the page nothing from elsewhere: scripts,
// styles, images and connections (the websocket included) come from the
// server itself, so an injected string can neither run nor phone home.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one embedded file, prepared once: its bytes, type and a strong
// validator, so a revalidation costs a header comparison.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// contentTypes fixes the types of the files the UI ships, so they do not
// depend on the host's MIME tables (a JavaScript module served as
// text/plain is refused by the browser).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json; charset=utf-8",
}

// Handler serves the embedded UI: "/" is the application page, every other
// path an asset. Assets are revalidated on each load (Cache-Control:
// no-cache with a content-hash ETag) because their names carry no version:
// a new binary must never run with yesterday's scripts, and an unchanged
// file still costs only a 304.
func Handler() http.Handler {
	root, err := fs.Sub(static, "static")
	if err != nil {
		panic("ui: embedded static directory missing: " + err.Error())
	}
	assets := map[string]asset{}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			ct = mime.TypeByExtension(path.Ext(name))
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		assets["/"+name] = asset{body: body, contentType: ct, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	if err != nil {
		panic("ui: reading embedded files: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := r.URL.Path
		if name == "/" {
			name = "/index.html"
		}
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		if path.Ext(name) == ".html" {
			h.Set("Content-Security-Policy", contentSecurityPolicy)
		}
		// A zero modification time leaves validation to the ETag:
		// embedded files carry no meaningful time.
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
	})
}
