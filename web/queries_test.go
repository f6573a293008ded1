package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	defaultcatalog "github.com/continuum-care/continuum/domain/catalog"
)

// patientsOf decodes the patient list answer.
func patientsOf(t *testing.T, r reply) (total int, rows []map[string]any) {
	t.Helper()
	var v struct {
		Total    int              `json:"total"`
		Patients []map[string]any `json:"patients"`
	}
	if err := json.Unmarshal(r.raw, &v); err != nil {
		t.Fatalf("patient list: %v: %s", err, r.raw)
	}
	return v.Total, v.Patients
}

func TestCensusHasNoIdentifiers(t *testing.T) {
	st := newStack(t)
	id := joined(t, st, "psychodynamic-1", "Ines Identifiable")
	r := st.get(t, "/api/census")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	for _, secret := range []string{id, "Ines", "Identifiable", "ciphertext"} {
		if strings.Contains(string(r.raw), secret) {
			t.Errorf("the census shows %q: %s", secret, r.raw)
		}
	}
	var census struct {
		InCare int `json:"inCare"`
		Levels []struct {
			Level  string `json:"level"`
			People int    `json:"people"`
		} `json:"levels"`
	}
	if err := json.Unmarshal(r.raw, &census); err != nil {
		t.Fatal(err)
	}
	if census.InCare != 1 {
		t.Errorf("in care %d, want 1", census.InCare)
	}
	for _, l := range census.Levels {
		if want := map[bool]int{true: 1, false: 0}[l.Level == "php"]; l.People != want {
			t.Errorf("level %s: %d people, want %d", l.Level, l.People, want)
		}
	}
	if r.header.Get(PositionHeader) == "" {
		t.Error("census without a position header")
	}
}

func TestPatientSearch(t *testing.T) {
	st := newStack(t)
	ada := joined(t, st, "psychodynamic-1", "Ada Lovelace")
	grace := st.admitted(t, "Grace Hopper")
	st.mustPost(t, "/api/patients/"+grace+"/step-down", map[string]any{"to": "iop", "program": "iop-evening"})
	alan := st.refer(t, "Alan Turing")
	anonymous := st.mustPost(t, "/api/patients", map[string]any{"source": "hospital"}).str("patient")
	tests := []struct {
		name  string
		query string
		want  []string
		// total is the match count when it differs from len(want).
		total int
	}{
		{name: "everyone", query: "", want: []string{ada, grace, alan, anonymous}},
		{name: "name, any case", query: "?q=LOVE", want: []string{ada}},
		{name: "name and level", query: "?q=a&level=iop", want: []string{grace}},
		{name: "ID prefix", query: "?q=" + alan[:8], want: []string{alan}},
		{name: "level", query: "?level=php", want: []string{ada}},
		{name: "program", query: "?program=iop-evening", want: []string{grace}},
		{name: "group", query: "?group=psychodynamic-1", want: []string{ada}},
		{name: "status", query: "?status=referred", want: []string{alan, anonymous}},
		{name: "limit counts all matches", query: "?status=referred&limit=1", want: []string{"any"}, total: 2},
		{name: "no match", query: "?q=nobody", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := st.get(t, "/api/patients"+tc.query)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			total, rows := patientsOf(t, r)
			wantTotal := len(tc.want)
			if tc.total != 0 {
				wantTotal = tc.total
			}
			if total != wantTotal || len(rows) != len(tc.want) {
				t.Fatalf("total %d, rows %d; want %d and %d: %s", total, len(rows), wantTotal, len(tc.want), r.raw)
			}
			got := map[string]bool{}
			for _, row := range rows {
				got[row["patient"].(string)] = true
				if _, sealed := row["personal"]; sealed {
					t.Errorf("row carries the sealed personal data: %v", row)
				}
			}
			for _, id := range tc.want {
				if id != "any" && !got[id] {
					t.Errorf("missing %s", id)
				}
			}
		})
	}
	t.Run("names are opened", func(t *testing.T) {
		_, rows := patientsOf(t, st.get(t, "/api/patients?q=grace"))
		if len(rows) != 1 || rows[0]["name"] != "Grace Hopper" || rows[0]["dateOfBirth"] != "1980-04-02" {
			t.Fatalf("rows %v", rows)
		}
		if _, ok := rows[0]["contact"]; ok {
			t.Error("the list shows contact details")
		}
	})
	t.Run("bad filter", func(t *testing.T) {
		r := st.get(t, "/api/patients?level=hospital")
		if r.status != http.StatusBadRequest || r.errorField() != "level" {
			t.Fatalf("status %d field %q: %s", r.status, r.errorField(), r.raw)
		}
	})
}

