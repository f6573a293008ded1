package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/access"
)

func TestUserManagement(t *testing.T) {
	st := newStack(t)
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
	}{
		{name: "add a clinician of IOP", method: "POST", path: "/api/users",
			body: map[string]any{"name": "ines", "role": "clinician", "programs": []string{"iop-morning"}, "password": testPassword}, status: http.StatusCreated},
		{name: "the name is taken", method: "POST", path: "/api/users",
			body: map[string]any{"name": "ines", "role": "director", "password": testPassword}, status: http.StatusConflict, code: "user_exists"},
		{name: "a short password", method: "POST", path: "/api/users",
			body: map[string]any{"name": "shorty", "role": "director", "password": "short"}, status: http.StatusBadRequest, field: "password"},
		{name: "an unknown role", method: "POST", path: "/api/users",
			body: map[string]any{"name": "rooty", "role": "root", "password": testPassword}, status: http.StatusBadRequest, field: "role"},
		{name: "programs for a director", method: "POST", path: "/api/users",
			body: map[string]any{"name": "dirk", "role": "director", "programs": []string{"php"}, "password": testPassword}, status: http.StatusBadRequest, field: "programs"},
		{name: "a bad name", method: "POST", path: "/api/users",
			body: map[string]any{"name": "Ines Smith", "role": "director", "password": testPassword}, status: http.StatusBadRequest, field: "name"},
		{name: "an unknown field", method: "POST", path: "/api/users",
			body: map[string]any{"name": "ines2", "role": "director", "password": testPassword, "admin": true}, status: http.StatusBadRequest, code: "unknown_field", field: "admin"},
		{name: "move her to PHP", method: "PUT", path: "/api/users/ines", body: map[string]any{"programs": []string{"php"}}, status: http.StatusOK},
		{name: "change nobody", method: "PUT", path: "/api/users/nobody", body: map[string]any{"disabled": true}, status: http.StatusNotFound, code: "user_not_found"},
		{name: "disable the last admin", method: "PUT", path: "/api/users/" + adminUser, body: map[string]any{"disabled": true}, status: http.StatusConflict, code: "last_admin"},
		{name: "a token for nobody", method: "POST", path: "/api/users/nobody/tokens", body: map[string]any{}, status: http.StatusNotFound},
		{name: "a token for too long", method: "POST", path: "/api/users/ines/tokens", body: map[string]any{"ttlDays": 400}, status: http.StatusBadRequest, field: "ttlDays"},
		{name: "revoke nothing", method: "DELETE", path: "/api/users/ines/tokens/0123456789abcdef", status: http.StatusNotFound, code: "credential_not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := st.as(t, adminUser, tc.method, tc.path, tc.body)
			if r.status != tc.status || (tc.code != "" && r.errorCode() != tc.code) || r.errorField() != tc.field {
				t.Fatalf("status %d code %q field %q, want %d %q %q: %s", r.status, r.errorCode(), r.errorField(), tc.status, tc.code, tc.field, r.raw)
			}
			if strings.Contains(string(r.raw), testPassword) || strings.Contains(string(r.raw), "argon2") {
				t.Fatalf("the answer holds a password or its hash: %s", r.raw)
			}
		})
	}
	info, ok := st.auth.users.User("ines")
	if !ok || info.Role != access.Clinician || len(info.Programs) != 1 || info.Programs[0] != "php" {
		t.Fatalf("after the changes: %+v", info)
	}
	if got := st.auditOf(t, access.Query{User: adminUser}); len(got) < 2 || got[0].Action != access.UserChanged || got[0].Detail != "ines" {
		t.Fatalf("user management audit: %+v", got)
	}
	t.Run("a disabled user's sign-ins stop", func(t *testing.T) {
		if r := st.as(t, anonymous, "POST", "/api/auth/signin", map[string]any{"name": "ines", "password": testPassword}); r.status != http.StatusOK {
			t.Fatalf("before: %d", r.status)
		}
		if r := st.as(t, adminUser, "PUT", "/api/users/ines", map[string]any{"disabled": true}); r.status != http.StatusOK {
			t.Fatalf("disabling: %d %s", r.status, r.raw)
		}
		if r := st.as(t, anonymous, "POST", "/api/auth/signin", map[string]any{"name": "ines", "password": testPassword}); r.status != http.StatusUnauthorized {
			t.Fatalf("after: %d", r.status)
		}
	})
	t.Run("only admins manage users", func(t *testing.T) {
		for _, user := range []string{clinicianUser, directorUser, analystUser, phpClinicianUser} {
			if r := st.as(t, user, "POST", "/api/users", map[string]any{"name": "mallory", "role": "admin", "password": testPassword}); r.status != http.StatusForbidden {
				t.Errorf("%s added a user: %d", user, r.status)
			}
		}
	})
}
