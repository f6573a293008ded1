package reliability

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/domain"
)

// FuzzDecode feeds arbitrary stored events to the codec's public entry
// points, the ones every replay and every command's fold goes through:
// Decode must refuse with one of its two typed errors or return an event
// of the asked type; when that event encodes, decoding the encoding must
// give back the same bytes (stored data is stable under a rewrite); DecodeData,
// the replay's fast path, must agree with Decode whenever Decode accepts.
// domain's own FuzzFastDecoders compares the hand-written readers with
// encoding/json; this one covers metadata, versions and upcasting around
// them. The seed corpus (testdata/fuzz/FuzzDecode) holds every event type's
// golden data, an upcast from version 1, and damaged events. Run it longer
// with go test ./reliability -run '^$' -fuzz FuzzDecode -fuzztime 60s.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, eventType string, data, metadata []byte) {
		e, m, err := domain.Decode(eventType, data, metadata)
		if err != nil {
			if !errors.Is(err, domain.ErrUnknownEventType) && !errors.Is(err, domain.ErrMalformedEvent) {
				t.Fatalf("Decode refused with an untyped error: %v", err)
			}
			return
		}
		if e.EventType() != eventType {
			t.Fatalf("Decode(%q) returned a %s", eventType, e.EventType())
		}
		typ, encoded, err := domain.Encode(e)
		if errors.Is(err, domain.ErrMalformedEvent) {
			// Decoding leaves absent members at their zero value, and a
			// zero enum (no level, no modality) is not written back: the
			// encoder refuses with its typed error. Nothing stored was
			// written so, since every append goes through Encode.
			return
		}
		if err != nil || typ != eventType {
			t.Fatalf("a decoded %s does not encode: %q, %v", eventType, typ, err)
		}
		m.SchemaVersion = domain.SchemaVersion(eventType)
		again, _, err := domain.Decode(typ, encoded, domain.EncodeMetadata(m))
		if err != nil {
			t.Fatalf("a decoded %s, encoded, does not decode: %v\n%s", eventType, err, encoded)
		}
		if _, reencoded, _ := domain.Encode(again); !bytes.Equal(reencoded, encoded) {
			t.Fatalf("a %s changes when decoded and encoded again:\nfirst:  %s\nsecond: %s", eventType, encoded, reencoded)
		}
		fast, err := domain.DecodeData(eventType, data, metadata)
		if err != nil {
			t.Fatalf("DecodeData refuses a %s that Decode accepts: %v", eventType, err)
		}
		if _, fastEncoded, _ := domain.Encode(fast); !bytes.Equal(fastEncoded, encoded) {
			t.Fatalf("DecodeData and Decode disagree on a %s:\nDecode:     %s\nDecodeData: %s", eventType, encoded, fastEncoded)
		}
	})
}

// commandRoute is a command route of the API with its path filled in.
type commandRoute struct {
	method, path string
	// admin routes change the catalog; the rest are a clinician's.
	admin bool
}

// commandRoutes lists every command route, naming the stack's admitted
// person, a group of their level and a session of today.
func commandRoutes(patient string) []commandRoute {
	p := "/api/patients/" + patient
	session := string(domain.NewSessionID(domain.DateOf(stackNow), domain.ClockTime(stackNow.Hour()*60)))
	return []commandRoute{
		{method: http.MethodPost, path: "/api/patients"},
		{method: http.MethodPost, path: p + "/intake"},
		{method: http.MethodPost, path: p + "/admit"},
		{method: http.MethodPost, path: p + "/readmit"},
		{method: http.MethodPost, path: p + "/measures"},
		{method: http.MethodPost, path: p + "/step-down"},
		{method: http.MethodPost, path: p + "/step-up"},
		{method: http.MethodPost, path: p + "/discharge"},
		{method: http.MethodPost, path: "/api/groups/php-process/join"},
		{method: http.MethodPost, path: "/api/groups/php-process/leave"},
		{method: http.MethodPost, path: "/api/groups/php-process/sessions"},
		{method: http.MethodPost, path: "/api/groups/php-process/sessions/" + session + "/attendance"},
		{method: http.MethodPost, path: "/api/groups/coping-skills-healthy-living/modules/1/complete"},
		{method: http.MethodPost, path: "/api/groups/php-process/complete"},
		{method: http.MethodPost, path: "/api/groups", admin: true},
		{method: http.MethodPut, path: "/api/groups/php-process", admin: true},
		{method: http.MethodPost, path: "/api/programs", admin: true},
		{method: http.MethodPut, path: "/api/programs/php", admin: true},
	}
}

// FuzzCommandJSON sends arbitrary bodies with arbitrary content types to
// every command route of the real handler (the route is picked by the
// first argument): the server must never answer 5xx (a panic is recovered
// into a 500, so this catches those too), every refusal must carry a code
// and a message, and a refused command must append nothing to the
// clinical streams. The seed corpus (testdata/fuzz/FuzzCommandJSON) holds a
// valid body for each route and the malformed ones the API must refuse.
// Run it longer with go test ./reliability -run '^$' -fuzz FuzzCommandJSON
// -fuzztime 60s.
func FuzzCommandJSON(f *testing.F) {
	st := newStack(f)
	routes := commandRoutes(st.patient)
	f.Fuzz(func(t *testing.T, route uint8, contentType string, body []byte) {
		rt := routes[int(route)%len(routes)]
		auth := st.clinician
		if rt.admin {
			auth = st.admin
		}
		before := st.lastClinical(t)
		r := st.send(rt.method, rt.path, auth, http.Header{"Content-Type": {contentType}}, body)
		if r.status >= 500 {
			t.Fatalf("%s %s with %q: status %d: %s", rt.method, rt.path, body, r.status, r.body)
		}
		if r.status < 400 {
			return
		}
		if e, ok := r.refusal(); !ok || e.Code == "" || strings.TrimSpace(e.Message) == "" {
			t.Fatalf("%s %s with %q: status %d without a coded error: %s", rt.method, rt.path, body, r.status, r.body)
		}
		if after := st.lastClinical(t); after != before {
			t.Fatalf("%s %s with %q: refused with %d but appended (last clinical event %s, was %s)", rt.method, rt.path, body, r.status, after, before)
		}
	})
}
