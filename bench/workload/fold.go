package workload

import (
	"hash/fnv"
	"strconv"

	"github.com/continuum-care/continuum/domain"
)

// Fold is the simple read model a replay builds: the census by level of
// care, admissions and discharges, attendance by status, and the sum and
// count of scores by instrument. It is small on purpose, so a replay measures
// reading and decoding, not the read model.
type Fold struct {
	Events     int
	Census     [domain.Outpatient + 1]int
	Admissions int
	Discharges int
	StepDowns  int
	StepUps    int
	Sessions   int
	Attendance [domain.Excused + 1]int
	ScoreSum   [domain.GAD7 + 1]int
	ScoreCount [domain.GAD7 + 1]int
}

// Apply folds one event in. Every event counts; the types the read model
// ignores are still decoded by the caller, as a real replay would.
func (f *Fold) Apply(e domain.Event) {
	f.Events++
	switch e := e.(type) {
	case domain.Admitted:
		f.Admissions++
		f.Census[e.Level]++
	case domain.Readmitted:
		f.Admissions++
		f.Census[e.Level]++
	case domain.SteppedDown:
		f.StepDowns++
		f.Census[e.From]--
		f.Census[e.To]++
	case domain.SteppedUp:
		f.StepUps++
		f.Census[e.From]--
		f.Census[e.To]++
	case domain.Discharged:
		f.Discharges++
		f.Census[e.Level]--
	case domain.SessionHeld:
		f.Sessions++
	case domain.AttendanceRecorded:
		f.Attendance[e.Status]++
	case domain.MeasureRecorded:
		f.ScoreSum[e.Instrument] += e.Score
		f.ScoreCount[e.Instrument]++
	}
}

// Digest summarizes the fold in one number, so two replays of the same
// history (continuum's and a peer's) can show they folded the same facts.
func (f *Fold) Digest() string {
	h := fnv.New64a()
	write := func(ns ...int) {
		for _, n := range ns {
			h.Write(strconv.AppendInt(nil, int64(n), 10))
			h.Write([]byte{','})
		}
	}
	write(f.Events, f.Admissions, f.Discharges, f.StepDowns, f.StepUps, f.Sessions)
	write(f.Census[:]...)
	write(f.Attendance[:]...)
	write(f.ScoreSum[:]...)
	write(f.ScoreCount[:]...)
	return strconv.FormatUint(h.Sum64(), 16)
}
