package domain

import "time"

// clinicalTime resolves a command's clinical time: zero means "now", and a
// time after now is refused, since facts may be backdated but never
// recorded ahead. The result keeps at's location so calendar days are the
// caller's; events store it in UTC (see utc).
func clinicalTime(at, now time.Time) (time.Time, error) {
	if at.IsZero() {
		return now, nil
	}
	if at.After(now) {
		return time.Time{}, &FutureError{At: at, Now: now}
	}
	if at.Before(EarliestClinicalTime) {
		return time.Time{}, &InvalidError{Field: "occurredAt", Reason: "a clinical time before 1900 is not plausible"}
	}
	return at, nil
}

// EarliestClinicalTime bounds backdating: no fact recorded here happened
// before it, so a mistyped year (0202 for 2022) is refused, not stored.
var EarliestClinicalTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// utc normalizes a clinical time for storage, so the same fact always
// encodes to the same bytes whatever zone the caller worked in.
func utc(t time.Time) time.Time { return t.UTC() }

// checkPatientID refuses an ID that is not a canonical UUID.
func checkPatientID(id PatientID) error {
	if !id.Valid() {
		return &InvalidError{Field: "patient", Reason: "patient ID must be a canonical lowercase UUID"}
	}
	return nil
}
