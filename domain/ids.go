package domain

import "strings"

// PatientID identifies a person in care: a UUID in canonical lowercase form
// (8-4-4-4-12 hex digits). It is an opaque key, never derived from personal
// data, so it can appear in streams and projections.
type PatientID string

// GroupID identifies a therapy group: a slug such as "cbt-anxiety".
type GroupID string

// ProgramID identifies a program of care: a slug such as "iop-evening".
type ProgramID string

// SessionID identifies one held session of a group, unique within the group:
// a slug, by convention NewSessionID's date-and-time form.
type SessionID string

// Stream name prefixes. Subscriptions filter $all by these, so they are part
// of the stored format.
const (
	PatientStreamPrefix = "patient-"
	GroupStreamPrefix   = "group-"
	ProgramStreamPrefix = "program-"
)

// maxSlugLen bounds IDs so stream names stay short and error messages bounded.
const maxSlugLen = 64

// ParsePatientID validates a UUID and returns it in canonical lowercase form,
// so the same person always maps to the same stream whatever case the caller used.
func ParsePatientID(s string) (PatientID, error) {
	if len(s) != 36 {
		return "", &InvalidError{Field: "patient", Reason: "patient ID must be a 36-character UUID"}
	}
	b := []byte(s)
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", &InvalidError{Field: "patient", Reason: "patient ID must be a UUID (8-4-4-4-12 hex digits)"}
			}
			continue
		}
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			b[i] = c + ('a' - 'A')
		default:
			return "", &InvalidError{Field: "patient", Reason: "patient ID must be a UUID (8-4-4-4-12 hex digits)"}
		}
	}
	return PatientID(b), nil
}

// Valid reports whether id is a canonical lowercase UUID.
func (id PatientID) Valid() bool {
	p, err := ParsePatientID(string(id))
	return err == nil && p == id
}

// ParseGroupID validates a group slug.
func ParseGroupID(s string) (GroupID, error) {
	if err := checkSlug("group", s); err != nil {
		return "", err
	}
	return GroupID(s), nil
}

// Valid reports whether id is a well-formed slug.
func (id GroupID) Valid() bool { return checkSlug("group", string(id)) == nil }

// ParseProgramID validates a program slug.
func ParseProgramID(s string) (ProgramID, error) {
	if err := checkSlug("program", s); err != nil {
		return "", err
	}
	return ProgramID(s), nil
}

// Valid reports whether id is a well-formed slug.
func (id ProgramID) Valid() bool { return checkSlug("program", string(id)) == nil }

// ParseSessionID validates a session slug.
func ParseSessionID(s string) (SessionID, error) {
	if err := checkSlug("session", s); err != nil {
		return "", err
	}
	return SessionID(s), nil
}

// Valid reports whether id is a well-formed slug.
func (id SessionID) Valid() bool { return checkSlug("session", string(id)) == nil }

// NewSessionID names the session of a group that starts on day d at start,
// e.g. "2026-03-02-1000", so everyone recording the same session (the
// clinician, the simulator, an import) derives the same ID.
func NewSessionID(d Date, start ClockTime) SessionID {
	clock := start.String() // "10:00"
	return SessionID(d.String() + "-" + clock[:2] + clock[3:])
}

// checkSlug accepts lowercase letters and digits in dash-separated words:
// safe in stream names, URLs and file names alike.
func checkSlug(field, s string) error {
	if s == "" {
		return &InvalidError{Field: field, Reason: field + " ID is empty"}
	}
	if len(s) > maxSlugLen {
		return &InvalidError{Field: field, Reason: field + " ID is longer than 64 characters"}
	}
	prevDash := true // a leading dash is refused like a double one
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			prevDash = false
		case c == '-' && !prevDash:
			prevDash = true
		default:
			return &InvalidError{Field: field, Reason: field + " ID must be lowercase letters and digits separated by single dashes"}
		}
	}
	if prevDash {
		return &InvalidError{Field: field, Reason: field + " ID must not end with a dash"}
	}
	return nil
}

// PatientStream names the stream of one person's clinical journey.
func PatientStream(id PatientID) string { return PatientStreamPrefix + string(id) }

// GroupStream names the stream of one group's seats and sessions.
func GroupStream(id GroupID) string { return GroupStreamPrefix + string(id) }

// ProgramStream names the stream of one program.
func ProgramStream(id ProgramID) string { return ProgramStreamPrefix + string(id) }

// PatientIDFromStream recovers the patient ID from a patient stream name.
func PatientIDFromStream(stream string) (PatientID, error) {
	rest, ok := strings.CutPrefix(stream, PatientStreamPrefix)
	if !ok {
		return "", &InvalidError{Field: "stream", Reason: "not a patient stream"}
	}
	return ParsePatientID(rest)
}

// GroupIDFromStream recovers the group ID from a group stream name.
func GroupIDFromStream(stream string) (GroupID, error) {
	rest, ok := strings.CutPrefix(stream, GroupStreamPrefix)
	if !ok {
		return "", &InvalidError{Field: "stream", Reason: "not a group stream"}
	}
	return ParseGroupID(rest)
}

// ProgramIDFromStream recovers the program ID from a program stream name.
func ProgramIDFromStream(stream string) (ProgramID, error) {
	rest, ok := strings.CutPrefix(stream, ProgramStreamPrefix)
	if !ok {
		return "", &InvalidError{Field: "stream", Reason: "not a program stream"}
	}
	return ParseProgramID(rest)
}
