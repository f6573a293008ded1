// Package workload generates the realistic clinical history the benchmarks
// write and replay, and the fold they replay it into. It depends on the
// domain only, so the peer benchmark (a separate module, bench/peers) writes
// and folds exactly the same events as continuum's own benchmark.
package workload

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// Batch is a run of events of one stream, appended together.
type Batch struct {
	Stream string
	Events []domain.Event
}

// Shape of a cohort, chosen so the mix of event types resembles a day
// program's log: attendance first, then weekly measures, then the rest.
const (
	patientsPerCohort = 64
	groupsPerCohort   = 8
	membersPerGroup   = patientsPerCohort / groupsPerCohort
	groupWeeks        = 20
	sessionsPerWeek   = 2
	minStayWeeks      = 6
	maxStayWeeks      = 20
)

// History produces an endless, deterministic history cohort by cohort: 64
// people referred, assessed, admitted to PHP or IOP, measured weekly with
// PHQ-9 and GAD-7, sometimes stepped down or up, discharged; and 8 groups
// with their members, twice-weekly sessions and attendance. The same seed
// always yields the same events, so two benchmarks can fold identical logs
// and compare their digests.
type History struct {
	rng     *rand.Rand
	cohort  int
	start   time.Time
	pending []Batch
}

// NewHistory starts a history; seed selects one of many equally realistic ones.
func NewHistory(seed uint64) *History {
	return &History{
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		start: time.Date(2024, time.January, 1, 9, 0, 0, 0, time.UTC),
	}
}

// Next returns the next stream's batch. Every stream gets exactly one batch
// (a patient's whole stay, or a group's twenty weeks), so a writer can append
// each with the expected revision "no stream".
func (h *History) Next() Batch {
	if len(h.pending) == 0 {
		h.pending = h.nextCohort()
	}
	b := h.pending[0]
	h.pending = h.pending[1:]
	return b
}

// NextOf returns the next batch whose stream name starts with prefix
// (domain.PatientStreamPrefix, domain.GroupStreamPrefix), skipping others:
// workloads that append to one kind of stream take whole stays or whole
// group lives from it.
func (h *History) NextOf(prefix string) Batch {
	for {
		if b := h.Next(); strings.HasPrefix(b.Stream, prefix) {
			return b
		}
	}
}

// nextCohort generates one cohort's streams, patients first, each group after its members.
func (h *History) nextCohort() []Batch {
	h.cohort++
	begin := h.start.AddDate(0, 0, 7*h.cohort)
	patients := make([]domain.PatientID, patientsPerCohort)
	batches := make([]Batch, 0, patientsPerCohort+groupsPerCohort)
	for i := range patients {
		patients[i] = h.patientID()
		batches = append(batches, h.patientStay(patients[i], begin.Add(time.Duration(i)*time.Hour)))
	}
	for g := range groupsPerCohort {
		members := patients[g*membersPerGroup : (g+1)*membersPerGroup]
		batches = append(batches, h.groupLife(g, members, begin))
	}
	return batches
}

// patientID draws a random UUID, as the application assigns at referral.
func (h *History) patientID() domain.PatientID {
	a, b := h.rng.Uint64(), h.rng.Uint64()
	a = a&^(0xf<<12) | 0x4<<12 // version 4
	b = b&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	return domain.PatientID(fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
		a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff))
}