func TestErasedPersonShowsAsErased(t *testing.T) {
	st := newStack(t)
	id := st.refer(t, "Eve Erasable")
	if err := st.keys.Forget(id); err != nil {
		t.Fatal(err)
	}
	r := st.get(t, "/api/patients/"+id)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	patient := r.body["patient"].(map[string]any)
	if patient["name"] != erasedName || patient["erased"] != true {
		t.Errorf("erased person shows as %v", patient)
	}
	if strings.Contains(string(r.raw), "Eve") {
		t.Errorf("the name survived erasure: %s", r.raw)
	}
}

func TestJourney(t *testing.T) {
	st := newStack(t)
	id := st.mustPost(t, "/api/patients", map[string]any{"source": "self", "name": "Jay Journey", "contact": "555-0100"}).str("patient")
	st.intake(t, id)
	st.mustPost(t, "/api/patients/"+id+"/admit", map[string]any{"program": "php", "level": "php"})
	st.mustPost(t, "/api/patients/"+id+"/measures", map[string]any{"instrument": "phq9", "score": 9})
	tests := []struct {
		name   string
		path   string
		status int
	}{
		{name: "known", path: "/api/patients/" + id, status: http.StatusOK},
		{name: "upper-case ID", path: "/api/patients/" + strings.ToUpper(id), status: http.StatusOK},
		{name: "unknown", path: "/api/patients/6f1e1c52-7a35-4c3e-9a7d-0d1c2b3a4f5e", status: http.StatusNotFound},
		{name: "not a UUID", path: "/api/patients/jay", status: http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := st.get(t, tc.path)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			if tc.status != http.StatusOK {
				return
			}
			patient := r.body["patient"].(map[string]any)
			if patient["name"] != "Jay Journey" || patient["contact"] != "555-0100" {
				t.Errorf("patient %v", patient)
			}
			journey := r.body["journey"].(map[string]any)
			if n := len(journey["timeline"].([]any)); n != 4 {
				t.Errorf("timeline has %d entries, want 4: %v", n, journey["timeline"])
			}
		})
	}
}

func TestRoster(t *testing.T) {
	st := newStack(t)
	st.mustPost(t, "/api/groups", smallGroup("tiny"))
	member := joined(t, st, "tiny", "Mia Member")
	waiting := st.admitted(t, "Wes Waiting")
	st.mustPost(t, "/api/groups/tiny/join", map[string]any{"patient": waiting, "waitlistIfFull": true})

	r := st.get(t, "/api/groups/tiny")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	var roster struct {
		Members  []struct{ Patient, Name string } `json:"members"`
		Waitlist []struct {
			Patient, Name string
			Position      int
		} `json:"waitlist"`
		Definition struct{ Capacity int } `json:"definition"`
	}
	if err := json.Unmarshal(r.raw, &roster); err != nil {
		t.Fatal(err)
	}
	if len(roster.Members) != 1 || roster.Members[0].Patient != member || roster.Members[0].Name != "Mia Member" {
		t.Errorf("members %+v", roster.Members)
	}
	if len(roster.Waitlist) != 1 || roster.Waitlist[0].Patient != waiting || roster.Waitlist[0].Name != "Wes Waiting" || roster.Waitlist[0].Position != 1 {
		t.Errorf("waitlist %+v", roster.Waitlist)
	}
	if roster.Definition.Capacity != 1 {
		t.Errorf("definition capacity %d, want 1", roster.Definition.Capacity)
	}
	if r := st.get(t, "/api/groups/no-such-group"); r.status != http.StatusNotFound {
		t.Errorf("unknown group: status %d", r.status)
	}
	if r := st.get(t, "/api/groups/Not_A_Slug"); r.status != http.StatusBadRequest {
		t.Errorf("bad group ID: status %d", r.status)
	}
}

