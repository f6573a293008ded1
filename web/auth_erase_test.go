package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/access"
)

// TestErasure crypto-shreds a person through the API: every view then
// shows them as erased, the clinical facts stay, and the erasure is audited.
func TestErasure(t *testing.T) {
	st := newStack(t)
	const name = "Esme Erasable"
	id := st.admitted(t, name)
	st.mustPost(t, "/api/groups/php-process/join", map[string]any{"patient": id})
	keep := st.admitted(t, "Kit Kept")
	if r := st.as(t, clinicianUser, "GET", "/api/patients/"+id, nil); !strings.Contains(string(r.raw), name) {
		t.Fatalf("before: %s", r.raw)
	}
	censusBefore := st.as(t, directorUser, "GET", "/api/census", nil)

	if r := st.as(t, clinicianUser, "POST", "/api/patients/"+id+"/erase", nil); r.status != http.StatusForbidden {
		t.Fatalf("a clinician erased: %d", r.status)
	}
	r := st.as(t, adminUser, "POST", "/api/patients/"+id+"/erase", nil)
	if r.status != http.StatusOK || r.body["erased"] != true || r.body["alreadyErased"] != false {
		t.Fatalf("erase: %d %s", r.status, r.raw)
	}
	views := map[string]string{
		"journey": "/api/patients/" + id,
		"list":    "/api/patients",
		"roster":  "/api/groups/php-process",
	}
	for what, path := range views {
		r := st.as(t, clinicianUser, "GET", path, nil)
		if r.status != http.StatusOK || strings.Contains(string(r.raw), "Esme") || strings.Contains(string(r.raw), "1980-04-02\",\"erased") ||
			!strings.Contains(string(r.raw), `"erased":true`) {
			t.Errorf("%s after erasure: %d %s", what, r.status, r.raw)
		}
	}
	if r := st.as(t, clinicianUser, "GET", "/api/patients/"+keep, nil); !strings.Contains(string(r.raw), "Kit Kept") {
		t.Errorf("another person was erased too: %s", r.raw)
	}
	if r := st.as(t, clinicianUser, "GET", "/api/patients/"+id, nil); !strings.Contains(string(r.raw), `"status":"admitted"`) {
		t.Errorf("the clinical facts went with the name: %s", r.raw)
	}
	if censusAfter := st.as(t, directorUser, "GET", "/api/census", nil); string(censusAfter.raw) != string(censusBefore.raw) {
		t.Errorf("the census changed:\n%s\n%s", censusBefore.raw, censusAfter.raw)
	}
	got := st.auditOf(t, access.Query{Action: access.PersonErased})
	if len(got) != 1 || got[0].User != adminUser || got[0].Role != access.Admin || got[0].Patients[0] != id || got[0].Outcome != "" {
		t.Fatalf("erasure audit: %+v", got)
	}

	t.Run("again: harmless, audited again", func(t *testing.T) {
		r := st.as(t, adminUser, "POST", "/api/patients/"+id+"/erase", nil)
		if r.status != http.StatusOK || r.body["alreadyErased"] != true {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		if got := st.auditOf(t, access.Query{Action: access.PersonErased}); len(got) != 2 {
			t.Fatalf("%d erasure entries", len(got))
		}
	})
	t.Run("nobody", func(t *testing.T) {
		r := st.as(t, adminUser, "POST", "/api/patients/6f1e1c52-7a35-4c3e-9a7d-0d1c2b3a4f5e/erase", nil)
		if r.status != http.StatusNotFound {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("unauditable: the key stays", func(t *testing.T) {
		st.store.down.Store(true)
		r := st.as(t, adminUser, "POST", "/api/patients/"+keep+"/erase", nil)
		st.store.down.Store(false)
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		if r := st.as(t, clinicianUser, "GET", "/api/patients/"+keep, nil); !strings.Contains(string(r.raw), "Kit Kept") {
			t.Fatalf("an unaudited erasure happened: %s", r.raw)
		}
	})
}
