package reliability

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/continuum-care/continuum/web"
)

// The users the process-level tests act as. serve creates the admin from
// --admin-password-file on a store without one; the admin adds the
// clinician, who records the clinical commands.
const (
	adminName     = "admin"
	adminPassword = "reliability admin password"
	clinicianName = "reliability-clinician"
	// clinicianPassword is never used to sign in (the clinician works with
	// a token) but a user needs one.
	clinicianPassword = "reliability clinician password"
)

// adminPasswordFile writes the admin's password where serve can read it.
func adminPasswordFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "admin-password")
	if err := os.WriteFile(path, []byte(adminPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// roleHeaders are the Authorization headers of each role the tests use.
type roleHeaders struct {
	// clinician records commands and reads the census and the websocket.
	clinician http.Header
	// admin changes the catalog.
	admin http.Header
}

// credentials is the one place that knows how to get through the server's
// access control: it signs in as the admin, adds the clinician (once per
// store: on a restart the user is there already), issues both an API
// token and signs out. Sign-ins and user changes are appended to the
// audit and user streams, never to the clinical ones the tests check.
func credentials(t testing.TB, s *server) roleHeaders {
	t.Helper()
	ctx := context.Background()
	send := func(method, path string, header http.Header, body any) response {
		t.Helper()
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{"Content-Type": {"application/json"}}
		for k, v := range header {
			h[k] = v
		}
		r, err := s.api.do(ctx, method, path, b, h)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return r
	}
	signIn := send(http.MethodPost, "/api/auth/signin", nil, map[string]string{"name": adminName, "password": adminPassword})
	var session struct {
		CSRFToken string `json:"csrfToken"`
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: signIn.header}).Cookies() {
		if c.Name == web.SessionCookie {
			cookie = c
		}
	}
	if signIn.status != http.StatusOK || json.Unmarshal(signIn.body, &session) != nil || cookie == nil {
		t.Fatalf("signing in as the admin: %d %s", signIn.status, signIn.body)
	}
	asAdmin := http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}, web.CSRFHeader: {session.CSRFToken}}

	added := send(http.MethodPost, "/api/users", asAdmin, map[string]string{"name": clinicianName, "role": "clinician", "password": clinicianPassword})
	if e, _ := added.refusal(); added.status != http.StatusCreated && e.Code != "user_exists" {
		t.Fatalf("adding the clinician: %d %s", added.status, added.body)
	}
	token := func(user string) http.Header {
		t.Helper()
		r := send(http.MethodPost, "/api/users/"+user+"/tokens", asAdmin, map[string]string{"label": "reliability tests"})
		var issued struct {
			Token string `json:"token"`
		}
		if r.status != http.StatusCreated || json.Unmarshal(r.body, &issued) != nil || issued.Token == "" {
			t.Fatalf("issuing %s a token: %d %s", user, r.status, r.body)
		}
		return http.Header{"Authorization": {"Bearer " + issued.Token}}
	}
	headers := roleHeaders{clinician: token(clinicianName), admin: token(adminName)}
	if r := send(http.MethodPost, "/api/auth/signout", asAdmin, struct{}{}); r.status/100 != 2 {
		t.Fatalf("signing the admin out: %d %s", r.status, r.body)
	}
	return headers
}
