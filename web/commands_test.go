package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/google/uuid"
)

// smallGroup is a group definition with one seat, for full-group cases.
func smallGroup(id string) map[string]any {
	return map[string]any{
		"id": id, "name": "Small test group", "modality": "process", "level": "outpatient",
		"program": "group-center", "capacity": 1, "status": "running", "cadence": "weekly",
		"slots": []map[string]any{{"day": "thursday", "start": "10:00", "end": "11:00"}}, "entry": "any_time",
	}
}

// programBody is a program body for the catalog routes.
func programBody(id string) map[string]any {
	return map[string]any{"id": id, "name": "Test program", "level": "iop", "capacity": 10}
}

// TestCommands runs every command route once accepted and once refused by
// the domain, and checks that a refusal appends nothing.
func TestCommands(t *testing.T) {
	st := newStack(t)
	// Cases that act on a person made while an earlier step is prepared
	// read them at marshalling time, through these.
	var attendee, repeat string
	tests := []struct {
		name   string
		method string // POST unless set
		// prepare builds the state the case needs and returns the path.
		prepare func(t *testing.T) string
		body    any
		status  int
		code    string
		field   string
		// message, when set, must appear in the error message.
		message string
	}{
		{name: "refer accepted", prepare: func(t *testing.T) string { return "/api/patients" },
			body: map[string]any{"source": "self", "name": "Ada Example"}, status: http.StatusCreated},
		{name: "refer refused: already referred", prepare: func(t *testing.T) string {
			return "/api/patients"
		}, body: map[string]any{"patient": st.refer(t, "Bea Example"), "source": "self"}, status: http.StatusConflict, code: "already_exists"},

		{name: "intake accepted", prepare: func(t *testing.T) string { return "/api/patients/" + st.refer(t, "Cy Example") + "/intake" },
			body:   map[string]any{"phq9": 12, "gad7": 9, "recommendedLevel": "iop", "ageYears": 40},
			status: http.StatusOK},
		{name: "intake refused: unknown patient", prepare: func(t *testing.T) string { return "/api/patients/" + uuid.NewString() + "/intake" },
			body:   map[string]any{"phq9": 12, "gad7": 9, "recommendedLevel": "iop", "ageYears": 40},
			status: http.StatusNotFound, code: "not_found"},
		{name: "intake refused: score out of range", prepare: func(t *testing.T) string { return "/api/patients/" + st.refer(t, "Di Example") + "/intake" },
			body:   map[string]any{"phq9": 28, "gad7": 9, "recommendedLevel": "iop", "ageYears": 40},
			status: http.StatusBadRequest, code: "score_out_of_range", field: "phq9"},

		{name: "admit accepted", prepare: func(t *testing.T) string {
			id := st.refer(t, "Ed Example")
			st.intake(t, id)
			return "/api/patients/" + id + "/admit"
		}, body: map[string]any{"program": "php", "level": "php"}, status: http.StatusOK},
		{name: "admit refused: no intake", prepare: func(t *testing.T) string { return "/api/patients/" + st.refer(t, "Flo Example") + "/admit" },
			body: map[string]any{"program": "php", "level": "php"}, status: http.StatusUnprocessableEntity, code: "intake_required",
			message: "an intake must be completed before admission"},

		{name: "readmit accepted", prepare: func(t *testing.T) string {
			id := st.admitted(t, "Gus Example")
			st.mustPost(t, "/api/patients/"+id+"/discharge", map[string]any{"reason": "completed"})
			return "/api/patients/" + id + "/readmit"
		}, body: map[string]any{"program": "iop-evening", "level": "iop"}, status: http.StatusOK},
		{name: "readmit refused: still in care", prepare: func(t *testing.T) string { return "/api/patients/" + st.admitted(t, "Hal Example") + "/readmit" },
			body: map[string]any{"program": "php", "level": "php"}, status: http.StatusUnprocessableEntity, code: "already_in_care"},

		{name: "measure accepted", prepare: func(t *testing.T) string { return "/api/patients/" + st.admitted(t, "Ida Example") + "/measures" },
			body: map[string]any{"instrument": "gad7", "score": 7}, status: http.StatusCreated},
		{name: "measure refused: score out of range", prepare: func(t *testing.T) string { return "/api/patients/" + st.admitted(t, "Jo Example") + "/measures" },
			body: map[string]any{"instrument": "gad7", "score": 22}, status: http.StatusBadRequest, code: "score_out_of_range", field: "score"},

		{name: "step-down accepted", prepare: func(t *testing.T) string { return "/api/patients/" + st.admitted(t, "Kit Example") + "/step-down" },
			body: map[string]any{"to": "iop", "program": "iop-morning"}, status: http.StatusOK},
		{name: "step-down refused: more intensive", prepare: func(t *testing.T) string { return "/api/patients/" + st.admitted(t, "Lu Example") + "/step-down" },
			body: map[string]any{"to": "inpatient", "program": "inpatient-unit"}, status: http.StatusUnprocessableEntity, code: "not_a_step_down",
			message: "a step-down must go to a less intensive level than php, not inpatient"},

		{name: "step-up accepted", prepare: func(t *testing.T) string { return "/api/patients/" + st.admitted(t, "Mo Example") + "/step-up" },
			body: map[string]any{"to": "residential", "program": "residential"}, status: http.StatusOK},
		{name: "step-up refused: less intensive", prepare: func(t *testing.T) string { return "/api/patients/" + st.admitted(t, "Ned Example") + "/step-up" },
			body: map[string]any{"to": "outpatient", "program": "group-center"}, status: http.StatusUnprocessableEntity, code: "not_a_step_up"},

		{name: "discharge accepted", prepare: func(t *testing.T) string { return "/api/patients/" + st.admitted(t, "Ola Example") + "/discharge" },
			body: map[string]any{"reason": "completed", "alumniGroup": "alumni-support"}, status: http.StatusOK},
		{name: "discharge refused: not in care", prepare: func(t *testing.T) string { return "/api/patients/" + st.refer(t, "Pia Example") + "/discharge" },
			body: map[string]any{"reason": "completed"}, status: http.StatusUnprocessableEntity, code: "not_in_care"},

		{name: "create group accepted", prepare: func(t *testing.T) string { return "/api/groups" },
			body: smallGroup("small-one"), status: http.StatusCreated},
		{name: "create group refused: exists", prepare: func(t *testing.T) string { return "/api/groups" },
			body: smallGroup("cbt-anxiety"), status: http.StatusConflict, code: "already_exists"},
		{name: "change group accepted", method: http.MethodPut, prepare: func(t *testing.T) string { return "/api/groups/small-one" },
			body: smallGroup("small-one"), status: http.StatusOK},
		{name: "change group refused: unknown", method: http.MethodPut, prepare: func(t *testing.T) string { return "/api/groups/no-such-group" },
			body: smallGroup("no-such-group"), status: http.StatusNotFound, code: "not_found"},

		{name: "join accepted", prepare: func(t *testing.T) string { return "/api/groups/psychodynamic-1/join" },
			body: map[string]any{"patient": st.admitted(t, "Quin Example")}, status: http.StatusOK},
		{name: "join refused: entry closed", prepare: func(t *testing.T) string { return "/api/groups/cbt-anxiety/join" },
			body: map[string]any{"patient": st.admitted(t, "Ray Example")}, status: http.StatusUnprocessableEntity, code: "entry_closed",
			message: "Cognitive-behavioral therapy group for anxiety admits new members only at the start of a module: next start 2026-11-24"},
		{name: "join refused: group full", prepare: func(t *testing.T) string {
			st.mustPost(t, "/api/groups/small-one/join", map[string]any{"patient": st.admitted(t, "Sol Example")})
			return "/api/groups/small-one/join"
		}, body: map[string]any{"patient": st.admitted(t, "Tam Example")}, status: http.StatusConflict, code: "group_full"},

		{name: "leave accepted", prepare: func(t *testing.T) string { return "/api/groups/psychodynamic-1/leave" },
			body: map[string]any{"patient": joined(t, st, "psychodynamic-2", "Uma Example", "psychodynamic-1"), "reason": "withdrew"}, status: http.StatusOK},
		{name: "leave refused: not a member", prepare: func(t *testing.T) string { return "/api/groups/psychodynamic-1/leave" },
			body: map[string]any{"patient": st.admitted(t, "Vic Example"), "reason": "withdrew"}, status: http.StatusUnprocessableEntity, code: "not_member"},

		{name: "session accepted", prepare: func(t *testing.T) string { return "/api/groups/psychodynamic-3/sessions" },
			body: map[string]any{"session": "2026-11-10-1700", "occurredAt": "2026-11-10T14:00:00Z"}, status: http.StatusCreated},
		{name: "session refused: already held", prepare: func(t *testing.T) string { return "/api/groups/psychodynamic-3/sessions" },
			body: map[string]any{"session": "2026-11-10-1700", "occurredAt": "2026-11-10T14:00:00Z"}, status: http.StatusConflict, code: "session_exists"},

		{name: "attendance accepted", prepare: func(t *testing.T) string {
			id := joined(t, st, "psychodynamic-4", "Wes Example")
			st.mustPost(t, "/api/groups/psychodynamic-4/sessions", map[string]any{"session": "2026-11-10-1500"})
			attendee = id
			return "/api/groups/psychodynamic-4/sessions/2026-11-10-1500/attendance"
		}, body: lazyBody(func() any { return map[string]any{"patient": attendee, "status": "present"} }), status: http.StatusOK},
		{name: "attendance refused: session not held", prepare: func(t *testing.T) string {
			return "/api/groups/psychodynamic-4/sessions/2026-11-03-1300/attendance"
		}, body: lazyBody(func() any { return map[string]any{"patient": attendee, "status": "absent"} }), status: http.StatusUnprocessableEntity, code: "session_not_held"},

		{name: "module completion accepted", prepare: func(t *testing.T) string { return "/api/groups/coping-skills-healthy-living/modules/1/complete" },
			body: map[string]any{"patient": joined(t, st, "coping-skills-healthy-living", "Xia Example")}, status: http.StatusOK},
		{name: "module completion refused: out of order", prepare: func(t *testing.T) string {
			id := joined(t, st, "coping-skills-healthy-living", "Yul Example")
			st.mustPost(t, "/api/groups/coping-skills-healthy-living/modules/1/complete", map[string]any{"patient": id})
			repeat = id
			return "/api/groups/coping-skills-healthy-living/modules/1/complete"
		}, body: lazyBody(func() any { return map[string]any{"patient": repeat} }), status: http.StatusUnprocessableEntity, code: "module_out_of_order", field: "n"},

		{name: "group completion accepted", prepare: func(t *testing.T) string { return "/api/groups/mature-adult/complete" },
			body: map[string]any{"patient": joined(t, st, "mature-adult", "Zed Example")}, status: http.StatusOK},
		{name: "group completion refused: modules incomplete", prepare: func(t *testing.T) string { return "/api/groups/coping-skills-healthy-living/complete" },
			body: map[string]any{"patient": joined(t, st, "coping-skills-healthy-living", "Abe Example")}, status: http.StatusUnprocessableEntity, code: "modules_incomplete"},

		{name: "create program accepted", prepare: func(t *testing.T) string { return "/api/programs" },
			body: programBody("iop-weekend"), status: http.StatusCreated},
		{name: "create program refused: exists", prepare: func(t *testing.T) string { return "/api/programs" },
			body: programBody("php"), status: http.StatusConflict, code: "already_exists"},
		{name: "change program accepted", method: http.MethodPut, prepare: func(t *testing.T) string { return "/api/programs/iop-weekend" },
			body: programBody("iop-weekend"), status: http.StatusOK},
		{name: "change program refused: unknown", method: http.MethodPut, prepare: func(t *testing.T) string { return "/api/programs/no-such-program" },
			body: programBody("no-such-program"), status: http.StatusNotFound, code: "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.prepare(t)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			body, err := json.Marshal(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			before := st.eventCount(t)
			r := st.do(t, method, path+"?wait=1", body, map[string]string{"Content-Type": "application/json", IdempotencyHeader: uuid.NewString()})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			after := st.eventCount(t)
			if tc.status >= 400 {
				if after != before {
					t.Errorf("a refused command appended %d events", after-before)
				}
				if r.errorCode() != tc.code {
					t.Errorf("error code %q, want %q: %s", r.errorCode(), tc.code, r.raw)
				}
				if tc.field != "" && r.errorField() != tc.field {
					t.Errorf("error field %q, want %q", r.errorField(), tc.field)
				}
				if !strings.Contains(r.errorMessage(), tc.message) {
					t.Errorf("error message %q, want it to contain %q", r.errorMessage(), tc.message)
				}
				return
			}
			if after <= before {
				t.Errorf("an accepted command appended nothing")
			}
			if r.str("stream") == "" || r.str("position") == "" || r.body["revision"] == nil {
				t.Errorf("answer lacks stream, position or revision: %s", r.raw)
			}
			if r.body["projected"] != true {
				t.Errorf("answer to ?wait=1 is not projected: %s", r.raw)
			}
		})
	}
}

