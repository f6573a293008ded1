package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The users every test data directory gets before serve starts, created
// offline through the command line as an operator would.
const (
	testAdmin     = "root"
	testClinician = "cleo"
	testPassword  = "a long test password"
)

// testCredentials are a data directory's users' API tokens.
type testCredentials struct {
	adminToken, clinicianToken string
	// adminTokenFile holds the admin's token, for --token-file.
	adminTokenFile string
}

// credentialsByDir keeps a directory's tokens across restarts;
// credentialsByHost finds them from a request's URL.
var credentialsByDir, credentialsByHost sync.Map

// prepareUsers gives dir an admin and a clinician with tokens, unless it
// has them already, and answers their credentials.
func prepareUsers(t *testing.T, dir string) *testCredentials {
	t.Helper()
	if c, ok := credentialsByDir.Load(dir); ok {
		return c.(*testCredentials)
	}
	passwordFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(passwordFile, []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	token := func(user, role string) string {
		t.Helper()
		// A directory restored from a backup has its users already.
		if code, _, stderr := runCommand(t, "users", "add", "--data", dir, "--name", user, "--role", role, "--password-file", passwordFile); code != 0 && !strings.Contains(stderr, "exists") {
			t.Fatalf("users add %s: exit %d: %s", user, code, stderr)
		}
		code, stdout, stderr := runCommand(t, "token", "create", "--data", dir, "--user", user, "--label", "tests")
		if code != 0 {
			t.Fatalf("token create %s: exit %d: %s", user, code, stderr)
		}
		return strings.TrimSpace(stdout)
	}
	c := &testCredentials{adminToken: token(testAdmin, "admin"), clinicianToken: token(testClinician, "clinician")}
	c.adminTokenFile = filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(c.adminTokenFile, []byte(c.adminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	credentialsByDir.Store(dir, c)
	return c
}

// credentialsFor answers the credentials of the server at base (a URL or
// HOST:PORT).
func credentialsFor(t *testing.T, base string) *testCredentials {
	t.Helper()
	host := strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
	c, ok := credentialsByHost.Load(strings.TrimSuffix(host, "/"))
	if !ok {
		t.Fatalf("no test credentials for %s: start it with startMain", base)
	}
	return c.(*testCredentials)
}

// adminRoutes are the requests only an admin may make: the catalog,
// users, the audit, erasure and backups.
var adminRoutes = regexp.MustCompile(`^(POST /api/(groups|programs)$|PUT /api/(groups|programs)/|[A-Z]+ /api/(users|audit|admin/)|POST /api/patients/[^/]+/erase$)`)

// authorize gives a request to a test server the token of a user who may
// make it: the admin for the admin's routes, else the clinician.
func authorize(t *testing.T, req *http.Request) {
	t.Helper()
	c := credentialsFor(t, req.URL.Host)
	token := c.clinicianToken
	if adminRoutes.MatchString(req.Method + " " + req.URL.Path) {
		token = c.adminToken
	}
	req.Header.Set("Authorization", "Bearer "+token)
}
