// Package outcomes is the analyst's replay: it folds the whole event log (or
// the part of it known at an as-of date) into outcome figures — episodes and
// their length of stay, transitions between levels, step-down success,
// 30-day readmission, completion, group and module completion, attendance,
// and PHQ-9/GAD-7 response and remission — by cohort and by program, and
// writes them as JSON, CSV tables or a self-contained HTML report.
//
// Everything is computed from one Fold, a deterministic fold over decoded
// events with no state outside it: the same log and the same Options give
// the same Report, byte for byte, on every run. The rules behind each figure
// are the ones analysts asked for, made exact so every figure can be checked
// on paper:
//
//   - Days are calendar days in the report's time zone (UTC unless told
//     otherwise); a stay's length is the number of days from the day it
//     began to the day it ended (admitted and discharged the same day: 0).
//   - An episode runs from an admission or readmission to the discharge.
//     Every rate about episodes counts closed episodes (discharged by the
//     horizon); open episodes are reported as open, never as drop-outs.
//   - The horizon is the as-of date when one is given (events with a later
//     clinical date are ignored), otherwise the clinical day of the latest
//     event in the log. A 30-day window that has not passed by the horizon
//     is pending and left out of its rate, unless the event that decides it
//     already happened.
//   - "Within 30 days" is inclusive: a readmission 30 days after the
//     discharge counts, one 31 days after does not. A discharge by death
//     cannot be followed by a readmission and is left out of that rate.
//   - A step-down succeeds when no step-up and no readmission follows
//     within 30 days of it.
//   - Measures: an episode's scores are those recorded after the previous
//     episode's discharge up to its own discharge, the intake's baseline
//     scores included. Baseline is the first, last the last; an episode with
//     at least two scores of an instrument is followed up, and the means,
//     response (a drop of at least 50 %), remission (last below 5) and
//     reliable improvement (a drop of at least 6 points on PHQ-9, 4 on
//     GAD-7) are over followed-up closed episodes — all of them, and those
//     whose baseline is at or above the clinical cut-off (PHQ-9 ≥ 10,
//     GAD-7 ≥ 8).
//   - Quartiles and medians interpolate linearly between order statistics
//     (h = (n−1)·p, the definition of R's default and of numpy).
//   - A rate with a zero denominator is null, never 0 or NaN; the counts
//     behind every rate are reported next to it so small numbers show.
//   - Imported episodes whose source did not record a length of stay are
//     left out of length-of-stay figures; unknown baseline scores are never
//     read as 0.
//   - The analyst never sees an identifier: people appear as pseudonyms
//     (P0000001, …) numbered in the order they first appear in the log.
package outcomes
