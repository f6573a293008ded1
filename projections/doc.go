// Package projections holds the live read models of continuum and the one
// runner that keeps them up to date from the event store's $all stream.
//
// The read models are deterministic folds over decoded domain events: the
// same log always gives the same state and the same snapshot bytes (maps are
// written in sorted key order, slices in log order, no wall clock or
// randomness inside the fold). Anything that depends on "now" — today's
// movements, the last seven days, lengths of stay — is computed at query
// time from a now argument.
//
//   - Census: aggregates only (people per level and program against
//     capacity, group occupancy and waitlists, daily movements, median length
//     of stay, the intake pipeline) for the director's board. It never
//     exposes a patient identifier.
//   - PatientList: who is where now, for the clinician's search. Personal
//     data stays sealed as the event carried it; the web layer decrypts it at
//     query time, so no plaintext ever sits in a projection or its snapshot.
//   - Rosters: per group, the members with their modules and attendance,
//     the waitlist in order and the sessions held.
//   - Journeys: per patient, the timeline of levels of care, groups,
//     modules, attendance and measures, with the PHQ-9 and GAD-7 series.
//
// Every update costs O(1) or O(log n) in the size of the history (at worst
// linear in one person's or one group's own entries), so a board stays
// fast however long the service has run.
//
// The Runner subscribes to $all from its checkpoint, decodes each event once
// and applies it to every model under one lock, so a query sees one
// consistent state tagged with the position of the last event applied. It
// writes the checkpoint and a snapshot of all models to one file, atomically,
// so a restart resumes from the snapshot and only replays the tail.
package projections
