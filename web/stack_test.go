package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain/catalog"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/privacy"
	"github.com/continuum-care/continuum/projections"
)

// testNow is the fixed clock of every test: a Tuesday, inside module 2 of
// the default catalog's CBT-for-anxiety cycle (entry closed until
// 2026-11-24).
var testNow = time.Date(2026, 11, 10, 15, 0, 0, 0, time.UTC)

// faultyStore is a real store with a switch that makes it unreachable,
// so the API's answer to an outage can be tested.
type faultyStore struct {
	eventstore.Store
	down atomic.Bool
}

func (f *faultyStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if f.down.Load() {
		return eventstore.AppendResult{}, eventstore.ErrUnavailable
	}
	return f.Store.Append(ctx, stream, expected, events...)
}

func (f *faultyStore) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if f.down.Load() {
		return nil, eventstore.ErrUnavailable
	}
	return f.Store.ReadStream(ctx, stream, opts)
}

func (f *faultyStore) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	if f.down.Load() {
		return nil, eventstore.ErrUnavailable
	}
	return f.Store.ReadAll(ctx, opts)
}

// stack is the whole application over an in-memory store: the real
// command service, projections runner, key store, web server and an HTTP
// server on loopback.
type stack struct {
	store  *faultyStore
	inner  eventstore.Store
	svc    *commands.Service
	runner *projections.Runner
	keys   *privacy.KeyStore
	server *Server
	http   *httptest.Server
	auth   *stackAuth
}

// stackOption adjusts the web configuration of a stack.
type stackOption func(*Config)

// newStack builds and starts a stack over an in-memory store with the
// default catalog seeded and the projections caught up.
func newStack(t testing.TB, opts ...stackOption) *stack {
	t.Helper()
	return newStackOn(t, memstore.New(), opts...)
}

// newStackOn builds and starts a stack over inner, which it closes.
func newStackOn(t testing.TB, inner eventstore.Store, opts ...stackOption) *stack {
	t.Helper()
	store := &faultyStore{Store: inner}
	clock := func() time.Time { return testNow }
	svc := commands.New(store, commands.WithClock(clock))
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	programs, groups := cat.Commands(testNow.Add(-24 * time.Hour))
	if _, err := svc.SeedCatalog(context.Background(), programs, groups); err != nil {
		t.Fatal(err)
	}
	runner, err := projections.New(projections.Options{Store: store, Location: time.UTC, Now: clock, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.OpenKeyStore(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	auth := newStackAuth(t, store, clock)
	cfg := Config{Commands: svc, Projections: runner, Keys: keys, Users: auth.users, Audit: auth.audit, Clock: clock, Location: time.UTC, Logger: discardLogger()}
	for _, o := range opts {
		o(&cfg)
	}
	server, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	removeListener := runner.Listen(server.ProjectionsChanged)
	ctx, cancel := context.WithCancel(context.Background())
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server)
	st := &stack{store: store, inner: inner, svc: svc, runner: runner, keys: keys, server: server, http: ts, auth: auth}
	stacksByURL.Store(ts.URL, auth)
	t.Cleanup(func() {
		stacksByURL.Delete(ts.URL)
		ts.Close()
		server.Close()
		removeListener()
		runner.Stop()
		cancel()
		keys.Close()
		inner.Close()
	})
	waitCtx, done := context.WithTimeout(ctx, 10*time.Second)
	defer done()
	if err := runner.WaitReady(waitCtx); err != nil {
		t.Fatalf("projections not ready: %v", err)
	}
	return st
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// reply is an HTTP answer with its decoded JSON body.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// errorCode, errorField and errorMessage read an error answer.
func (r reply) errorCode() string    { return r.errorPart("code") }
func (r reply) errorField() string   { return r.errorPart("field") }
func (r reply) errorMessage() string { return r.errorPart("message") }

func (r reply) errorPart(name string) string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e[name].(string)
	return s
}

// str reads a top-level string member.
func (r reply) str(name string) string {
	s, _ := r.body[name].(string)
	return s
}

// do sends a request with a raw body and headers. Unless the headers
// carry an Authorization (empty for none), it goes out with the token of
// a test user the route grants.
func (st *stack) do(t *testing.T, method, path string, body []byte, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, st.http.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if _, named := header["Authorization"]; !named {
		if user := userFor(method, path); user != anonymous {
			req.Header.Set("Authorization", st.auth.bearer(user))
		}
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := st.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, raw)
		}
	}
	return r
}

// post sends a command with a fresh idempotency key.
func (st *stack) post(t *testing.T, path string, body any) reply {
	t.Helper()
	return st.postKey(t, path, uuid.NewString(), body)
}

// postKey sends a command with the given idempotency key.
func (st *stack) postKey(t *testing.T, path, key string, body any) reply {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return st.do(t, http.MethodPost, path, b, map[string]string{"Content-Type": "application/json", IdempotencyHeader: key})
}

// mustPost sends a command that must be accepted and waits until the
// projections show it.
func (st *stack) mustPost(t *testing.T, path string, body any) reply {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	r := st.post(t, path+sep+"wait=1", body)
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		t.Fatalf("POST %s: status %d: %s", path, r.status, r.raw)
	}
	return r
}

// get sends a query.
func (st *stack) get(t *testing.T, path string) reply {
	t.Helper()
	return st.do(t, http.MethodGet, path, nil, nil)
}

// eventCount counts every event in the store, to prove refusals append nothing.
func (st *stack) eventCount(t *testing.T) int {
	t.Helper()
	events, err := st.inner.ReadAll(context.Background(), eventstore.ReadAllOptions{From: eventstore.Start})
	if err != nil {
		t.Fatal(err)
	}
	return len(events)
}

// refer refers a person by name and returns their patient ID.
func (st *stack) refer(t *testing.T, name string) string {
	t.Helper()
	r := st.mustPost(t, "/api/patients", map[string]any{"source": "access_line", "name": name, "dateOfBirth": "1980-04-02"})
	id := r.str("patient")
	if id == "" {
		t.Fatalf("referral answered no patient ID: %s", r.raw)
	}
	return id
}

// intake completes an adult's intake with primary care and an individual
// therapist on file, so most groups accept them.
func (st *stack) intake(t *testing.T, id string) {
	t.Helper()
	st.mustPost(t, "/api/patients/"+id+"/intake", map[string]any{
		"phq9": 14, "gad7": 11, "recommendedLevel": "php", "primaryCare": true, "individualTherapy": true, "ageYears": 34,
	})
}

// admitted refers, assesses and admits a person to PHP.
func (st *stack) admitted(t *testing.T, name string) string {
	t.Helper()
	id := st.refer(t, name)
	st.intake(t, id)
	st.mustPost(t, "/api/patients/"+id+"/admit", map[string]any{"program": "php", "level": "php"})
	return id
}
