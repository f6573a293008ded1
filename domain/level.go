package domain

// Level is a level of care. The values are ordered from most to least
// intensive, so comparing them answers whether a move is a step-down or a
// step-up. The zero value means "no level" (not in care) and is never valid
// in an event.
type Level uint8

// The levels of care, most intensive first.
const (
	// Inpatient is 24-hour, medically managed care.
	Inpatient Level = iota + 1
	// Residential is 24-hour care with groups several times a day.
	Residential
	// PHP is partial hospitalization: a day program of about 20+ hours a week.
	PHP
	// IOP is intensive outpatient: about 9–19 hours a week while living at home.
	IOP
	// Outpatient is weekly groups and/or individual therapy.
	Outpatient
)

var levels = enumSpec[Level]{kind: "level", names: []string{"", "inpatient", "residential", "php", "iop", "outpatient"}}

// Levels lists every level of care, most intensive first, for boards and
// reports that show all of them even when empty.
func Levels() []Level { return []Level{Inpatient, Residential, PHP, IOP, Outpatient} }

// ParseLevel reads a level from its lowercase name ("inpatient", ..., "outpatient").
func ParseLevel(s string) (Level, error) { return levels.parse(s) }

// String returns the lowercase wire name.
func (l Level) String() string { return levels.name(l) }

// Valid reports whether l is one of the five levels (not the zero value).
func (l Level) Valid() bool { return levels.valid(l) }

// MoreIntensiveThan reports whether l is a more intensive level than other;
// a move to a more intensive level is a step-up.
func (l Level) MoreIntensiveThan(other Level) bool {
	return l.Valid() && other.Valid() && l < other
}

// LessIntensiveThan reports whether l is a less intensive level than other;
// a move to a less intensive level is a step-down.
func (l Level) LessIntensiveThan(other Level) bool { return other.MoreIntensiveThan(l) }

// MarshalText writes the lowercase name; the zero value is refused so an
// unset level never reaches the log.
func (l Level) MarshalText() ([]byte, error) { return levels.marshal(l) }

// UnmarshalText reads the lowercase name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := levels.unmarshal(b)
	*l = v
	return err
}