// lazyBody marshals what fn returns at marshalling time.
type lazyBody func() any

func (f lazyBody) MarshalJSON() ([]byte, error) { return json.Marshal(f()) }

// joined admits a person and seats them in each of groups, returning their ID.
func joined(t *testing.T, st *stack, group, name string, more ...string) string {
	t.Helper()
	id := st.admitted(t, name)
	for _, g := range append([]string{group}, more...) {
		st.mustPost(t, "/api/groups/"+g+"/join", map[string]any{"patient": id})
	}
	return id
}

// TestRequestErrors checks the refusals of a request's form: each has its
// status, code and field, and none appends anything.
func TestRequestErrors(t *testing.T) {
	st := newStack(t)
	id := st.admitted(t, "Rue Example")
	measure := "/api/patients/" + id + "/measures"
	valid := []byte(`{"instrument":"phq9","score":9}`)
	jsonHeader := func(key string) map[string]string {
		return map[string]string{"Content-Type": "application/json", IdempotencyHeader: key}
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   []byte
		header map[string]string
		status int
		code   string
		field  string
	}{
		{name: "missing idempotency key", path: measure, body: valid, header: map[string]string{"Content-Type": "application/json"},
			status: http.StatusBadRequest, code: "idempotency_key_required", field: IdempotencyHeader},
		{name: "idempotency key with control characters", path: measure, body: valid, header: jsonHeader("a\tb"),
			status: http.StatusBadRequest, code: "invalid_input", field: IdempotencyHeader},
		{name: "no content type", path: measure, body: valid, header: map[string]string{IdempotencyHeader: "k1"},
			status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "form content type", path: measure, body: valid, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", IdempotencyHeader: "k2"},
			status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "foreign charset", path: measure, body: valid, header: map[string]string{"Content-Type": "application/json; charset=latin1", IdempotencyHeader: "k3"},
			status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "oversized body", path: measure, body: []byte(`{"instrument":"` + strings.Repeat("x", MaxBodyBytes) + `"}`), header: jsonHeader("k4"),
			status: http.StatusRequestEntityTooLarge, code: "request_too_large"},
		{name: "invalid UTF-8", path: "/api/patients", body: []byte("{\"source\":\"self\",\"name\":\"\xff\xfe\"}"), header: jsonHeader("k5"),
			status: http.StatusBadRequest, code: "invalid_utf8"},
		{name: "lone high surrogate", path: "/api/patients", body: []byte(`{"source":"self","name":"Ann \ud800x"}`), header: jsonHeader("k5h"),
			status: http.StatusBadRequest, code: "invalid_utf8", field: "name"},
		{name: "lone low surrogate", path: "/api/patients", body: []byte(`{"source":"self","name":"\udc00"}`), header: jsonHeader("k5l"),
			status: http.StatusBadRequest, code: "invalid_utf8", field: "name"},
		{name: "clinical time before 1900", path: measure, body: []byte(`{"instrument":"phq9","score":9,"occurredAt":"0202-03-01T00:00:00Z"}`), header: jsonHeader("k5y"),
			status: http.StatusBadRequest, code: "invalid_input", field: "occurredAt"},
		{name: "empty body", path: measure, body: nil, header: jsonHeader("k6"),
			status: http.StatusBadRequest, code: "malformed_json"},
		{name: "malformed JSON", path: measure, body: []byte(`{"instrument":`), header: jsonHeader("k7"),
			status: http.StatusBadRequest, code: "malformed_json"},
		{name: "two JSON values", path: measure, body: []byte(`{"instrument":"phq9","score":9}{}`), header: jsonHeader("k8"),
			status: http.StatusBadRequest, code: "malformed_json"},
		{name: "not an object", path: measure, body: []byte(`[1,2]`), header: jsonHeader("k9"),
			status: http.StatusBadRequest, code: "malformed_json"},
		{name: "null is not an object", path: measure, body: []byte(` null `), header: jsonHeader("k9n"),
			status: http.StatusBadRequest, code: "malformed_json"},
		{name: "unknown field", path: measure, body: []byte(`{"instrument":"phq9","score":9,"note":"x"}`), header: jsonHeader("k10"),
			status: http.StatusBadRequest, code: "unknown_field", field: "note"},
		{name: "wrong type", path: measure, body: []byte(`{"instrument":"phq9","score":"nine"}`), header: jsonHeader("k11"),
			status: http.StatusBadRequest, code: "invalid_input", field: "score"},
		{name: "unknown enum value", path: measure, body: []byte(`{"instrument":"bdi","score":9}`), header: jsonHeader("k12"),
			status: http.StatusBadRequest, code: "invalid_input", field: "instrument"},
		{name: "missing required field", path: measure, body: []byte(`{"instrument":"phq9"}`), header: jsonHeader("k13"),
			status: http.StatusBadRequest, code: "invalid_input", field: "score"},
		{name: "clinical time not RFC 3339", path: measure, body: []byte(`{"instrument":"phq9","score":9,"occurredAt":"yesterday"}`), header: jsonHeader("k14"),
			status: http.StatusBadRequest, code: "invalid_input", field: "occurredAt"},
		{name: "clinical time in the future", path: measure, body: []byte(`{"instrument":"phq9","score":9,"occurredAt":"2027-01-01T00:00:00Z"}`), header: jsonHeader("k15"),
			status: http.StatusBadRequest, code: "occurred_in_future", field: "occurredAt"},
		{name: "patient ID not a UUID", path: "/api/patients/robert/measures", body: valid, header: jsonHeader("k16"),
			status: http.StatusBadRequest, code: "invalid_input", field: "id"},
		{name: "bad wait parameter", path: measure + "?wait=soon", body: valid, header: jsonHeader("k17"),
			status: http.StatusBadRequest, code: "invalid_input", field: "wait"},
		{name: "module number not a number", path: "/api/groups/cbt-anxiety/modules/one/complete", body: []byte(`{"patient":"` + id + `"}`), header: jsonHeader("k18"),
			status: http.StatusBadRequest, code: "invalid_input", field: "n"},
		{name: "personal data without a name", path: "/api/patients", body: []byte(`{"source":"self","dateOfBirth":"1990-01-01"}`), header: jsonHeader("k19"),
			status: http.StatusBadRequest, code: "invalid_input", field: "name"},
		{name: "date of birth before 1900", path: "/api/patients", body: []byte(`{"source":"self","name":"Ann Example","dateOfBirth":"1800-05-01"}`), header: jsonHeader("k19b"),
			status: http.StatusBadRequest, code: "invalid_input", field: "dateOfBirth"},
		{name: "date of birth two days ahead", path: "/api/patients", body: []byte(`{"source":"self","name":"Ann Example","dateOfBirth":"` + testNow.AddDate(0, 0, 2).Format(time.DateOnly) + `"}`), header: jsonHeader("k19f"),
			status: http.StatusBadRequest, code: "invalid_input", field: "dateOfBirth"},
		{name: "unknown route", path: "/api/patients/" + id + "/teleport", body: valid, header: jsonHeader("k20"),
			status: http.StatusNotFound, code: "not_found"},
		{name: "wrong method", method: http.MethodDelete, path: "/api/census", header: jsonHeader("k21"),
			status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			before := st.eventCount(t)
			r := st.do(t, method, tc.path, tc.body, tc.header)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			if r.errorCode() != tc.code {
				t.Errorf("error code %q, want %q: %s", r.errorCode(), tc.code, r.raw)
			}
			if r.errorField() != tc.field {
				t.Errorf("error field %q, want %q: %s", r.errorField(), tc.field, r.raw)
			}
			if r.errorMessage() == "" {
				t.Errorf("error without a message: %s", r.raw)
			}
			if after := st.eventCount(t); after != before {
				t.Errorf("a refused request appended %d events", after-before)
			}
		})
	}
}

