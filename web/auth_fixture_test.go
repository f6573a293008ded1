package web

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/projections"
)

// testPassword is every test user's password.
const testPassword = "a long test password"

// The users of every test stack: one per role, and a clinician limited to
// the PHP program.
const (
	directorUser     = "dana"
	clinicianUser    = "cleo"
	analystUser      = "ana"
	adminUser        = "adam"
	phpClinicianUser = "lim"
	phpProgram       = domain.ProgramID("php")
	anonymous        = "" // as the user of a request: no credential at all
)

var testUsers = []access.NewUser{
	{Name: directorUser, Role: access.Director},
	{Name: clinicianUser, Role: access.Clinician},
	{Name: analystUser, Role: access.Analyst},
	{Name: adminUser, Role: access.Admin},
	{Name: phpClinicianUser, Role: access.Clinician, Programs: []domain.ProgramID{phpProgram}},
}

// defaultUserByRole is who a request goes out as when a test names nobody:
// the first of these the route grants.
var defaultUserByRole = []string{clinicianUser, adminUser, directorUser, analystUser}

// stackAuth is a stack's users, their API tokens and the audit.
type stackAuth struct {
	users  *access.Directory
	audit  *access.Audit
	tokens map[string]string
}

// newStackAuth adds the test users to store and issues each a token.
func newStackAuth(t testing.TB, store eventstore.Store, clock func() time.Time) *stackAuth {
	t.Helper()
	ctx := context.Background()
	users, err := access.OpenDirectory(ctx, store, access.Options{Clock: clock, Password: access.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(users.Close)
	a := &stackAuth{users: users, audit: access.NewAudit(store, clock), tokens: map[string]string{}}
	for _, u := range testUsers {
		u.Password = testPassword
		if err := users.AddUser(ctx, "setup", u); err != nil {
			t.Fatal(err)
		}
		_, token, err := users.IssueToken(ctx, "setup", u.Name, "tests", 0)
		if err != nil {
			t.Fatal(err)
		}
		a.tokens[u.Name] = token
	}
	return a
}

// userFor picks the test user a request goes out as when the test names
// none: one the route grants, or nobody for a public or unknown route.
func userFor(method, path string) string {
	req, err := http.NewRequest(method, path, nil)
	if err != nil {
		return anonymous
	}
	_, pattern := grantMux().Handler(req)
	g, ok := routeGrants[pattern]
	if !ok || g.public {
		return anonymous
	}
	for _, name := range defaultUserByRole {
		i := slices.IndexFunc(testUsers, func(u access.NewUser) bool { return u.Name == name })
		if g.allows(testUsers[i].Role) {
			return name
		}
	}
	return anonymous
}

// grantMux matches a request to its pattern in routeGrants.
var grantMux = sync.OnceValue(func() *http.ServeMux {
	mux := http.NewServeMux()
	for pattern := range routeGrants {
		mux.Handle(pattern, http.NotFoundHandler())
	}
	return mux
})

// stacksByURL finds a running stack's users by its URL, for helpers that
// get only the URL (dialWS).
var stacksByURL sync.Map

// bearer is the Authorization header of a test user's token.
func (a *stackAuth) bearer(user string) string {
	return "Bearer " + a.tokens[user]
}

// allowAllTopics is the gate of a hub served without the server around it.
func allowAllTopics(string) error { return nil }

// getAs sends a GET as one of the test users and answers the raw
// response, for answers that are not JSON (a backup).
func (st *stack) getAs(t *testing.T, user, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, st.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", st.auth.bearer(user))
	resp, err := st.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// settle waits until the projections have considered every event in the
// store, audit entries included, so positions stop moving.
func (st *stack) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		last, err := st.inner.ReadAll(context.Background(), eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End, Max: 1, Filter: projections.ClinicalStreams()})
		if err != nil {
			t.Fatal(err)
		}
		if len(last) == 0 || !st.runner.Position().Less(last[0].Position) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the projections never reached the store's last event")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// as sends a request as a test user (anonymous for none) with a JSON body
// when body is not nil; commands get a fresh idempotency key.
func (st *stack) as(t *testing.T, user, method, path string, body any) reply {
	t.Helper()
	header := map[string]string{"Authorization": ""}
	if user != anonymous {
		header["Authorization"] = st.auth.bearer(user)
	}
	var raw []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		raw = b
		header["Content-Type"] = "application/json"
		header[IdempotencyHeader] = uuid.NewString()
	}
	return st.do(t, method, path, raw, header)
}

// auditOf reads the audit straight from the store, newest first.
func (st *stack) auditOf(t *testing.T, q access.Query) []access.Record {
	t.Helper()
	q.Limit = access.MaxQueryLimit
	records, err := st.auth.audit.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return records
}

// dialAs opens a websocket to the stack as a test user.
func (st *stack) dialAs(t *testing.T, user string) *websocket.Conn {
	t.Helper()
	return dialWS(t, st.http.URL, http.Header{"Authorization": {st.auth.bearer(user)}})
}

// admittedTo refers, assesses and admits a person to a program at its level.
func (st *stack) admittedTo(t *testing.T, name, program, level string) string {
	t.Helper()
	id := st.refer(t, name)
	st.intake(t, id)
	st.mustPost(t, "/api/patients/"+id+"/admit", map[string]any{"program": program, "level": level})
	return id
}
