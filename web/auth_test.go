package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/continuum-care/continuum/access"
)

// TestEveryRouteHasAGrant checks the one table against the routes: a
// route without a grant would make New fail, so a new route is never
// served to everyone by default.
func TestEveryRouteHasAGrant(t *testing.T) {
	st := newStack(t)
	patterns := []string{"GET " + metricsPath, "GET " + BackupPath}
	for _, rt := range st.server.routes(nil) {
		patterns = append(patterns, rt.method+" "+rt.pattern)
	}
	for _, p := range patterns {
		if _, ok := routeGrants[p]; !ok {
			t.Errorf("route %s has no grant", p)
		}
	}
	if _, err := st.server.guard("GET /api/ungranted", http.NotFoundHandler()); err == nil {
		t.Fatal("a route without a grant was accepted")
	}
}

// TestRolesOverHTTP is what each role can and cannot see or do over HTTP.
func TestRolesOverHTTP(t *testing.T) {
	st := newStack(t, func(c *Config) { c.Backup = failingBackuper{} })
	patient := st.admitted(t, "Rhea Roles")
	st.mustPost(t, "/api/groups/php-process/join", map[string]any{"patient": patient})
	refer := map[string]any{"source": "self", "name": "Nell Newcomer"}
	program := map[string]any{"id": "roles-program", "name": "Roles program", "level": "iop", "capacity": 10}
	type call struct {
		method, path string
		body         any
	}
	calls := map[string]call{
		"census":         {"GET", "/api/census", nil},
		"group list":     {"GET", "/api/groups", nil},
		"program list":   {"GET", "/api/programs", nil},
		"catalog":        {"GET", "/api/catalog", nil},
		"patient list":   {"GET", "/api/patients", nil},
		"journey":        {"GET", "/api/patients/" + patient, nil},
		"roster":         {"GET", "/api/groups/php-process", nil},
		"refer":          {"POST", "/api/patients", refer},
		"measure":        {"POST", "/api/patients/" + patient + "/measures", map[string]any{"instrument": "phq9", "score": 9}},
		"define program": {"POST", "/api/programs", program},
		"users":          {"GET", "/api/users", nil},
		"audit":          {"GET", "/api/audit", nil},
		"erase":          {"POST", "/api/patients/00000000-0000-4000-8000-000000000000/erase", nil},
		"backup":         {"GET", BackupPath, nil},
		"session":        {"GET", "/api/auth/session", nil},
		"health":         {"GET", "/healthz", nil},
		"api document":   {"GET", "/api/openapi.json", nil},
	}
	const (
		ok       = http.StatusOK
		created  = http.StatusCreated
		refused  = http.StatusForbidden
		noCred   = http.StatusUnauthorized
		notFound = http.StatusNotFound
		down     = http.StatusServiceUnavailable // the backup fails at its first byte here
	)
	tests := []struct {
		name string
		user string
		want map[string]int
	}{
		{name: "director: aggregates only", user: directorUser, want: map[string]int{
			"census": ok, "group list": ok, "program list": ok, "catalog": ok, "session": ok,
			"patient list": refused, "journey": refused, "roster": refused, "refer": refused, "measure": refused,
			"define program": refused, "users": refused, "audit": refused, "erase": refused, "backup": refused}},
		{name: "clinician: patients and commands", user: clinicianUser, want: map[string]int{
			"census": ok, "patient list": ok, "journey": ok, "roster": ok, "refer": created, "measure": created,
			"define program": refused, "users": refused, "audit": refused, "erase": refused, "backup": refused}},
		{name: "analyst: de-identified only", user: analystUser, want: map[string]int{
			"census": ok, "catalog": ok,
			"patient list": refused, "journey": refused, "roster": refused, "refer": refused, "measure": refused,
			"define program": refused, "users": refused, "audit": refused, "erase": refused, "backup": refused}},
		{name: "admin: users, catalog, erasure, backup, audit; no records", user: adminUser, want: map[string]int{
			"census": ok, "define program": created, "users": ok, "audit": ok, "erase": notFound, "backup": down,
			"patient list": refused, "journey": refused, "roster": refused, "refer": refused, "measure": refused}},
		{name: "nobody signed in", user: anonymous, want: map[string]int{
			"health": ok, "api document": ok,
			"census": noCred, "patient list": noCred, "journey": noCred, "refer": noCred, "users": noCred,
			"audit": noCred, "backup": noCred, "session": noCred, "erase": noCred}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for what, want := range tc.want {
				c := calls[what]
				r := st.as(t, tc.user, c.method, c.path, c.body)
				if r.status != want {
					t.Errorf("%s (%s %s): status %d, want %d: %s", what, c.method, c.path, r.status, want, r.raw)
				}
				if r.status == refused && r.errorCode() != "forbidden_for_role" {
					t.Errorf("%s: refused with %q, want forbidden_for_role", what, r.errorCode())
				}
				if r.status == noCred && r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: 401 without WWW-Authenticate", what)
				}
			}
		})
	}
	// What the director does see carries no person: no ID, no name.
	for _, path := range []string{"/api/census", "/api/groups", "/api/programs"} {
		r := st.as(t, directorUser, "GET", path, nil)
		if strings.Contains(string(r.raw), patient) || strings.Contains(string(r.raw), "Rhea") {
			t.Errorf("the director's %s names a person: %s", path, r.raw)
		}
	}
}