// TestStoreUnavailable checks that commands and readiness answer 503 while
// the store is down, and that the API recovers when it is back.
func TestStoreUnavailable(t *testing.T) {
	st := newStack(t)
	id := st.admitted(t, "Sam Example")
	st.store.down.Store(true)
	r := st.post(t, "/api/patients/"+id+"/measures", map[string]any{"instrument": "phq9", "score": 8})
	if r.status != http.StatusServiceUnavailable || r.errorCode() != "store_unavailable" {
		t.Fatalf("status %d, code %q, want 503 store_unavailable: %s", r.status, r.errorCode(), r.raw)
	}
	r = st.post(t, "/api/patients", map[string]any{"source": "self", "name": "Tia Example"})
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("referral while down: status %d, want 503: %s", r.status, r.raw)
	}
	st.store.down.Store(false)
	st.mustPost(t, "/api/patients/"+id+"/measures", map[string]any{"instrument": "phq9", "score": 8})
}

// TestIdempotentReplay repeats requests with the same key: the second
// answer is the first one's, marked duplicate, and nothing is appended.
func TestIdempotentReplay(t *testing.T) {
	st := newStack(t)
	admitted := st.admitted(t, "Uli Example")
	tests := []struct {
		name   string
		path   string
		body   any
		status int
	}{
		{name: "referral", path: "/api/patients", body: map[string]any{"source": "self", "name": "Val Example"}, status: http.StatusCreated},
		{name: "step-down", path: "/api/patients/" + admitted + "/step-down", body: map[string]any{"to": "iop", "program": "iop-evening"}, status: http.StatusOK},
		{name: "group join", path: "/api/groups/psychodynamic-5/join", body: map[string]any{"patient": admitted}, status: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := uuid.NewString()
			first := st.postKey(t, tc.path, key, tc.body)
			if first.status != tc.status {
				t.Fatalf("first: status %d, want %d: %s", first.status, tc.status, first.raw)
			}
			before := st.eventCount(t)
			again := st.postKey(t, tc.path, key, tc.body)
			if again.status != tc.status {
				t.Fatalf("replay: status %d, want %d: %s", again.status, tc.status, again.raw)
			}
			if after := st.eventCount(t); after != before {
				t.Errorf("the replay appended %d events", after-before)
			}
			if again.body["duplicate"] != true || first.body["duplicate"] != false {
				t.Errorf("duplicate flags: first %v, replay %v", first.body["duplicate"], again.body["duplicate"])
			}
			for _, f := range []string{"stream", "position", "patient"} {
				if first.str(f) != again.str(f) {
					t.Errorf("%s: first %q, replay %q", f, first.str(f), again.str(f))
				}
			}
		})
	}
}

