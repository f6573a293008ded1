package web

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRecoverMiddleware checks that a panicking handler answers 500 with
// the API's error body and is logged by route, never by path or query.
func TestRecoverMiddleware(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
	s.metrics, _ = newMetrics(nil, s)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/patients/{id}", func(http.ResponseWriter, *http.Request) { panic("boom") })
	h := s.middleware(mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/patients/6f1e1c52-7a35-4c3e-9a7d-0d1c2b3a4f5e?q=Ada+Lovelace", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "internal" {
		t.Fatalf("body %s (%v)", rec.Body, err)
	}
	if rec.Header().Get(CorrelationHeader) == "" {
		t.Error("no correlation ID on the answer")
	}
	out := logs.String()
	if !strings.Contains(out, "panic serving request") || !strings.Contains(out, "GET /api/patients/{id}") {
		t.Errorf("the panic was not logged by route: %s", out)
	}
	for _, secret := range []string{"6f1e1c52", "Lovelace"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q: %s", secret, out)
		}
	}
}
