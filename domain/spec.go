package domain

import (
	"strconv"
	"time"
)

// DefaultGroupCapacity is the number of seats of a group whose definition
// gives none, as the hospital's catalog assumes.
const DefaultGroupCapacity = 10

// JoiningWindowDays is how long entry stays open after a module starts in a
// module-start group: the module's first week, so a person who learns of the
// group on the first session day can still join that module.
const JoiningWindowDays = 7

// ProgramSpec defines a program of care: a unit or service at one level of
// care (an inpatient unit, a PHP, a morning IOP) with a census capacity.
type ProgramSpec struct {
	Name  string `json:"name"`
	Level Level  `json:"level"`
	// Capacity is the census the program is staffed for; the board shows
	// occupancy against it. It does not refuse admissions: a census over
	// capacity is a fact the director must see, not one the system may hide.
	Capacity int `json:"capacity"`
	// Description says who the program is for, for people choosing one.
	Description string `json:"description,omitempty"`
}

// Validate checks a program definition.
func (s ProgramSpec) Validate() error {
	if s.Name == "" {
		return &InvalidError{Field: "name", Reason: "program name is empty"}
	}
	if !s.Level.Valid() {
		return &InvalidError{Field: "level", Reason: "program level is not set"}
	}
	if s.Capacity <= 0 || s.Capacity > MaxProgramCapacity {
		return &InvalidError{Field: "capacity", Reason: "program capacity must be from 1 to " + strconv.Itoa(MaxProgramCapacity)}
	}
	return nil
}

// MaxProgramCapacity and MaxGroupCapacity bound the census a program is
// staffed for and the seats of a group: far above any real unit or group,
// they refuse a typo (a capacity of 99,999,999,999) that would make the
// board's occupancy meaningless.
const (
	MaxProgramCapacity = 10_000
	MaxGroupCapacity   = 1_000
)

// Prerequisite is a group, or one module of it, that a person must have
// completed before joining another group.
type Prerequisite struct {
	Group GroupID `json:"group"`
	// Module is the 1-based module number, or 0 for the whole group.
	Module int `json:"module,omitempty"`
}

// String says what must be completed, e.g. "group dbt-skills-monday" or
// "module 1 of group cbt-anxiety".
func (p Prerequisite) String() string {
	if p.Module > 0 {
		return "module " + strconv.Itoa(p.Module) + " of group " + string(p.Group)
	}
	return "group " + string(p.Group)
}

// Requirements are the eligibility rules a join checks against facts about
// the person. Rules a system cannot check (diagnosis fit, an evaluation with
// the leader) belong in GroupSpec.Eligibility as text.
type Requirements struct {
	// MinAge is the minimum age in years, or 0 for none.
	MinAge int `json:"minAge,omitempty"`
	// IndividualTherapy requires concurrent individual psychotherapy.
	IndividualTherapy bool `json:"individualTherapy,omitempty"`
	// PrimaryCare requires a primary-care provider or psychiatrist on file.
	PrimaryCare bool `json:"primaryCare,omitempty"`
	// Prerequisites, when any, require having completed at least one of them.
	Prerequisites []Prerequisite `json:"prerequisites,omitempty"`
}

// GroupSpec defines a therapy group: what it is, when it meets, how it is
// structured and who may join. It is data (the catalog), not code.
type GroupSpec struct {
	Name     string   `json:"name"`
	Modality Modality `json:"modality"`
	Level    Level    `json:"level"`
	// Program is the program the group belongs to, or "" for a group open to
	// anyone at its level.
	Program ProgramID `json:"program,omitempty"`
	// Capacity is the number of seats; 0 in a definition means DefaultGroupCapacity.
	Capacity int         `json:"capacity,omitempty"`
	Status   GroupStatus `json:"status"`
	Cadence  Cadence     `json:"cadence"`
	Slots    []Slot      `json:"slots"`
	// Modules are the ordered parts of a structured group; empty for open-ended groups.
	Modules []Module `json:"modules,omitempty"`
	// CycleStart is the first day of module 1 of the first cycle; modules
	// then follow back to back and the cycle repeats. Required with modules.
	CycleStart Date        `json:"cycleStart,omitzero"`
	Entry      EntryPolicy `json:"entry"`
	// Requirements are checked when a person joins.
	Requirements Requirements `json:"requirements,omitzero"`
	// MinCommitmentWeeks is the commitment asked of members, for the intake
	// conversation; 0 when none is stated.
	MinCommitmentWeeks int `json:"minCommitmentWeeks,omitempty"`
	// Eligibility describes who the group suits beyond the checked
	// requirements (diagnoses, evaluation with the leader).
	Eligibility string `json:"eligibility,omitempty"`
}

// WithDefaults fills what a definition may leave out (the capacity), so the
// catalog and the CreateGroup decider apply the same defaults.
func (s GroupSpec) WithDefaults() GroupSpec {
	if s.Capacity == 0 {
		s.Capacity = DefaultGroupCapacity
	}
	return s
}