// TestWaitForProjections checks read-your-writes: a command sent with
// ?wait=1 is visible to the very next query.
func TestWaitForProjections(t *testing.T) {
	st := newStack(t)
	id := st.refer(t, "Wyn Example")
	r := st.get(t, "/api/patients/"+id)
	if r.status != http.StatusOK {
		t.Fatalf("journey right after a waited referral: status %d: %s", r.status, r.raw)
	}
	if got := r.header.Get(PositionHeader); got == "" {
		t.Error("query answer without a position header")
	}
}

// TestWaitTimesOut checks that a waited command whose effect the
// projections do not show in time is answered 202: durable, not yet visible.
func TestWaitTimesOut(t *testing.T) {
	st := newStack(t, func(c *Config) { c.WaitTimeout = 50 * time.Millisecond })
	if err := st.runner.Stop(); err != nil {
		t.Fatal(err)
	}
	before := st.eventCount(t)
	r := st.post(t, "/api/patients?wait=1", map[string]any{"source": "self", "name": "Late Example"})
	if r.status != http.StatusAccepted || r.body["projected"] != false {
		t.Fatalf("status %d: %s; want 202 and projected false", r.status, r.raw)
	}
	if st.eventCount(t) != before+1 {
		t.Error("the command was not appended")
	}
}

// TestCommandsRecordTheirActor: every event a command appends names the
// signed-in user who issued it, in the event's metadata.
func TestCommandsRecordTheirActor(t *testing.T) {
	st := newStack(t)
	id := st.refer(t, "Ada Quill")
	recs, err := st.store.ReadStream(context.Background(), "patient-"+id, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := userFor("POST", "/api/patients")
	for _, r := range recs {
		m, err := domain.DecodeMetadata(r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if m.Actor == "" || m.Actor != want {
			t.Fatalf("%s recorded actor %q, want %q", r.Type, m.Actor, want)
		}
	}
}