// TestRolesOverWebsockets is which topics each role may follow.
func TestRolesOverWebsockets(t *testing.T) {
	st := newStack(t)
	php := st.admitted(t, "Wes Socket")
	iop := st.admittedTo(t, "Ivy Elsewhere", "iop-morning", "iop")
	tests := []struct {
		name, user, topic, want string
	}{
		{name: "director: census", user: directorUser, topic: "census", want: "snapshot"},
		{name: "director: no roster", user: directorUser, topic: "group:php-process", want: "forbidden_for_role"},
		{name: "director: no patient", user: directorUser, topic: "patient:" + php, want: "forbidden_for_role"},
		{name: "analyst: census", user: analystUser, topic: "census", want: "snapshot"},
		{name: "analyst: no patient", user: analystUser, topic: "patient:" + php, want: "forbidden_for_role"},
		{name: "admin: no patient", user: adminUser, topic: "patient:" + php, want: "forbidden_for_role"},
		{name: "clinician: roster", user: clinicianUser, topic: "group:php-process", want: "snapshot"},
		{name: "clinician: any patient", user: clinicianUser, topic: "patient:" + iop, want: "snapshot"},
		{name: "PHP clinician: a PHP patient", user: phpClinicianUser, topic: "patient:" + php, want: "snapshot"},
		{name: "PHP clinician: an IOP patient", user: phpClinicianUser, topic: "patient:" + iop, want: "outside_your_programs"},
		{name: "PHP clinician: an IOP roster", user: phpClinicianUser, topic: "group:iop-morning-skills", want: "outside_your_programs"},
		{name: "PHP clinician: an open group", user: phpClinicianUser, topic: "group:alumni-support", want: "snapshot"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn := st.dialAs(t, tc.user)
			subscribe(t, conn, tc.topic, "")
			f := next(t, conn)
			got := f.Type
			if f.Type == "error" {
				got = f.Error.Code
			}
			if got != tc.want || f.Topic != tc.topic {
				t.Fatalf("got %s about %q, want %s", got, f.Topic, tc.want)
			}
		})
	}
	t.Run("no credential, no websocket", func(t *testing.T) {
		_, resp, err := dialRaw(st, http.Header{"Authorization": {""}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("dial without a credential: %v, %v; want 401", err, resp)
		}
	})
	t.Run("signing out closes the connections it opened, and only those", func(t *testing.T) {
		_, token, conn := tokenSocket(t, st)
		other := st.dialAs(t, clinicianUser)
		subscribe(t, other, "census", "")
		expect(t, other, "snapshot", "census")
		r := st.do(t, "POST", "/api/auth/signout", nil, map[string]string{"Authorization": "Bearer " + token})
		if r.status != http.StatusOK {
			t.Fatalf("sign-out: %d %s", r.status, r.raw)
		}
		expectClosed(t, conn, websocket.ClosePolicyViolation)
		subscribe(t, other, "patient:"+php, "")
		expect(t, other, "snapshot", "patient:"+php)
	})
}

// tokenSocket issues a clinician a token of its own and opens a websocket
// with it that follows the census.
func tokenSocket(t *testing.T, st *stack) (access.Identity, string, *websocket.Conn) {
	t.Helper()
	issued, token, err := st.auth.users.IssueToken(context.Background(), "setup", clinicianUser, "one socket", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	conn := dialWS(t, st.http.URL, http.Header{"Authorization": {"Bearer " + token}})
	subscribe(t, conn, "census", "")
	expect(t, conn, "snapshot", "census")
	return issued, token, conn
}

// expectClosed reads until the server's close frame and checks its code.
func expectClosed(t *testing.T, conn *websocket.Conn, code int) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(frameWait))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue // a frame queued before the close
		}
		if !websocket.IsCloseError(err, code) {
			t.Fatalf("connection ended with %v, want close code %d", err, code)
		}
		return
	}
}

