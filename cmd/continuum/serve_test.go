package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuum-care/continuum/domain/catalog"
)

// lockedBuffer is a bytes.Buffer safe for the server goroutine to write
// while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startMain runs Main on a free port over dir and returns its base URL
// and a function that stops it and returns Run's error. The directory
// gets test users first (see prepareUsers), and requests made through
// getJSON and postCommand carry their tokens.
func startMain(t *testing.T, dir string) (base string, stdout *lockedBuffer, stop func() error) {
	t.Helper()
	credentials := prepareUsers(t, dir)
	stdout = &lockedBuffer{}
	m := &Main{
		ListenAddr: "127.0.0.1:0",
		DataDir:    dir,
		Location:   time.UTC,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Stdout:     stdout,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case <-m.Listening():
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped before listening: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not listen")
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() { stop() })
	credentialsByHost.Store(m.Addr().String(), credentials)
	return "http://" + m.Addr().String(), stdout, stop
}

// getJSON fetches a URL and decodes its JSON answer into v.
func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	authorize(t, req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp.StatusCode
}

// waitReady polls /readyz until it answers 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for getJSON(t, base+"/readyz", nil) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz never answered 200")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeEndToEnd runs the whole application on a temp data directory:
// ready, the seeded catalog on the census, a command through the API, and
// a restart that keeps everything.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	base, stdout, stop := startMain(t, dir)
	if !strings.Contains(stdout.String(), base+"/") {
		t.Errorf("printed %q, want the address %s", stdout.String(), base)
	}
	waitReady(t, base)

	page, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: status %d, type %q; want the UI's page", page.StatusCode, page.Header.Get("Content-Type"))
	}
	var apiErr struct{ Error struct{ Code string } }
	if status := getJSON(t, base+"/api/no-such-route", &apiErr); status != http.StatusNotFound || apiErr.Error.Code != "not_found" {
		t.Errorf("unknown API route: status %d, code %q; want a JSON 404, not the UI", status, apiErr.Error.Code)
	}

	defaults, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	var census struct {
		Programs []struct{ Program, Name string }
		Groups   []struct{ Group, Name string }
	}
	if status := getJSON(t, base+"/api/census", &census); status != http.StatusOK {
		t.Fatalf("census: status %d", status)
	}
	if len(census.Programs) != len(defaults.Programs) || len(census.Groups) != len(defaults.Groups) {
		t.Fatalf("census shows %d programs and %d groups, want the default catalog's %d and %d",
			len(census.Programs), len(census.Groups), len(defaults.Programs), len(defaults.Groups))
	}
	for i, p := range census.Programs {
		if p.Name == "" {
			t.Errorf("program %d (%s) has no name on the census", i, p.Program)
		}
	}

	req, err := http.NewRequest(http.MethodPost, base+"/api/patients?wait=1", strings.NewReader(`{"source":"self","name":"Eli End-to-End"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "e2e-referral-1")
	authorize(t, req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var referred struct{ Patient string }
	json.NewDecoder(resp.Body).Decode(&referred)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || referred.Patient == "" {
		t.Fatalf("referral: status %d, patient %q", resp.StatusCode, referred.Patient)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v on shutdown", err)
	}

	// A restart on the same directory resumes: the catalog is not seeded
	// twice and the person is still there, name and all.
	base, _, _ = startMain(t, dir)
	waitReady(t, base)
	var journey struct {
		Patient struct{ Name string }
	}
	if status := getJSON(t, base+"/api/patients/"+referred.Patient, &journey); status != http.StatusOK || journey.Patient.Name != "Eli End-to-End" {
		t.Fatalf("after restart: status %d, name %q", status, journey.Patient.Name)
	}
	if status := getJSON(t, base+"/api/census", &census); status != http.StatusOK || len(census.Groups) != len(defaults.Groups) {
		t.Fatalf("after restart: status %d, %d groups", status, len(census.Groups))
	}
}

func TestServeRefusesExposedPlaintext(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want error
	}{
		{name: "all interfaces without TLS", args: []string{"--addr", "0.0.0.0:0"}, want: errPlaintextExposed},
		{name: "half a TLS configuration", args: []string{"--tls-cert", "cert.pem"}, want: errUsage},
		{name: "unknown time zone", args: []string{"--tz", "Mars/Olympus"}, want: errUsage},
		{name: "stray argument", args: []string{"now"}, want: errUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--data", t.TempDir()}, tc.args...)
			err := runServe(context.Background(), args, io.Discard, io.Discard)
			if !errors.Is(err, tc.want) {
				t.Fatalf("runServe(%v) = %v, want %v", tc.args, err, tc.want)
			}
		})
	}
}
