package domain

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
)

// Hand-written encoders of the frequent, flat event types, the writing
// counterpart of decode_fast.go: every command appends events, and
// encoding/json's reflection was a fifth of an import's command path. They
// write exactly the bytes encoding/json writes (a test compares them on the
// goldens and on random events); anything unusual (a string needing
// escapes, a time outside UTC or years 0-9999, an enum that does not
// marshal) makes them give up, and Encode falls back to encoding/json.

// jsonWriter appends one JSON object; ok turns false when a value needs
// encoding/json.
type jsonWriter struct {
	b  []byte
	ok bool
}

func newJSONWriter() *jsonWriter { return &jsonWriter{b: make([]byte, 0, 192), ok: true} }

func (w *jsonWriter) key(k string) {
	switch n := len(w.b); {
	case n == 0:
		w.b = append(w.b, '{')
	case w.b[n-1] != '{': // not the first member of a nested object
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

// str writes a string that needs no escaping, or gives up.
func (w *jsonWriter) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			w.ok = false
			return
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

func (w *jsonWriter) int(n int) { w.b = strconv.AppendInt(w.b, int64(n), 10) }

func (w *jsonWriter) bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

// time writes what time.Time.MarshalJSON writes for a UTC time.
func (w *jsonWriter) time(t time.Time) {
	if t.Location() != time.UTC || t.Year() < 0 || t.Year() > 9999 {
		w.ok = false
		return
	}
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

// text writes an enum by its wire name.
func (w *jsonWriter) text(m encoding.TextMarshaler) {
	name, err := m.MarshalText()
	if err != nil {
		w.ok = false
		return
	}
	w.str(string(name))
}

// bytes writes a []byte as encoding/json does: base64, or null when nil.
func (w *jsonWriter) bytes(b []byte) {
	if b == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = append(w.b, '"')
	w.b = base64.StdEncoding.AppendEncode(w.b, b)
	w.b = append(w.b, '"')
}

func (w *jsonWriter) done() ([]byte, bool) {
	if !w.ok {
		return nil, false
	}
	return append(w.b, '}'), true
}

// encodeFast encodes the frequent event types; ok is false for the others
// and for values only encoding/json handles.
func encodeFast(e Event) (data []byte, ok bool) {
	w := newJSONWriter()
	switch e := e.(type) {
	case Referred:
		w.key("patient")
		w.str(string(e.Patient))
		w.key("source")
		w.text(e.Source)
		if e.Personal != nil {
			w.key("personal")
			w.b = append(w.b, '{')
			w.key("keyId")
			w.str(e.Personal.KeyID)
			w.key("nonce")
			w.bytes(e.Personal.Nonce)
			w.key("ciphertext")
			w.bytes(e.Personal.Ciphertext)
			w.b = append(w.b, '}')
		}
		w.key("occurredAt")
		w.time(e.OccurredAt)
	case IntakeCompleted:
		w.key("patient")
		w.str(string(e.Patient))
		w.key("phq9")
		w.int(e.PHQ9)
		w.key("gad7")
		w.int(e.GAD7)
		w.key("recommendedLevel")
		w.text(e.RecommendedLevel)
		w.key("primaryCare")
		w.bool(e.PrimaryCare)
		w.key("individualTherapy")
		w.bool(e.IndividualTherapy)
		w.key("ageYears")
		w.int(e.AgeYears)
		if e.ScoresUnknown {
			w.key("scoresUnknown")
			w.bool(true)
		}
		if e.AgeUnknown {
			w.key("ageUnknown")
			w.bool(true)
		}
		w.key("occurredAt")
		w.time(e.OccurredAt)
	case Admitted:
		w.admission(e.Patient, e.Program, e.Level, e.SourceSetting, e.OccurredAt)
	case Readmitted:
		w.admission(e.Patient, e.Program, e.Level, e.SourceSetting, e.OccurredAt)
	case MeasureRecorded:
		w.key("patient")
		w.str(string(e.Patient))
		w.key("instrument")
		w.text(e.Instrument)
		w.key("score")
		w.int(e.Score)
		w.key("occurredAt")
		w.time(e.OccurredAt)
	case SteppedDown:
		w.levelChange(e.Patient, e.From, e.To, e.Program, e.OccurredAt)
	case SteppedUp:
		w.levelChange(e.Patient, e.From, e.To, e.Program, e.OccurredAt)
	case Discharged:
		w.key("patient")
		w.str(string(e.Patient))
		w.key("reason")
		w.text(e.Reason)
		w.key("level")
		w.text(e.Level)
		w.key("program")
		w.str(string(e.Program))
		if e.AlumniGroup != "" {
			w.key("alumniGroup")
			w.str(string(e.AlumniGroup))
		}
		if e.StayUnknown {
			w.key("stayUnknown")
			w.bool(true)
		}
		w.key("occurredAt")
		w.time(e.OccurredAt)
	case AttendanceRecorded:
		w.key("group")
		w.str(string(e.Group))
		w.key("session")
		w.str(string(e.Session))
		w.key("patient")
		w.str(string(e.Patient))
		w.key("status")
		w.text(e.Status)
		w.key("occurredAt")
		w.time(e.OccurredAt)
	default:
		return nil, false
	}
	return w.done()
}

// admission writes Admitted and Readmitted, which have the same members.
func (w *jsonWriter) admission(p PatientID, program ProgramID, level Level, setting string, at time.Time) {
	w.key("patient")
	w.str(string(p))
	w.key("program")
	w.str(string(program))
	w.key("level")
	w.text(level)
	if setting != "" {
		w.key("sourceSetting")
		w.str(setting)
	}
	w.key("occurredAt")
	w.time(at)
}

// levelChange writes SteppedDown and SteppedUp, which have the same members.
func (w *jsonWriter) levelChange(p PatientID, from, to Level, program ProgramID, at time.Time) {
	w.key("patient")
	w.str(string(p))
	w.key("from")
	w.text(from)
	w.key("to")
	w.text(to)
	w.key("program")
	w.str(string(program))
	w.key("occurredAt")
	w.time(at)
}

// encodeJSON is encoding/json, for everything encodeFast leaves.
func encodeJSON(e Event) ([]byte, error) { return json.Marshal(e) }
