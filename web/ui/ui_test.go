package ui

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, h http.Handler, method, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerServesFilesWithTypes(t *testing.T) {
	h := Handler()
	tests := []struct {
		name        string
		path        string
		contentType string
		contains    string
	}{
		{"root is the application page", "/", "text/html; charset=utf-8", `<script type="module" src="/js/app.js">`},
		{"index by name", "/index.html", "text/html; charset=utf-8", "<main id=\"main\""},
		{"module script", "/js/app.js", "text/javascript; charset=utf-8", "import"},
		{"view module", "/js/views/census.js", "text/javascript; charset=utf-8", "export function mount"},
		{"stylesheet", "/css/app.css", "text/css; charset=utf-8", "html.wall"},
		{"icon", "/favicon.svg", "image/svg+xml", "<svg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, h, http.MethodGet, tt.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache", got)
			}
			if rec.Header().Get("ETag") == "" {
				t.Error("no ETag")
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			if !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
		})
	}
}

func TestHandlerPageHasContentSecurityPolicy(t *testing.T) {
	h := Handler()
	page := serve(t, h, http.MethodGet, "/", nil)
	csp := page.Header().Get("Content-Security-Policy")
	for _, directive := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, directive) {
			t.Errorf("CSP %q lacks %q", csp, directive)
		}
	}
	if script := serve(t, h, http.MethodGet, "/js/app.js", nil); script.Header().Get("Content-Security-Policy") != "" {
		t.Error("a script carries the page's CSP; only documents need it")
	}
}

func TestHandlerRevalidatesWithETag(t *testing.T) {
	h := Handler()
	first := serve(t, h, http.MethodGet, "/js/live.js", nil)
	etag := first.Header().Get("ETag")
	tests := []struct {
		name   string
		tag    string
		status int
	}{
		{"same content answers not modified", etag, http.StatusNotModified},
		{"another version answers the file", `"stale"`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, h, http.MethodGet, "/js/live.js", http.Header{"If-None-Match": {tt.tag}})
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.status == http.StatusNotModified && rec.Body.Len() != 0 {
				t.Errorf("304 with a body of %d bytes", rec.Body.Len())
			}
		})
	}
	if other := serve(t, h, http.MethodGet, "/js/api.js", nil).Header().Get("ETag"); other == etag {
		t.Errorf("two different files share the ETag %s", etag)
	}
}

func TestHandlerRefusals(t *testing.T) {
	h := Handler()
	tests := []struct {
		name   string
		method string
		path   string
		status int
	}{
		{"unknown file", http.MethodGet, "/js/missing.js", http.StatusNotFound},
		{"directory is not listed", http.MethodGet, "/js/", http.StatusNotFound},
		{"directory without slash", http.MethodGet, "/js", http.StatusNotFound},
		{"embedded root name is not a path", http.MethodGet, "/static/index.html", http.StatusNotFound},
		{"path traversal", http.MethodGet, "/../ui.go", http.StatusNotFound},
		{"writes are refused", http.MethodPost, "/index.html", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, h, tt.method, tt.path, nil)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
		})
	}
}

func TestHandlerHeadHasNoBody(t *testing.T) {
	rec := serve(t, Handler(), http.MethodHead, "/css/app.css", nil)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: status %d with %d bytes, want 200 with none", rec.Code, rec.Body.Len())
	}
	if rec.Header().Get("Content-Length") == "" {
		t.Error("HEAD without Content-Length")
	}
}

// staticFiles lists the embedded files with their text.
func staticFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := fs.WalkDir(static, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, name)
		files[strings.TrimPrefix(name, "static")] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestNothingIsFetchedFromElsewhere keeps the UI self-contained: no CDN, no
// web font, no analytics. The one absolute URL allowed is the SVG namespace,
// which names a vocabulary and is never fetched.
func TestNothingIsFetchedFromElsewhere(t *testing.T) {
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s"'<>)]*`)
	for name, text := range staticFiles(t) {
		for _, u := range url.FindAllString(text, -1) {
			if u != "http://www.w3.org/2000/svg" {
				t.Errorf("%s refers to %s", name, u)
			}
		}
		if strings.Contains(text, "@import") || strings.Contains(text, "@font-face") {
			t.Errorf("%s imports styles or fonts", name)
		}
	}
}

// TestModuleImportsResolve checks that every relative import of every
// module names an embedded file, and that every module is reachable from
// the page: a typo would otherwise surface only in a browser.
func TestModuleImportsResolve(t *testing.T) {
	files := staticFiles(t)
	imports := regexp.MustCompile(`(?m)^\s*import\s+(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]`)
	reached := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if reached[name] {
			return
		}
		reached[name] = true
		dir := name[:strings.LastIndex(name, "/")+1]
		for _, m := range imports.FindAllStringSubmatch(files[name], -1) {
			spec := m[1]
			if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
				t.Errorf("%s imports %q, which is not a relative path", name, spec)
				continue
			}
			target := dir + spec
			for strings.Contains(target, "/./") {
				target = strings.Replace(target, "/./", "/", 1)
			}
			for {
				i := strings.Index(target, "/../")
				if i < 0 {
					break
				}
				j := strings.LastIndex(target[:i], "/")
				target = target[:j] + target[i+3:]
			}
			if _, ok := files[target]; !ok {
				t.Errorf("%s imports %q: no such file %s", name, spec, target)
				continue
			}
			visit(target)
		}
	}
	if !strings.Contains(files["/index.html"], `src="/js/app.js"`) {
		t.Fatal("index.html does not load /js/app.js")
	}
	// Every page's module is an entry point: the application's, and the
	// sign-in and audit pages'.
	entries := regexp.MustCompile(`<script type="module" src="(/js/[^"]+)"`)
	for name, text := range files {
		if strings.HasSuffix(name, ".html") {
			for _, m := range entries.FindAllStringSubmatch(text, -1) {
				visit(m[1])
			}
		}
	}
	for name := range files {
		if strings.HasSuffix(name, ".js") && !reached[name] {
			t.Errorf("%s is embedded but no module imports it", name)
		}
	}
}