// Validate checks a group definition after defaults are applied.
func (s GroupSpec) Validate() error {
	switch {
	case s.Name == "":
		return &InvalidError{Field: "name", Reason: "group name is empty"}
	case !s.Modality.Valid():
		return &InvalidError{Field: "modality", Reason: "group modality is not set"}
	case !s.Level.Valid():
		return &InvalidError{Field: "level", Reason: "group level is not set"}
	case s.Program != "" && !s.Program.Valid():
		return &InvalidError{Field: "program", Reason: "group program is not a valid program ID"}
	case s.Capacity <= 0 || s.Capacity > MaxGroupCapacity:
		return &InvalidError{Field: "capacity", Reason: "group capacity must be from 1 to " + strconv.Itoa(MaxGroupCapacity)}
	case !s.Status.Valid():
		return &InvalidError{Field: "status", Reason: "group status is not set (running or not_running)"}
	case !s.Cadence.Valid():
		return &InvalidError{Field: "cadence", Reason: "group cadence is not set"}
	case len(s.Slots) == 0 && s.Status == Running:
		return &InvalidError{Field: "slots", Reason: "a running group needs schedule slots"}
	case !s.Entry.Valid():
		return &InvalidError{Field: "entry", Reason: "group entry policy is not set"}
	case s.MinCommitmentWeeks < 0:
		return &InvalidError{Field: "minCommitmentWeeks", Reason: "minimum commitment is negative"}
	}
	for i, sl := range s.Slots {
		field := "slots[" + strconv.Itoa(i) + "]"
		switch {
		case !sl.Day.Valid():
			return &InvalidError{Field: field, Reason: "slot day is not set"}
		case !sl.Start.Valid() || !sl.End.Valid() || sl.End <= sl.Start:
			return &InvalidError{Field: field, Reason: "slot must end after it starts, within one day"}
		case s.Cadence == Monthly && (sl.WeekOfMonth < 1 || sl.WeekOfMonth > 4):
			return &InvalidError{Field: field, Reason: "a monthly slot needs weekOfMonth 1–4"}
		case s.Cadence == Weekly && sl.WeekOfMonth != 0:
			return &InvalidError{Field: field, Reason: "weekOfMonth applies to monthly groups only"}
		}
	}
	for i, m := range s.Modules {
		if m.Name == "" || m.Weeks <= 0 {
			return &InvalidError{Field: "modules[" + strconv.Itoa(i) + "]", Reason: "a module needs a name and a positive number of weeks"}
		}
	}
	if len(s.Modules) > 0 && s.CycleStart.IsZero() {
		return &InvalidError{Field: "cycleStart", Reason: "a group with modules needs the start date of its first cycle"}
	}
	if !s.CycleStart.IsZero() && s.CycleStart.Time().Before(EarliestClinicalTime) {
		return &InvalidError{Field: "cycleStart", Reason: "a cycle start before 1900 is not plausible"}
	}
	if s.Entry == EntryModuleStart && len(s.Modules) == 0 {
		return &InvalidError{Field: "entry", Reason: "module_start entry needs modules"}
	}
	r := s.Requirements
	if r.MinAge < 0 {
		return &InvalidError{Field: "requirements.minAge", Reason: "minimum age is negative"}
	}
	for i, p := range r.Prerequisites {
		if !p.Group.Valid() || p.Module < 0 {
			return &InvalidError{Field: "requirements.prerequisites[" + strconv.Itoa(i) + "]", Reason: "a prerequisite needs a group ID and a module number ≥ 0"}
		}
	}
	return nil
}

// cycleDays is the length of one full cycle of modules in days, or 0 when
// the modules do not form a schedule (none, a module without weeks, no
// cycle start); such a definition never passes Validate, but folds of
// stored history must not panic on it either.
func (s GroupSpec) cycleDays() int {
	if len(s.Modules) == 0 || s.CycleStart.IsZero() {
		return 0
	}
	weeks := 0
	for _, m := range s.Modules {
		if m.Weeks <= 0 {
			return 0
		}
		weeks += m.Weeks
	}
	return weeks * 7
}

// ModuleOn answers which module runs on day d and the day it started. A
// group without modules answers 0; before the first cycle starts, module 1
// and its first start, as that is the module a person joining then enters.
func (s GroupSpec) ModuleOn(d Date) (module int, start Date) {
	cycle := s.cycleDays()
	if cycle == 0 {
		return 0, Date{}
	}
	offset := d.DaysSince(s.CycleStart)
	if offset < 0 {
		return 1, s.CycleStart
	}
	start = s.CycleStart.AddDays(offset / cycle * cycle)
	into := offset % cycle
	for i, m := range s.Modules {
		if into < m.Weeks*7 {
			return i + 1, start
		}
		into -= m.Weeks * 7
		start = start.AddDays(m.Weeks * 7)
	}
	return len(s.Modules), start // not reached: into < cycle
}

// NextModuleStart answers the first module start strictly after day d, or
// 0 for a group without modules.
func (s GroupSpec) NextModuleStart(d Date) (module int, start Date) {
	m, started := s.ModuleOn(d)
	switch {
	case m == 0:
		return 0, Date{}
	case d.Before(s.CycleStart):
		return 1, s.CycleStart
	}
	return m%len(s.Modules) + 1, started.AddDays(s.Modules[m-1].Weeks * 7)
}

// EntryOpen answers whether the entry policy admits a new member on day d,
// the module they would enter (0 without modules) and, when entry is
// closed, when it opens next.
func (s GroupSpec) EntryOpen(d Date) (open bool, module int, nextStart Date) {
	module, started := s.ModuleOn(d)
	if s.Entry != EntryModuleStart {
		return true, module, Date{}
	}
	if into := d.DaysSince(started); into >= 0 && into < JoiningWindowDays {
		return true, module, Date{}
	}
	next, start := s.NextModuleStart(d)
	return false, next, start
}

// entryClosedError is the typed refusal of a join at clinical time at, or nil
// when entry is open then.
func (s GroupSpec) entryClosedError(id GroupID, at time.Time) error {
	open, module, next := s.EntryOpen(DateOf(at))
	if open {
		return nil
	}
	return &EntryClosedError{Group: id, GroupName: s.Name, NextModule: module, NextStart: next}
}