// TestRevokedCredentialClosesItsWebsocket revokes a token without the
// connection's server knowing (as another replica would): the writer's
// check at the next ping closes the connection.
func TestRevokedCredentialClosesItsWebsocket(t *testing.T) {
	st := newStack(t, func(c *Config) { c.Hub.PingInterval = 50 * time.Millisecond })
	issued, _, conn := tokenSocket(t, st)
	if err := st.auth.users.Revoke(context.Background(), "setup", clinicianUser, issued.Credential); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, conn, websocket.ClosePolicyViolation)
}

// TestProgramLimitedClinician keeps a clinician assigned to PHP to PHP's
// people and groups, and people not yet admitted anywhere.
func TestProgramLimitedClinician(t *testing.T) {
	st := newStack(t)
	php := st.admitted(t, "Pia Phpson")
	iop := st.admittedTo(t, "Ivo Iopson", "iop-morning", "iop")
	waiting := st.refer(t, "Wren Waiting")
	st.mustPost(t, "/api/groups/alumni-support/join", map[string]any{"patient": php})
	st.mustPost(t, "/api/groups/alumni-support/join", map[string]any{"patient": iop})
	measure := map[string]any{"instrument": "phq9", "score": 7}
	tests := []struct {
		name, method, path string
		body               any
		want               int
	}{
		{name: "a PHP person's page", method: "GET", path: "/api/patients/" + php, want: http.StatusOK},
		{name: "an IOP person's page", method: "GET", path: "/api/patients/" + iop, want: http.StatusForbidden},
		{name: "a person not yet admitted", method: "GET", path: "/api/patients/" + waiting, want: http.StatusOK},
		{name: "a measure for a PHP person", method: "POST", path: "/api/patients/" + php + "/measures", body: measure, want: http.StatusCreated},
		{name: "a measure for an IOP person", method: "POST", path: "/api/patients/" + iop + "/measures", body: measure, want: http.StatusForbidden},
		{name: "an admission elsewhere", method: "POST", path: "/api/patients/" + waiting + "/intake",
			body: map[string]any{"phq9": 10, "gad7": 8, "recommendedLevel": "iop", "ageYears": 40}, want: http.StatusOK},
		{name: "admitting to IOP", method: "POST", path: "/api/patients/" + waiting + "/admit", body: map[string]any{"program": "iop-morning", "level": "iop"}, want: http.StatusForbidden},
		{name: "an IOP group's roster", method: "GET", path: "/api/groups/iop-morning-skills", want: http.StatusForbidden},
		{name: "seating an IOP person", method: "POST", path: "/api/groups/php-process/join", body: map[string]any{"patient": iop}, want: http.StatusForbidden},
		{name: "seating a PHP person", method: "POST", path: "/api/groups/php-process/join", body: map[string]any{"patient": php}, want: http.StatusOK},
		{name: "admitting to PHP", method: "POST", path: "/api/patients/" + waiting + "/admit", body: map[string]any{"program": "php", "level": "php"}, want: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := st.eventCount(t)
			r := st.as(t, phpClinicianUser, tc.method, tc.path, tc.body)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.raw)
			}
			if r.status == http.StatusForbidden {
				if r.errorCode() != "outside_your_programs" {
					t.Fatalf("refused with %q", r.errorCode())
				}
				if st.eventCount(t) != before {
					t.Fatal("a refused request appended events")
				}
			}
		})
	}
	t.Run("the list holds only people in scope", func(t *testing.T) {
		total, rows := patientsOf(t, st.as(t, phpClinicianUser, "GET", "/api/patients", nil))
		ids := map[string]bool{}
		for _, row := range rows {
			ids[row["patient"].(string)] = true
		}
		if ids[iop] || !ids[php] || !ids[waiting] || total != len(rows) {
			t.Fatalf("list %v (total %d): want the PHP and admitted-to-PHP people, not the IOP one", ids, total)
		}
		if _, rows := patientsOf(t, st.as(t, phpClinicianUser, "GET", "/api/patients?q=ivo", nil)); len(rows) != 0 {
			t.Fatalf("a search found a person out of scope: %v", rows)
		}
	})
	t.Run("an open group shows other programs' members without who they are", func(t *testing.T) {
		r := st.as(t, phpClinicianUser, "GET", "/api/groups/alumni-support", nil)
		if r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
		if strings.Contains(string(r.raw), iop) || strings.Contains(string(r.raw), "Ivo") || !strings.Contains(string(r.raw), "Pia Phpson") {
			t.Fatalf("roster: %s", r.raw)
		}
		members, _ := r.body["members"].([]any)
		restricted := 0
		for _, m := range members {
			if m.(map[string]any)["restricted"] == true {
				restricted++
			}
		}
		if len(members) != 2 || restricted != 1 {
			t.Fatalf("%d members, %d restricted; want 2 and 1", len(members), restricted)
		}
	})
}

