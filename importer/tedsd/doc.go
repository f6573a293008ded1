// Package tedsd imports SAMHSA's TEDS-D public-use file (Treatment Episode
// Data Set – Discharges): each row, one treatment episode of a person the
// file does not identify, becomes one episode of continuum through the
// ordinary command path — a referral, an intake, an admission at the level
// the row's SERVICES code maps to (the code itself kept on the admission), a
// step-down or step-up when SERVICES_D maps to another level, and a
// discharge with the mapped reason.
//
// The file publishes only the discharge year, so every date is an estimate
// and marked so on the events: the discharge falls on a day of DISYR chosen
// by hashing the year and CASEID (the same row always gets the same day),
// the admission LOS days earlier. LOS codes 31–36 are ranges and count as
// their midpoints (rounded down); 37, "more than a year", counts as 366
// days. TEDS-D adds one day to outpatient stays so that the first and last
// days both count; the importer takes it back, so a same-day outpatient
// episode lasts 0 days as it would if recorded here. A missing value (-9)
// stays unknown: an unknown length of stay, age or discharge setting is
// marked unknown on the events, never written as 0. A row without the
// values an episode cannot exist without (CASEID, DISYR, SERVICES, REASON)
// is malformed.
//
// Each row is validated whole before anything is written. The patient ID
// and every command's idempotency key derive from DISYR and CASEID, so
// importing a file again appends nothing, and an import interrupted midway
// completes its half-written rows on the next run. Patient IDs sort by
// year and CASEID, so the store adds a file's patients in order; builds
// before that derived them otherwise (legacyPatientID), and an import into
// a store that held events already looks for each episode under that ID
// too, so a file imported by such a build is not imported twice.
package tedsd