func TestCatalogGroupsAndPrograms(t *testing.T) {
	st := newStack(t)
	joined(t, st, "psychodynamic-2", "Cal Catalog")
	var catalog struct {
		Levels      []string
		Programs    []struct{ ID, Name, Level string }
		Groups      []struct{ ID, Name, Entry string }
		Instruments []struct {
			ID       string
			Min, Max int
		}
		DischargeReasons []string
		PatientStatuses  []string
	}
	r := st.get(t, "/api/catalog")
	if err := json.Unmarshal(r.raw, &catalog); err != nil {
		t.Fatal(err)
	}
	if strings.Join(catalog.Levels, ",") != "inpatient,residential,php,iop,outpatient" {
		t.Errorf("levels %v", catalog.Levels)
	}
	defaults, err := defaultcatalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(catalog.Programs) != len(defaults.Programs) || len(catalog.Groups) != len(defaults.Groups) {
		t.Errorf("%d programs and %d groups, want the default catalog's %d and %d",
			len(catalog.Programs), len(catalog.Groups), len(defaults.Programs), len(defaults.Groups))
	}
	if len(catalog.Instruments) != 2 || catalog.Instruments[0].ID != "phq9" || catalog.Instruments[0].Max != 27 || catalog.Instruments[1].Max != 21 {
		t.Errorf("instruments %+v", catalog.Instruments)
	}
	if len(catalog.DischargeReasons) != 7 || catalog.DischargeReasons[0] != "completed" {
		t.Errorf("discharge reasons %v", catalog.DischargeReasons)
	}
	if strings.Join(catalog.PatientStatuses, ",") != "referred,intake_done,admitted,discharged" {
		t.Errorf("patient statuses %v", catalog.PatientStatuses)
	}

	var groups struct {
		Groups []struct {
			Group   string
			Members int
		}
	}
	if err := json.Unmarshal(st.get(t, "/api/groups").raw, &groups); err != nil {
		t.Fatal(err)
	}
	members := map[string]int{}
	for _, g := range groups.Groups {
		members[g.Group] = g.Members
	}
	if len(members) != len(defaults.Groups) || members["psychodynamic-2"] != 1 {
		t.Errorf("group occupancy %v", members)
	}

	var programs struct {
		Programs []struct {
			Program string
			People  int
		}
	}
	if err := json.Unmarshal(st.get(t, "/api/programs").raw, &programs); err != nil {
		t.Fatal(err)
	}
	people := map[string]int{}
	for _, p := range programs.Programs {
		people[p.Program] = p.People
	}
	if len(people) != len(defaults.Programs) || people["php"] != 1 {
		t.Errorf("program occupancy %v", people)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	st := newStack(t)
	if r := st.get(t, "/healthz"); r.status != http.StatusOK {
		t.Errorf("healthz: status %d", r.status)
	}
	// WaitReady may return a moment before Ready reports true (the runner
	// closes its ready channel before storing the flag), so poll.
	var r reply
	eventually(t, "readyz 200", func() bool {
		r = st.get(t, "/readyz")
		return r.status == http.StatusOK
	})
	if r.str("status") != "ready" || r.str("position") == "" {
		t.Fatalf("readyz while caught up: %s", r.raw)
	}
	if err := st.runner.Stop(); err != nil {
		t.Fatal(err)
	}
	st.mustPostNoWait(t, "/api/patients", map[string]any{"source": "self", "name": "Lag Example"})
	r = st.get(t, "/readyz")
	if r.status != http.StatusServiceUnavailable || r.errorCode() != "not_ready" {
		t.Fatalf("readyz while stopped: status %d: %s", r.status, r.raw)
	}
	if !strings.Contains(r.errorMessage(), "1 events behind") {
		t.Errorf("readyz reason %q does not say how far behind", r.errorMessage())
	}
}

// mustPostNoWait sends a command that must be accepted, without waiting
// for the projections.
func (st *stack) mustPostNoWait(t *testing.T, path string, body any) reply {
	t.Helper()
	r := st.post(t, path, body)
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		t.Fatalf("POST %s: status %d: %s", path, r.status, r.raw)
	}
	return r
}
