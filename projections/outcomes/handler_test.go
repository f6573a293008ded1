package outcomes

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	store := storeWith(t, false, clinicHistory(t)...)
	server := httptest.NewServer(Handler(store, nil))
	t.Cleanup(server.Close)
	tests := []struct {
		name, method, query string
		status              int
		contentType, body   string
	}{
		{"the whole log", "GET", "", 200, "application/json", `"events_replayed": 14`},
		{"as of a date", "GET", "?as_of=2025-01-31&cohort=quarter", 200, "application/json", `"as_of": "2025-01-31"`},
		{"a window", "GET", "?from=2025-01-06&to=2025-01-31", 200, "application/json", `"total": 2`},
		{"the HTML report", "GET", "?format=html", 200, "text/html; charset=utf-8", "<svg"},
		{"a bad date", "GET", "?as_of=yesterday", 400, "application/json", `"field":"as_of"`},
		{"a window backwards", "GET", "?from=2025-02-01&to=2025-01-01", 400, "application/json", `"code":"bad_request"`},
		{"CSV is a directory export", "GET", "?format=csv", 400, "application/json", `"field":"format"`},
		{"not a GET", "POST", "", 405, "application/json", `"code":"method_not_allowed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, server.URL+tt.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			body := string(raw)
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != tt.contentType || !strings.Contains(body, tt.body) {
				t.Errorf("%d %s\n%.300s\nwant %d %s containing %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, tt.status, tt.contentType, tt.body)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
			}
			if tt.status == 200 && tt.contentType == "application/json" && !json.Valid(raw) {
				t.Error("the body is not JSON")
			}
		})
	}
}