// signIn signs a test user in through the API and answers the session
// cookie and the CSRF token.
func signIn(t *testing.T, st *stack, user string) (*http.Cookie, string) {
	t.Helper()
	r := st.as(t, anonymous, "POST", "/api/auth/signin", map[string]any{"name": user, "password": testPassword})
	if r.status != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.status, r.raw)
	}
	resp := http.Response{Header: r.header}
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			return c, r.str("csrfToken")
		}
	}
	t.Fatalf("sign-in set no session cookie: %v", r.header)
	return nil, ""
}

func TestSessionCookieAndCSRF(t *testing.T) {
	st := newStack(t)
	cookie, csrf := signIn(t, st, clinicianUser)
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.Secure || cookie.MaxAge <= 0 {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, an expiry, not Secure over plain HTTP", cookie)
	}
	if csrf == "" || strings.Contains(cookie.Value, csrf) {
		t.Fatalf("CSRF token %q", csrf)
	}
	withCookie := func(extra map[string]string) map[string]string {
		h := map[string]string{"Authorization": "", "Cookie": SessionCookie + "=" + cookie.Value,
			"Content-Type": "application/json", IdempotencyHeader: time.Now().Format(time.RFC3339Nano)}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	body := []byte(`{"source":"self","name":"Cass Csrf"}`)
	tests := []struct {
		name   string
		header map[string]string
		status int
		code   string
	}{
		{name: "no CSRF token", header: withCookie(nil), status: http.StatusForbidden, code: "csrf_token_invalid"},
		{name: "a wrong CSRF token", header: withCookie(map[string]string{CSRFHeader: strings.Repeat("x", len(csrf))}), status: http.StatusForbidden, code: "csrf_token_invalid"},
		{name: "the right token from a foreign page", header: withCookie(map[string]string{CSRFHeader: csrf, "Origin": "https://evil.example"}), status: http.StatusForbidden, code: "origin_not_allowed"},
		{name: "the right token", header: withCookie(map[string]string{CSRFHeader: csrf}), status: http.StatusCreated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := st.eventCount(t)
			r := st.do(t, "POST", "/api/patients", body, tc.header)
			if r.status != tc.status || r.errorCode() != tc.code {
				t.Fatalf("status %d code %q, want %d %q: %s", r.status, r.errorCode(), tc.status, tc.code, r.raw)
			}
			if tc.status >= 400 && st.eventCount(t) != before {
				t.Fatal("a refused request appended events")
			}
		})
	}
	t.Run("reads need no CSRF token", func(t *testing.T) {
		r := st.do(t, "GET", "/api/auth/session", nil, map[string]string{"Authorization": "", "Cookie": SessionCookie + "=" + cookie.Value})
		if r.status != http.StatusOK || r.str("user") != clinicianUser || r.str("role") != "clinician" || r.str("csrfToken") != csrf {
			t.Fatalf("session: %d %s", r.status, r.raw)
		}
	})
	t.Run("a session is not a bearer token", func(t *testing.T) {
		r := st.do(t, "GET", "/api/census", nil, map[string]string{"Authorization": "Bearer " + cookie.Value})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("sign-out ends the session", func(t *testing.T) {
		r := st.do(t, "POST", "/api/auth/signout", nil, withCookie(map[string]string{CSRFHeader: csrf}))
		if r.status != http.StatusOK || !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Fatalf("sign-out: %d %v", r.status, r.header)
		}
		if r := st.do(t, "GET", "/api/census", nil, withCookie(nil)); r.status != http.StatusUnauthorized {
			t.Fatalf("after sign-out: %d", r.status)
		}
	})
	t.Run("Secure behind a TLS proxy", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/api/auth/signin", strings.NewReader(`{"name":"cleo","password":"`+testPassword+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-Proto", "https")
		rec := httptest.NewRecorder()
		st.server.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Set-Cookie"), "Secure") {
			t.Fatalf("status %d, Set-Cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
		}
	})
}

func TestSignInIsAuditedAndThrottled(t *testing.T) {
	st := newStack(t)
	tests := []struct {
		name, user, password string
		status               int
		action               access.Action
		auditedUser, outcome string
	}{
		{name: "success", user: clinicianUser, password: testPassword, status: http.StatusOK, action: access.SignedIn, auditedUser: clinicianUser},
		{name: "wrong password", user: clinicianUser, password: "wrong password!", status: http.StatusUnauthorized,
			action: access.SignInFailed, auditedUser: clinicianUser, outcome: access.ReasonWrongPassword},
		// What was typed as a name is recorded only if it is a user's.
		{name: "unknown user", user: "my-secret-password", password: testPassword, status: http.StatusUnauthorized,
			action: access.SignInFailed, auditedUser: "", outcome: access.ReasonUnknownUser},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := st.as(t, anonymous, "POST", "/api/auth/signin", map[string]any{"name": tc.user, "password": tc.password})
			if r.status != tc.status {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			if tc.status != http.StatusOK && (r.errorCode() != "signin_failed" || r.header.Get("Set-Cookie") != "") {
				t.Fatalf("a failure answered %s with cookie %q", r.raw, r.header.Get("Set-Cookie"))
			}
			last := st.auditOf(t, access.Query{Action: tc.action})
			if len(last) == 0 {
				t.Fatal("not audited")
			}
			e := last[0]
			if e.User != tc.auditedUser || e.Outcome != tc.outcome || e.Remote != "127.0.0.1" || e.Route != "POST /api/auth/signin" {
				t.Fatalf("audited %+v", e.Entry)
			}
		})
	}
	t.Run("throttled after repeated failures", func(t *testing.T) {
		var r reply
		for range signInFailures + 1 {
			r = st.as(t, anonymous, "POST", "/api/auth/signin", map[string]any{"name": adminUser, "password": "guess guess guess"})
		}
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("attempt %d: %d %s", signInFailures+1, r.status, r.raw)
		}
		if r := st.as(t, anonymous, "POST", "/api/auth/signin", map[string]any{"name": adminUser, "password": testPassword}); r.status != http.StatusTooManyRequests {
			t.Fatalf("even the right password is refused while throttled: got %d", r.status)
		}
		if got := st.auditOf(t, access.Query{Action: access.SignInFailed, User: adminUser}); len(got) == 0 || got[0].Outcome != "throttled" {
			t.Fatalf("throttled attempts not audited: %+v", got)
		}
		// Another person behind the same address is not locked out.
		if r := st.as(t, anonymous, "POST", "/api/auth/signin", map[string]any{"name": directorUser, "password": testPassword}); r.status != http.StatusOK {
			t.Fatalf("another user from the same address: %d", r.status)
		}
	})
}

func TestBearerTokens(t *testing.T) {
	st := newStack(t)
	r := st.as(t, adminUser, "POST", "/api/users/"+analystUser+"/tokens", map[string]any{"label": "nightly", "ttlDays": 7})
	if r.status != http.StatusCreated {
		t.Fatalf("issuing: %d %s", r.status, r.raw)
	}
	token := r.str("token")
	cred, _ := r.body["credential"].(map[string]any)
	if token == "" || cred["id"] == "" || cred["label"] != "nightly" {
		t.Fatalf("answer %s", r.raw)
	}
	bearer := map[string]string{"Authorization": "Bearer " + token}
	if r := st.do(t, "GET", "/api/census", nil, bearer); r.status != http.StatusOK {
		t.Fatalf("the token does not work: %d", r.status)
	}
	if r := st.do(t, "GET", "/api/patients", nil, bearer); r.status != http.StatusForbidden {
		t.Fatalf("the analyst's token reached the patient list: %d", r.status)
	}
	// Only the hash is kept: the listing never shows the token.
	if r := st.as(t, adminUser, "GET", "/api/users", nil); strings.Contains(string(r.raw), token) || !strings.Contains(string(r.raw), cred["id"].(string)) {
		t.Fatalf("listing: %s", r.raw)
	}
	if r := st.as(t, adminUser, "DELETE", "/api/users/"+analystUser+"/tokens/"+cred["id"].(string), nil); r.status != http.StatusOK {
		t.Fatalf("revoking: %d %s", r.status, r.raw)
	}
	if r := st.do(t, "GET", "/api/census", nil, bearer); r.status != http.StatusUnauthorized {
		t.Fatalf("a revoked token still works: %d", r.status)
	}
	for _, header := range []string{"Basic YWRhbTpwdw==", "Bearer", "Bearer not-a-token"} {
		if r := st.do(t, "GET", "/api/census", nil, map[string]string{"Authorization": header}); r.status != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d", header, r.status)
		}
	}
}

// dialRaw dials the stack's websocket with header, answering the failure
// instead of failing the test.
func dialRaw(st *stack, header http.Header) (*websocket.Conn, *http.Response, error) {
	return websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(st.http.URL, "http")+"/ws", header)
}
