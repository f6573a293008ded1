package domain

import (
	"strconv"
	"time"
)

// Date is a calendar day without a time zone: module cycle starts and session
// days are days in the clinic's calendar, not instants. Deciders take the
// calendar day of a clinical time in that time's own location, so callers
// pass times in the clinic's zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate reads a day written YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, &InvalidError{Field: "date", Reason: "not a date in the form YYYY-MM-DD"}
	}
	return DateOf(t), nil
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight UTC of the day, a fixed instant for day arithmetic.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// AddDays returns the day n days later (earlier when n < 0).
func (d Date) AddDays(n int) Date { return DateOf(d.Time().AddDate(0, 0, n)) }

// DaysSince returns the number of days from other to d (negative if d is earlier).
func (d Date) DaysSince(other Date) int {
	return int(d.Time().Sub(other.Time()) / (24 * time.Hour))
}

// Before reports whether d is an earlier day than other.
func (d Date) Before(other Date) bool { return d.DaysSince(other) < 0 }

// After reports whether d is a later day than other.
func (d Date) After(other Date) bool { return d.DaysSince(other) > 0 }

// Weekday returns the day of the week.
func (d Date) Weekday() Weekday { return WeekdayOf(d.Time().Weekday()) }

// String writes YYYY-MM-DD.
func (d Date) String() string { return d.Time().Format(time.DateOnly) }

// MarshalText writes YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return nil, &InvalidError{Field: "date", Reason: "date is not set"}
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	*d = v
	return err
}

// ClockTime is a wall-clock time of day in minutes after midnight, written
// "HH:MM" (24-hour) in catalogs and events.
type ClockTime int

// ParseClockTime reads "HH:MM" (24-hour).
func ParseClockTime(s string) (ClockTime, error) {
	bad := &InvalidError{Field: "time", Reason: "not a time in the form HH:MM (24-hour)"}
	if len(s) != 5 || s[2] != ':' {
		return 0, bad
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, bad
	}
	return ClockTime(h*60 + m), nil
}

// Valid reports whether t is a time of day.
func (t ClockTime) Valid() bool { return t >= 0 && t < 24*60 }

// String writes "HH:MM".
func (t ClockTime) String() string {
	b := make([]byte, 0, 5)
	h, m := int(t)/60, int(t)%60
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10))
	return string(b)
}

// MarshalText writes "HH:MM".
func (t ClockTime) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, &InvalidError{Field: "time", Reason: "time of day out of range"}
	}
	return []byte(t.String()), nil
}

// UnmarshalText reads "HH:MM".
func (t *ClockTime) UnmarshalText(b []byte) error {
	v, err := ParseClockTime(string(b))
	*t = v
	return err
}

// Slot is one recurring meeting time of a group.
type Slot struct {
	Day   Weekday   `json:"day"`
	Start ClockTime `json:"start"`
	End   ClockTime `json:"end"`
	// WeekOfMonth (1–4) picks the week for monthly groups ("the first Friday");
	// it is 0 and unused for weekly groups.
	WeekOfMonth int `json:"weekOfMonth,omitempty"`
}

// Module is one ordered part of a structured group, e.g. CBT for anxiety's
// six-week "psychoeducation and cognitive techniques".
type Module struct {
	Name  string `json:"name"`
	Weeks int    `json:"weeks"`
}