// patientStay is one person's journey from referral to discharge.
func (h *History) patientStay(p domain.PatientID, at time.Time) Batch {
	r := h.rng
	program, level := domain.ProgramID("php-day"), domain.PHP
	if r.IntN(2) == 0 {
		program, level = "iop-evening", domain.IOP
	}
	weeks := minStayWeeks + r.IntN(maxStayWeeks-minStayWeeks+1)
	phq, gad := 12+r.IntN(16), 8+r.IntN(14) // moderate to severe at baseline
	events := make([]domain.Event, 0, 6+2*weeks)
	events = append(events,
		domain.Referred{Patient: p, Source: domain.ReferralSource(1 + r.IntN(8)), Personal: h.sealed(), OccurredAt: at},
		domain.IntakeCompleted{Patient: p, PHQ9: phq, GAD7: gad, RecommendedLevel: level, PrimaryCare: r.IntN(4) > 0,
			IndividualTherapy: r.IntN(2) == 0, AgeYears: 18 + r.IntN(60), OccurredAt: at.Add(48 * time.Hour)},
		domain.Admitted{Patient: p, Program: program, Level: level, OccurredAt: at.Add(72 * time.Hour)},
	)
	stepAt := -1
	if level == domain.PHP && r.IntN(2) == 0 {
		stepAt = weeks / 2
	}
	for w := 1; w <= weeks; w++ {
		day := at.AddDate(0, 0, 7*w)
		phq = max(0, phq-r.IntN(3)+r.IntN(2)) // most people improve, unevenly
		gad = max(0, gad-r.IntN(3)+r.IntN(2))
		events = append(events,
			domain.MeasureRecorded{Patient: p, Instrument: domain.PHQ9, Score: min(phq, 27), OccurredAt: day},
			domain.MeasureRecorded{Patient: p, Instrument: domain.GAD7, Score: min(gad, 21), OccurredAt: day.Add(time.Minute)},
		)
		switch {
		case w == stepAt:
			events = append(events, domain.SteppedDown{Patient: p, From: level, To: domain.IOP, Program: "iop-evening", OccurredAt: day.Add(time.Hour)})
			program, level = "iop-evening", domain.IOP
		case level == domain.IOP && w == weeks-1 && r.IntN(20) == 0:
			events = append(events, domain.SteppedUp{Patient: p, From: level, To: domain.PHP, Program: "php-day", OccurredAt: day.Add(time.Hour)})
			program, level = "php-day", domain.PHP
		}
	}
	reason := domain.DischargeCompleted
	if r.IntN(6) == 0 {
		reason = domain.DischargeDroppedOut
	}
	events = append(events, domain.Discharged{Patient: p, Reason: reason, Level: level, Program: program,
		OccurredAt: at.AddDate(0, 0, 7*weeks+1)})
	return Batch{Stream: domain.PatientStream(p), Events: events}
}

// sealed stands in for a referral's encrypted personal data: random bytes of
// a realistic size, never plaintext.
func (h *History) sealed() *domain.SealedPersonal {
	s := &domain.SealedPersonal{KeyID: fmt.Sprintf("key-%016x", h.rng.Uint64()), Nonce: make([]byte, 12), Ciphertext: make([]byte, 96)}
	for i := range s.Nonce {
		s.Nonce[i] = byte(h.rng.Uint32())
	}
	for i := range s.Ciphertext {
		s.Ciphertext[i] = byte(h.rng.Uint32())
	}
	return s
}

// groupLife is one group's definition, members, sessions and attendance.
func (h *History) groupLife(index int, members []domain.PatientID, begin time.Time) Batch {
	r := h.rng
	group := domain.GroupID(fmt.Sprintf("skills-c%d-g%d", h.cohort, index))
	level := domain.PHP
	if index%2 == 1 {
		level = domain.IOP
	}
	events := make([]domain.Event, 0, 1+3*len(members)+groupWeeks*sessionsPerWeek*(1+len(members)))
	events = append(events, domain.GroupCreated{Group: group, GroupSpec: domain.GroupSpec{
		Name: "Coping skills", Modality: domain.ModalitySkills, Level: level, Capacity: 10,
		Status: domain.Running, Cadence: domain.Weekly, Entry: domain.EntryAnyTime,
		Slots: []domain.Slot{{Day: domain.Tuesday, Start: 10 * 60, End: 11*60 + 15}, {Day: domain.Thursday, Start: 10 * 60, End: 11*60 + 15}},
	}, OccurredAt: begin})
	for i, p := range members {
		events = append(events, domain.MemberJoined{Group: group, Patient: p, OccurredAt: begin.Add(time.Duration(72+i) * time.Hour)})
	}
	for s := range groupWeeks * sessionsPerWeek {
		day := begin.AddDate(0, 0, 7+s*7/sessionsPerWeek).Add(time.Hour)
		session := domain.NewSessionID(domain.DateOf(day), 10*60)
		events = append(events, domain.SessionHeld{Group: group, Session: session, Date: domain.DateOf(day), OccurredAt: day})
		for _, p := range members {
			status := domain.Present
			switch r.IntN(10) {
			case 0:
				status = domain.Absent
			case 1:
				status = domain.Excused
			}
			events = append(events, domain.AttendanceRecorded{Group: group, Session: session, Patient: p, Status: status,
				OccurredAt: day.Add(75 * time.Minute)})
		}
	}
	end := begin.AddDate(0, 0, 7*(groupWeeks+1))
	for _, p := range members {
		events = append(events, domain.GroupCompleted{Group: group, Patient: p, OccurredAt: end})
	}
	return Batch{Stream: domain.GroupStream(group), Events: events}
}
