package reliability

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestBadInput sends malformed requests the web package's own tables
// (TestRequestErrors, TestCommands) do not: scores below range and not
// whole, ages and dates out of range, personal data too long, unknown
// members nested in a catalog definition, invalid UTF-8, a wrong media
// type and an oversized body on the admin's and the referral's routes,
// too long an idempotency key, and bad query parameters. Each must be a
// 4xx with a code, a message and the field at fault, and append nothing.
func TestBadInput(t *testing.T) {
	st := newStack(t)
	referred := st.post(t, "/api/patients", st.clinician, []byte(`{"source":"self"}`))
	var a commandAnswer
	if referred.status != http.StatusCreated || json.Unmarshal(referred.body, &a) != nil {
		t.Fatalf("referral: %d %s", referred.status, referred.body)
	}
	intake := "/api/patients/" + a.Patient + "/intake"
	measure := "/api/patients/" + st.patient + "/measures"
	jsonType := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name         string
		method, path string
		admin        bool
		header       http.Header
		body         string
		status       int
		code, field  string
	}{
		{name: "score below range", path: measure, body: `{"instrument":"gad7","score":-1}`,
			status: http.StatusBadRequest, code: "score_out_of_range", field: "score"},
		{name: "intake score below range", path: intake, body: `{"phq9":10,"gad7":-1,"recommendedLevel":"php","ageYears":30}`,
			status: http.StatusBadRequest, code: "score_out_of_range", field: "gad7"},
		{name: "score not whole", path: measure, body: `{"instrument":"phq9","score":9.5}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "score"},
		{name: "score overflowing", path: measure, body: `{"instrument":"phq9","score":1e400}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "score"},
		{name: "negative age", path: intake, body: `{"phq9":10,"gad7":5,"recommendedLevel":"php","ageYears":-3}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "ageYears"},
		{name: "impossible age", path: intake, body: `{"phq9":10,"gad7":5,"recommendedLevel":"php","ageYears":500}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "ageYears"},
		{name: "date of birth in the future", path: "/api/patients", body: `{"source":"self","name":"Bad Input","dateOfBirth":"2999-01-01"}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "dateOfBirth"},
		{name: "date of birth not a day", path: "/api/patients", body: `{"source":"self","name":"Bad Input","dateOfBirth":"1990-02-30"}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "dateOfBirth"},
		{name: "discharge in the future", path: "/api/patients/" + st.patient + "/discharge", body: `{"reason":"completed","occurredAt":"2999-01-01T00:00:00Z"}`,
			status: http.StatusBadRequest, code: "occurred_in_future", field: "occurredAt"},
		{name: "clinical time with an impossible offset", path: measure, body: `{"instrument":"phq9","score":9,"occurredAt":"2026-11-10T15:00:00+25:00"}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "occurredAt"},
		{name: "name too long", path: "/api/patients", body: `{"source":"self","name":"` + strings.Repeat("n", 201) + `"}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "name"},
		{name: "level in the wrong case", path: "/api/patients/" + st.patient + "/step-down", body: `{"to":"IOP","program":"iop-evening"}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "to"},
		{name: "module number zero", path: "/api/groups/php-process/modules/0/complete", body: `{"patient":"` + st.patient + `"}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "n"},
		{name: "deeply nested JSON", path: measure, body: strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
			status: http.StatusBadRequest, code: "malformed_json"},
		{name: "idempotency key too long", path: measure, body: `{"instrument":"phq9","score":9}`,
			header: http.Header{"Content-Type": {"application/json"}, "Idempotency-Key": {strings.Repeat("k", 129)}},
			status: http.StatusBadRequest, code: "invalid_input", field: "Idempotency-Key"},
		{name: "oversized referral", path: "/api/patients", body: `{"source":"self","name":"` + strings.Repeat("é", 40000) + `"}`,
			status: http.StatusRequestEntityTooLarge, code: "request_too_large"},
		{name: "unknown member nested in a group definition", method: http.MethodPut, path: "/api/groups/php-process", admin: true,
			body:   `{"name":"PHP process group","modality":"process","level":"php","capacity":12,"slots":[{"day":"monday","start":"10:00","end":"11:00","room":"B"}]}`,
			status: http.StatusBadRequest, code: "unknown_field", field: "room"},
		{name: "invalid UTF-8 in a group definition", method: http.MethodPut, path: "/api/groups/php-process", admin: true,
			body: "{\"name\":\"\xc3\x28\"}", status: http.StatusBadRequest, code: "invalid_utf8"},
		{name: "text/plain to a catalog route", method: http.MethodPut, path: "/api/programs/php", admin: true,
			header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, body: `{"name":"PHP","level":"php","capacity":30}`,
			status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "negative capacity", path: "/api/programs", admin: true, body: `{"id":"bad-input","name":"Bad input","level":"iop","capacity":-5}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "capacity"},
		{name: "implausible program capacity", path: "/api/programs", admin: true, body: `{"id":"bad-input","name":"Bad input","level":"iop","capacity":99999999999}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "capacity"},
		{name: "implausible group capacity", method: http.MethodPut, path: "/api/groups/php-process", admin: true,
			body:   `{"name":"PHP process group","modality":"process","level":"php","capacity":5000,"status":"running","cadence":"weekly","entry":"any_time","slots":[{"day":"monday","start":"10:00","end":"11:00"}]}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "capacity"},
		{name: "unknown enum value in a group definition", method: http.MethodPut, path: "/api/groups/php-process", admin: true,
			body:   `{"name":"PHP process group","modality":"process","level":"php","capacity":12,"status":"running","cadence":"weekly","entry":"open","slots":[{"day":"monday","start":"10:00","end":"11:00"}]}`,
			status: http.StatusBadRequest, code: "invalid_input"},
		{name: "ID in the body differs from the path", method: http.MethodPut, path: "/api/programs/php", admin: true,
			body:   `{"id":"iop-evening","name":"PHP","level":"php","capacity":30}`,
			status: http.StatusBadRequest, code: "invalid_input", field: "id"},
		{name: "list limit zero", method: http.MethodGet, path: "/api/patients?limit=0",
			status: http.StatusBadRequest, code: "invalid_input", field: "limit"},
		{name: "list limit not a number", method: http.MethodGet, path: "/api/patients?limit=ten",
			status: http.StatusBadRequest, code: "invalid_input", field: "limit"},
		{name: "list limit too large", method: http.MethodGet, path: "/api/patients?limit=99999",
			status: http.StatusBadRequest, code: "invalid_input", field: "limit"},
		{name: "unknown status filter", method: http.MethodGet, path: "/api/patients?status=bogus",
			status: http.StatusBadRequest, code: "invalid_input", field: "status"},
		{name: "search not UTF-8", method: http.MethodGet, path: "/api/patients?q=%ff",
			status: http.StatusBadRequest, code: "invalid_utf8", field: "q"},
		{name: "group ID not a slug", method: http.MethodGet, path: "/api/groups/BAD_SLUG",
			status: http.StatusBadRequest, code: "invalid_input", field: "id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			header := tc.header
			if header == nil && method != http.MethodGet {
				header = jsonType
			}
			auth := st.clinician
			if tc.admin {
				auth = st.admin
			}
			before := st.lastClinical(t)
			r := st.send(method, tc.path, auth, header, []byte(tc.body))
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			e, ok := r.refusal()
			if !ok || e.Code != tc.code || e.Field != tc.field || strings.TrimSpace(e.Message) == "" {
				t.Errorf("refusal %+v, want code %q, field %q and a message: %s", e, tc.code, tc.field, r.body)
			}
			if after := st.lastClinical(t); after != before {
				t.Errorf("a refused request appended (last clinical event %s, was %s)", after, before)
			}
		})
	}
}
