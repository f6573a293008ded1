package web

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/eventstore"
)

// TestReadsOfPatientDataAreAudited checks each kind of read of a
// person's data leaves one entry naming who, in which role, what (the
// route pattern), which people (by ID), when and from where, and that no
// entry anywhere holds a name.
func TestReadsOfPatientDataAreAudited(t *testing.T) {
	st := newStack(t)
	const name = "Aurelia Auditson"
	id := st.admitted(t, name)
	st.mustPost(t, "/api/groups/php-process/join", map[string]any{"patient": id})
	tests := []struct {
		name   string
		read   func(t *testing.T)
		action access.Action
		route  string
	}{
		{name: "a journey", action: access.PatientViewed, route: "GET /api/patients/{id}",
			read: func(t *testing.T) { st.as(t, clinicianUser, "GET", "/api/patients/"+id, nil) }},
		{name: "the list", action: access.PatientsListed, route: "GET /api/patients",
			read: func(t *testing.T) { st.as(t, clinicianUser, "GET", "/api/patients", nil) }},
		{name: "a search by name", action: access.PatientsListed, route: "GET /api/patients",
			read: func(t *testing.T) { st.as(t, clinicianUser, "GET", "/api/patients?q=aurelia", nil) }},
		{name: "a roster with names", action: access.RosterViewed, route: "GET /api/groups/{id}",
			read: func(t *testing.T) { st.as(t, clinicianUser, "GET", "/api/groups/php-process", nil) }},
		{name: "following the journey live", action: access.PatientFollowed, route: "ws patient:{id}",
			read: func(t *testing.T) {
				conn := st.dialAs(t, clinicianUser)
				subscribe(t, conn, "patient:"+id, "")
				expect(t, conn, "snapshot", "patient:"+id)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(st.auditOf(t, access.Query{Patient: id}))
			tc.read(t)
			got := st.auditOf(t, access.Query{Patient: id})
			if len(got) != before+1 {
				t.Fatalf("%d new entries, want 1", len(got)-before)
			}
			e := got[0]
			if e.Action != tc.action || e.User != clinicianUser || e.Role != access.Clinician || e.Route != tc.route ||
				e.Remote != "127.0.0.1" || e.At.IsZero() || e.Correlation == "" || !slices.Contains(e.Patients, id) {
				t.Fatalf("entry %+v", e.Entry)
			}
		})
	}
	t.Run("the census is not a read of anyone's data", func(t *testing.T) {
		before := len(st.auditOf(t, access.Query{}))
		st.as(t, directorUser, "GET", "/api/census", nil)
		if after := len(st.auditOf(t, access.Query{})); after != before {
			t.Fatalf("%d entries for the census", after-before)
		}
	})
	t.Run("no entry holds a name", func(t *testing.T) {
		events, err := st.inner.ReadAll(context.Background(), eventstore.ReadAllOptions{From: eventstore.Start})
		if err != nil {
			t.Fatal(err)
		}
		audited := 0
		for _, e := range events {
			if !strings.HasPrefix(e.Stream, access.AuditStreamPrefix) {
				continue
			}
			audited++
			if strings.Contains(strings.ToLower(string(e.Data)), "aurelia") {
				t.Fatalf("audit entry %s holds the name: %s", e.Type, e.Data)
			}
		}
		if audited == 0 {
			t.Fatal("no audit events in the store")
		}
	})
}

// TestUnauditableReadsAreRefused: when the audit cannot be written,
// nothing is shown.
func TestUnauditableReadsAreRefused(t *testing.T) {
	st := newStack(t)
	id := st.admitted(t, "Una Unaudited")
	st.store.down.Store(true)
	defer st.store.down.Store(false)
	for _, path := range []string{"/api/patients/" + id, "/api/patients"} {
		r := st.as(t, clinicianUser, "GET", path, nil)
		if r.status != http.StatusServiceUnavailable || strings.Contains(string(r.raw), "Una") {
			t.Errorf("%s with the audit down: %d %s", path, r.status, r.raw)
		}
	}
}

func TestAuditAPI(t *testing.T) {
	st := newStack(t)
	id := st.admitted(t, "Abel Api")
	other := st.admitted(t, "Otto Other")
	st.as(t, clinicianUser, "GET", "/api/patients/"+id, nil)
	st.as(t, clinicianUser, "GET", "/api/patients/"+other, nil)

	r := st.as(t, adminUser, "GET", "/api/audit?patient="+id, nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d %s", r.status, r.raw)
	}
	// Newest first: this very read (reading a patient's audit is itself
	// audited), then the clinician's.
	entries, _ := r.body["entries"].([]any)
	actions := []string{}
	for _, e := range entries {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if strings.Join(actions, ",") != "AuditViewed,PatientViewed" || strings.Contains(string(r.raw), other) {
		t.Fatalf("one patient's audit: %s", r.raw)
	}
	for _, q := range []string{"patient=bob", "limit=0", "limit=10001", "action=Deleted", "user=Not%20A%20Name"} {
		if r := st.as(t, adminUser, "GET", "/api/audit?"+q, nil); r.status != http.StatusBadRequest {
			t.Errorf("?%s: %d", q, r.status)
		}
	}
	// No route changes or deletes the audit.
	for _, method := range []string{"DELETE", "PUT", "POST", "PATCH"} {
		if r := st.as(t, adminUser, method, "/api/audit", nil); r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s /api/audit: %d", method, r.status)
		}
	}
	for pattern := range routeGrants {
		if strings.Contains(pattern, "audit") && !strings.HasPrefix(pattern, "GET ") {
			t.Errorf("route %s writes the audit", pattern)
		}
	}
}

// TestExportsAreAudited: reports and backups leave the server only after
// an entry records who took them and in which format.
func TestExportsAreAudited(t *testing.T) {
	report := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"episodes": 0})
	})
	st := newStack(t, func(c *Config) { c.Outcomes = report; c.Backup = fixedBackup("a copy of the store") })
	tests := []struct {
		name, user, path string
		status           int
		detail           string
	}{
		{name: "the analyst's report", user: analystUser, path: "/api/outcomes?format=html", status: http.StatusOK, detail: "html"},
		{name: "the director's figures", user: directorUser, path: "/api/outcomes", status: http.StatusOK},
		{name: "a format that is not a word", user: analystUser, path: "/api/outcomes?format=%3Cscript%3E", status: http.StatusOK},
		{name: "a backup", user: adminUser, path: BackupPath, status: http.StatusOK},
		{name: "a clinician's attempt", user: clinicianUser, path: "/api/outcomes", status: http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(st.auditOf(t, access.Query{Action: access.Exported}))
			resp := st.getAs(t, tc.user, tc.path)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			got := st.auditOf(t, access.Query{Action: access.Exported})
			if tc.status != http.StatusOK {
				if len(got) != before {
					t.Fatal("a refused export was recorded as one")
				}
				return
			}
			if len(got) != before+1 || got[0].User != tc.user || got[0].Detail != tc.detail || got[0].Route != "GET "+strings.Split(tc.path, "?")[0] {
				t.Fatalf("entries %+v", got)
			}
		})
	}
}

// fixedBackup is a backup that always copies the same bytes.
type fixedBackup string

func (f fixedBackup) Backup(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, string(f))
	return int64(n), err
}
