package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain/catalog"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/privacy"
	"github.com/continuum-care/continuum/projections"
	"github.com/continuum-care/continuum/web"
)

// stackNow is the in-process stack's fixed clock: a Tuesday, so "the
// future" and the catalog's module windows are the same on every run.
var stackNow = time.Date(2026, 11, 10, 15, 0, 0, 0, time.UTC)

// clinicalStreams are the streams commands write; the audit and the users
// live in other streams, which reads and sign-ins may append to.
var clinicalStreams = &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{"patient-", "group-", "program-"}}

// stack is the web server in process over an in-memory store with the
// default catalog, a clinician and an admin, and one admitted person:
// what the fuzz target and the bad-input table send requests to.
type stack struct {
	handler http.Handler
	store   eventstore.Store
	// clinician and admin are the headers of each role's API token.
	clinician, admin http.Header
	// patient is an admitted person, for the routes that name one.
	patient string
}

// stackPassword is the test users' password (argon2id at test cost).
const stackPassword = "reliability test password"

// newStack builds and starts the stack; everything stops at cleanup.
func newStack(t testing.TB) *stack {
	t.Helper()
	ctx := context.Background()
	clock := func() time.Time { return stackNow }
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	svc := commands.New(store, commands.WithClock(clock))
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	programs, groups := cat.Commands(stackNow.Add(-24 * time.Hour))
	if _, err := svc.SeedCatalog(ctx, programs, groups); err != nil {
		t.Fatal(err)
	}
	runner, err := projections.New(projections.Options{Store: store, Location: time.UTC, Now: clock, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.OpenKeyStore(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	users, err := access.OpenDirectory(ctx, store, access.Options{Clock: clock, Logger: logger,
		Password: access.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(users.Close)
	st := &stack{store: store}
	for _, u := range []struct {
		role   access.Role
		header *http.Header
	}{{access.Clinician, &st.clinician}, {access.Admin, &st.admin}} {
		name := "reliability-" + u.role.String()
		if err := users.AddUser(ctx, "reliability", access.NewUser{Name: name, Role: u.role, Password: stackPassword}); err != nil {
			t.Fatal(err)
		}
		_, token, err := users.IssueToken(ctx, "reliability", name, "reliability tests", 0)
		if err != nil {
			t.Fatal(err)
		}
		*u.header = http.Header{"Authorization": {"Bearer " + token}}
	}
	server, err := web.New(web.Config{Commands: svc, Projections: runner, Keys: keys, Clock: clock, Location: time.UTC, Logger: logger,
		Users: users, Audit: access.NewAudit(store, clock)})
	if err != nil {
		t.Fatal(err)
	}
	removeListener := runner.Listen(server.ProjectionsChanged)
	runCtx, cancel := context.WithCancel(ctx)
	if err := runner.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		server.Close()
		removeListener()
		runner.Stop()
		cancel()
	})
	st.handler = server
	st.patient = st.admitted(t)
	return st
}

// admitted refers, assesses and admits a person through the API.
func (st *stack) admitted(t testing.TB) string {
	t.Helper()
	r := st.post(t, "/api/patients", st.clinician, []byte(`{"source":"self","name":"Fuzz Seed"}`))
	var a commandAnswer
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &a) != nil {
		t.Fatalf("referral: %d %s", r.status, r.body)
	}
	for _, step := range []struct{ path, body string }{
		{"/intake", `{"phq9":16,"gad7":12,"recommendedLevel":"php","primaryCare":true,"individualTherapy":true,"ageYears":34}`},
		{"/admit", `{"program":"php","level":"php"}`},
	} {
		if r := st.post(t, "/api/patients/"+a.Patient+step.path, st.clinician, []byte(step.body)); r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", step.path, r.status, r.body)
		}
	}
	return a.Patient
}

// post sends a JSON command with a fresh idempotency key.
func (st *stack) post(t testing.TB, path string, auth http.Header, body []byte) response {
	t.Helper()
	return st.send(http.MethodPost, path, auth, http.Header{"Content-Type": {"application/json"}}, body)
}

// send serves one request, with the given credentials, headers (a fresh
// idempotency key unless they hold one) and body.
func (st *stack) send(method, path string, auth, header http.Header, body []byte) response {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set(web.IdempotencyHeader, uuid.NewString())
	for k, v := range auth {
		req.Header[k] = v
	}
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	st.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// lastClinical is the position of the newest event in a clinical stream.
func (st *stack) lastClinical(t testing.TB) eventstore.Position {
	t.Helper()
	events, err := st.store.ReadAll(context.Background(), eventstore.ReadAllOptions{
		Direction: eventstore.Backwards, From: eventstore.End, Max: 1, Filter: clinicalStreams})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 {
		return eventstore.Start
	}
	return events[0].Position
}
