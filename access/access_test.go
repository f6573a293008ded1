package access

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
)

// cheapPasswords keeps tests fast; the production cost is measured, not
// asserted, in BenchmarkPasswordHash.
var cheapPasswords = PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}

const testPassword = "correct horse battery"

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)}
}

// openDirectory opens a directory over store, closed with the test.
func openDirectory(t *testing.T, store eventstore.Store, clock *fakeClock) *Directory {
	t.Helper()
	d, err := OpenDirectory(context.Background(), store, Options{Clock: clock.Now, Password: cheapPasswords})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// addUser adds a user with testPassword or fails the test.
func addUser(t *testing.T, d *Directory, name string, role Role, programs ...domain.ProgramID) {
	t.Helper()
	if err := d.AddUser(context.Background(), "setup", NewUser{Name: name, Role: role, Programs: programs, Password: testPassword}); err != nil {
		t.Fatalf("adding %s: %v", name, err)
	}
}

// eventually polls cond until it holds or fails the test after a bound
// that only guards against a hang.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s never happened", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := newHasher(cheapPasswords)
	if err != nil {
		t.Fatal(err)
	}
	a, err := h.hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.hash(testPassword)
	if a == b {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	if !strings.HasPrefix(a, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string with the parameters", a)
	}
	tests := []struct {
		name     string
		encoded  string
		password string
		want     bool
	}{
		{name: "right password", encoded: a, password: testPassword, want: true},
		{name: "wrong password", encoded: a, password: testPassword + "!", want: false},
		{name: "empty password", encoded: a, password: "", want: false},
		{name: "no hash", encoded: "", password: testPassword, want: false},
		{name: "truncated hash", encoded: a[:len(a)-10], password: testPassword, want: false},
		{name: "other algorithm", encoded: strings.Replace(a, "argon2id", "argon2i", 1), password: testPassword, want: false},
		{name: "absurd memory cost", encoded: strings.Replace(a, "m=64", "m=99999999", 1), password: testPassword, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.verify(tc.encoded, tc.password); got != tc.want {
				t.Fatalf("verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseUserNameAndRole(t *testing.T) {
	tests := []struct {
		name  string
		input string
		ok    bool
	}{
		{name: "plain", input: "dr.ames", ok: true},
		{name: "email-like", input: "j.doe@clinic.org", ok: true},
		{name: "empty", input: "", ok: false},
		{name: "uppercase", input: "Ames", ok: false},
		{name: "leading dot", input: ".ames", ok: false},
		{name: "space", input: "dr ames", ok: false},
		{name: "too long", input: strings.Repeat("a", 65), ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := ParseUserName(tc.input); (err == nil) != tc.ok {
				t.Fatalf("ParseUserName(%q) = %v, want ok=%v", tc.input, err, tc.ok)
			}
		})
	}
	for _, r := range Roles() {
		back, err := ParseRole(r.String())
		if err != nil || back != r {
			t.Errorf("role %v does not round-trip: %v, %v", r, back, err)
		}
	}
	if _, err := ParseRole("root"); err == nil {
		t.Error("ParseRole accepted root")
	}
}

func TestSignInIssuesASessionThatAuthenticates(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	d := openDirectory(t, store, clock)
	addUser(t, d, "ames", Clinician, "php", "iop")

	id, session, err := d.SignIn(ctx, "ames", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if id.User != "ames" || id.Role != Clinician || id.Kind != Session || len(id.Programs) != 2 {
		t.Fatalf("identity %+v", id)
	}
	if !strings.HasSuffix(session, ".ames") {
		t.Fatalf("credential %q does not name its user", session)
	}
	got, err := d.Authenticate(ctx, session, Session)
	if err != nil || got.User != "ames" || got.Credential != id.Credential {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	if _, err := d.Authenticate(ctx, session, Token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a session presented as a bearer token: %v, want ErrUnauthenticated", err)
	}

	// The store keeps the hash of the secret, never the secret.
	secret, _, _ := strings.Cut(session, ".")
	events, err := store.ReadStream(ctx, userStream("ames"), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if strings.Contains(string(e.Data), secret) || strings.Contains(string(e.Data), testPassword) {
			t.Fatalf("event %s holds a secret or the password: %s", e.Type, e.Data)
		}
	}

	clock.Advance(DefaultSessionTTL + time.Second)
	if _, err := d.Authenticate(ctx, session, Session); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("an expired session: %v, want ErrUnauthenticated", err)
	}
}

func TestSignInFailures(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	d := openDirectory(t, store, newClock())
	addUser(t, d, "ames", Clinician)
	addUser(t, d, "root", Admin)
	addUser(t, d, "gone", Analyst)
	disabled := true
	if err := d.ChangeUser(ctx, "root", "gone", UserChange{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, password, reason string
	}{
		{name: "unknown user", user: "nobody", password: testPassword, reason: ReasonUnknownUser},
		{name: "malformed name", user: "Robert'); DROP", password: testPassword, reason: ReasonUnknownUser},
		{name: "wrong password", user: "ames", password: "not the password", reason: ReasonWrongPassword},
		{name: "disabled user", user: "gone", password: testPassword, reason: ReasonDisabled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, cred, err := d.SignIn(ctx, tc.user, tc.password)
			var signInErr *SignInError
			if !errors.As(err, &signInErr) || signInErr.Reason != tc.reason || cred != "" {
				t.Fatalf("SignIn = %q, %v; want reason %s", cred, err, tc.reason)
			}
			if err.Error() != ErrBadCredentials.Error() {
				t.Fatalf("the message %q tells more than %q", err, ErrBadCredentials)
			}
		})
	}
}

func TestTokensRevocationAndDisabling(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	d := openDirectory(t, store, newClock())
	addUser(t, d, "root", Admin)
	addUser(t, d, "etl", Analyst)

	id, token, err := d.IssueToken(ctx, "root", "etl", "nightly export", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Authenticate(ctx, token, Token); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	if _, err := d.Authenticate(ctx, token, Session); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a token presented as a session cookie: %v", err)
	}
	info, _ := d.User("etl")
	if len(info.Credentials) != 1 || info.Credentials[0].ID != id.Credential || info.Credentials[0].Label != "nightly export" {
		t.Fatalf("credentials listed: %+v", info.Credentials)
	}
	if err := d.Revoke(ctx, "root", "etl", id.Credential); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Authenticate(ctx, token, Token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}
	if err := d.Revoke(ctx, "root", "etl", id.Credential); !errors.Is(err, ErrCredentialNotFound) {
		t.Fatalf("revoking twice: %v", err)
	}

	_, token, err = d.IssueToken(ctx, "root", "etl", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	disabled := true
	if err := d.ChangeUser(ctx, "root", "etl", UserChange{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Authenticate(ctx, token, Token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("token of a disabled user: %v", err)
	}
	if _, _, err := d.IssueToken(ctx, "root", "etl", "", time.Hour); !errors.Is(err, ErrUserDisabled) {
		t.Fatalf("issuing to a disabled user: %v", err)
	}
	for _, ttl := range []time.Duration{time.Second, MaxTokenTTL + time.Hour} {
		if _, _, err := d.IssueToken(ctx, "root", "root", "", ttl); !errors.Is(err, ErrInvalid) {
			t.Errorf("ttl %v: %v, want ErrInvalid", ttl, err)
		}
	}
}

func TestUserChangesKeepAnAdmin(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	d := openDirectory(t, store, newClock())
	if d.HasAdmin() {
		t.Fatal("an empty directory has an admin")
	}
	addUser(t, d, "root", Admin)
	if !d.HasAdmin() {
		t.Fatal("no admin after adding one")
	}
	clinician := Clinician
	disabled := true
	programs := []domain.ProgramID{"php"}
	tests := []struct {
		name   string
		change UserChange
		want   error
	}{
		{name: "demote the last admin", change: UserChange{Role: &clinician}, want: ErrLastAdmin},
		{name: "disable the last admin", change: UserChange{Disabled: &disabled}, want: ErrLastAdmin},
		{name: "programs for an admin", change: UserChange{Programs: &programs}, want: ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := d.ChangeUser(ctx, "root", "root", tc.change); !errors.Is(err, tc.want) {
				t.Fatalf("ChangeUser = %v, want %v", err, tc.want)
			}
		})
	}
	if err := d.AddUser(ctx, "root", NewUser{Name: "root", Role: Director, Password: testPassword}); !errors.Is(err, ErrUserExists) {
		t.Fatalf("adding a taken name: %v", err)
	}
	if err := d.AddUser(ctx, "root", NewUser{Name: "short", Role: Director, Password: "short"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a short password: %v", err)
	}
	addUser(t, d, "second", Admin)
	if err := d.ChangeUser(ctx, "second", "root", UserChange{Role: &clinician, Programs: &programs}); err != nil {
		t.Fatalf("demoting one of two admins: %v", err)
	}
	info, _ := d.User("root")
	if info.Role != Clinician || len(info.Programs) != 1 || info.Programs[0] != "php" {
		t.Fatalf("after the change: %+v", info)
	}
	if err := d.SetPassword(ctx, "second", "root", "another long password"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.SignIn(ctx, "root", testPassword); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("the old password still works: %v", err)
	}
	if _, _, err := d.SignIn(ctx, "root", "another long password"); err != nil {
		t.Fatalf("the new password: %v", err)
	}
}

// TestReplicasShareUsers runs two directories over one store, as two
// server replicas over one KurrentDB: what one writes, the other applies.
func TestReplicasShareUsers(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	clock := newClock()
	a := openDirectory(t, store, clock)
	addUser(t, a, "root", Admin)
	b := openDirectory(t, store, clock)
	if _, ok := b.User("root"); !ok {
		t.Fatal("a directory opened later does not load existing users")
	}

	// A session issued by one replica works on the other at once, even
	// before the other's feed delivers it.
	_, session, err := a.SignIn(ctx, "root", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, session, Session); err != nil {
		t.Fatalf("the other replica: %v", err)
	}
	// A user added on one replica appears on the other through the feed.
	addUser(t, a, "ames", Clinician)
	eventually(t, "the other replica sees the new user", func() bool { _, ok := b.User("ames"); return ok })
	// A sign-out on one replica ends the session on the other.
	id, _ := a.Authenticate(ctx, session, Session)
	if err := a.Revoke(ctx, "root", "root", id.Credential); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the other replica ends the session", func() bool {
		_, err := b.Authenticate(ctx, session, Session)
		return errors.Is(err, ErrUnauthenticated)
	})
}

func TestAuthenticateRefusesMalformedCredentials(t *testing.T) {
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	d := openDirectory(t, store, newClock())
	addUser(t, d, "root", Admin)
	for _, cred := range []string{"", "root", ".root", "abc.root", strings.Repeat("A", 43) + ".Root", strings.Repeat("A", 43) + ".root"} {
		if _, err := d.Authenticate(context.Background(), cred, Token); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("credential %q: %v, want ErrUnauthenticated", cred, err)
		}
	}
}

func TestCSRFTokenIsBoundToTheSession(t *testing.T) {
	a, _, _ := newSecret("ames")
	b, _, _ := newSecret("ames")
	if CSRFToken(a) == CSRFToken(b) || CSRFToken(a) != CSRFToken(a) {
		t.Fatal("CSRF tokens are not a function of the session")
	}
	secret, _, _ := strings.Cut(a, ".")
	if strings.Contains(CSRFToken(a), secret) {
		t.Fatal("the CSRF token reveals the session secret")
	}
}

func TestAuditRecordsAndQueries(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	clock := newClock()
	audit := NewAudit(store, clock.Now)
	p1, p2 := "5f0c7a8e-1111-4a4a-8b8b-000000000001", "5f0c7a8e-1111-4a4a-8b8b-000000000002"
	entries := []Entry{
		{Action: SignedIn, User: "ames", Role: Clinician, Remote: "10.0.0.7"},
		{Action: PatientsListed, User: "ames", Role: Clinician, Route: "GET /api/patients", Patients: []string{p1, p2}},
		{Action: PatientViewed, User: "ames", Role: Clinician, Route: "GET /api/patients/{id}", Patients: []string{p1}},
		{Action: PersonErased, User: "root", Role: Admin, Patients: []string{p2}},
	}
	for _, e := range entries {
		clock.Advance(time.Hour) // crosses into the next UTC day's stream
		if err := audit.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := audit.Record(ctx, Entry{Action: "Deleted"}); err == nil {
		t.Fatal("an unknown action was recorded")
	}
	tests := []struct {
		name string
		q    Query
		want []Action
	}{
		{name: "everything, newest first", q: Query{}, want: []Action{PersonErased, PatientViewed, PatientsListed, SignedIn}},
		{name: "one patient", q: Query{Patient: p1}, want: []Action{PatientViewed, PatientsListed}},
		{name: "the other patient", q: Query{Patient: p2}, want: []Action{PersonErased, PatientsListed}},
		{name: "one user", q: Query{User: "root"}, want: []Action{PersonErased}},
		{name: "one action", q: Query{Action: SignedIn}, want: []Action{SignedIn}},
		{name: "limited", q: Query{Limit: 1}, want: []Action{PersonErased}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := audit.Query(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var actions []Action
			for _, r := range got {
				actions = append(actions, r.Action)
				if r.ID == "" || r.At.IsZero() {
					t.Errorf("record without ID or time: %+v", r)
				}
			}
			if strings.Join(toStrings(actions), ",") != strings.Join(toStrings(tc.want), ",") {
				t.Fatalf("got %v, want %v", actions, tc.want)
			}
		})
	}
}

// TestAuditQueryPages reads more records than one page holds.
func TestAuditQueryPages(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	audit := NewAudit(store, newClock().Now)
	const n = auditPage + 10
	for i := range n {
		patient := "5f0c7a8e-1111-4a4a-8b8b-000000000001"
		if i%2 == 1 {
			patient = "5f0c7a8e-1111-4a4a-8b8b-000000000002"
		}
		if err := audit.Record(ctx, Entry{Action: PatientViewed, User: "ames", Patients: []string{patient}}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := audit.Query(ctx, Query{Limit: MaxQueryLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("read %d records, want %d", len(all), n)
	}
	seen := map[string]bool{}
	for _, r := range all {
		if seen[r.ID] {
			t.Fatalf("record %s read twice across pages", r.ID)
		}
		seen[r.ID] = true
	}
	one, err := audit.Query(ctx, Query{Patient: "5f0c7a8e-1111-4a4a-8b8b-000000000002", Limit: MaxQueryLimit})
	if err != nil || len(one) != n/2 {
		t.Fatalf("one patient's records: %d, %v; want %d", len(one), err, n/2)
	}
}

func toStrings(as []Action) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = string(a)
	}
	return out
}

// BenchmarkPasswordHash measures a sign-in's hashing at the production cost.
func BenchmarkPasswordHash(b *testing.B) {
	h, err := newHasher(DefaultPasswordParams)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := h.hash(testPassword); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStreamsAreOutOfTheCommandsReach: the command API writes only the
// domain's patient, group and program streams, whose prefixes neither the
// users' nor the audit's streams share, so no command can write or
// overwrite them.
func TestStreamsAreOutOfTheCommandsReach(t *testing.T) {
	for _, ours := range []string{UserStreamPrefix, AuditStreamPrefix} {
		for _, theirs := range []string{domain.PatientStreamPrefix, domain.GroupStreamPrefix, domain.ProgramStreamPrefix} {
			if strings.HasPrefix(ours, theirs) || strings.HasPrefix(theirs, ours) {
				t.Errorf("%q and the domain's %q overlap", ours, theirs)
			}
		}
	}
	if got := auditStream(time.Date(2026, 11, 10, 23, 59, 0, 0, time.FixedZone("UTC-5", -5*3600))); got != "audit-2026-11-11" {
		t.Errorf("audit stream %q, want the UTC day's", got)
	}
}
