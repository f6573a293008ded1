package domain

import "time"

// ReferralSource says where a referral came from; outcomes are reported by
// source, so it is a closed set.
type ReferralSource uint8

// Referral sources.
const (
	// SourceAccessLine is the hospital's psychiatry access line.
	SourceAccessLine ReferralSource = iota + 1
	// SourceSelf is a person who contacted the service directly.
	SourceSelf
	// SourcePrimaryCare is a referral by the person's primary-care provider.
	SourcePrimaryCare
	// SourcePsychiatry is a referral by a psychiatrist or individual therapist.
	SourcePsychiatry
	// SourceEmergency is a referral from an emergency department.
	SourceEmergency
	// SourceHospital is a referral from a hospital or inpatient unit elsewhere.
	SourceHospital
	// SourceCommunity is a referral from a community provider or agency.
	SourceCommunity
	// SourceOther is any other source.
	SourceOther
)

var referralSources = enumSpec[ReferralSource]{kind: "referral source", names: []string{"", "access_line", "self", "primary_care", "psychiatry", "emergency", "hospital", "community", "other"}}

// ParseReferralSource reads a referral source from its wire name.
func ParseReferralSource(s string) (ReferralSource, error) { return referralSources.parse(s) }

// String returns the wire name.
func (r ReferralSource) String() string { return referralSources.name(r) }

// Valid reports whether r is a known source.
func (r ReferralSource) Valid() bool { return referralSources.valid(r) }

// MarshalText writes the wire name.
func (r ReferralSource) MarshalText() ([]byte, error) { return referralSources.marshal(r) }

// UnmarshalText reads the wire name.
func (r *ReferralSource) UnmarshalText(b []byte) error {
	v, err := referralSources.unmarshal(b)
	*r = v
	return err
}

// DischargeReason says why an episode of care ended; completion and
// readmission outcomes depend on it.
type DischargeReason uint8

// Discharge reasons.
const (
	// DischargeCompleted is a planned discharge after treatment goals were met.
	DischargeCompleted DischargeReason = iota + 1
	// DischargeAgainstAdvice is a person leaving against clinical advice.
	DischargeAgainstAdvice
	// DischargeDroppedOut is a person who stopped attending.
	DischargeDroppedOut
	// DischargeTransferred is a transfer to another provider.
	DischargeTransferred
	// DischargeAdministrative is an administrative discharge (insurance, rules).
	DischargeAdministrative
	// DischargeDeath is a death in care.
	DischargeDeath
	// DischargeOther is any other reason.
	DischargeOther
)

var dischargeReasons = enumSpec[DischargeReason]{kind: "discharge reason", names: []string{"", "completed", "against_advice", "dropped_out", "transferred", "administrative", "death", "other"}}

// ParseDischargeReason reads a discharge reason from its wire name.
func ParseDischargeReason(s string) (DischargeReason, error) { return dischargeReasons.parse(s) }

// String returns the wire name.
func (r DischargeReason) String() string { return dischargeReasons.name(r) }

// Valid reports whether r is a known reason.
func (r DischargeReason) Valid() bool { return dischargeReasons.valid(r) }

// MarshalText writes the wire name.
func (r DischargeReason) MarshalText() ([]byte, error) { return dischargeReasons.marshal(r) }

// UnmarshalText reads the wire name.
func (r *DischargeReason) UnmarshalText(b []byte) error {
	v, err := dischargeReasons.unmarshal(b)
	*r = v
	return err
}

// LeaveReason says why a person left a group or its waitlist before
// completing it; attendance and completion reports group by it.
type LeaveReason uint8

// Leave reasons.
const (
	// LeaveWithdrew is the person's own decision.
	LeaveWithdrew LeaveReason = iota + 1
	// LeaveDischarged is the release of seats after a discharge from care.
	LeaveDischarged
	// LeaveLevelChanged is a step-down or step-up that makes the group unsuitable.
	LeaveLevelChanged
	// LeaveNonAttendance is removal after repeated absences.
	LeaveNonAttendance
	// LeaveClinicalDecision is removal on the group leader's clinical judgement.
	LeaveClinicalDecision
	// LeaveTransferred is a move to another group.
	LeaveTransferred
	// LeaveOther is any other reason.
	LeaveOther
)

var leaveReasons = enumSpec[LeaveReason]{kind: "leave reason", names: []string{"", "withdrew", "discharged", "level_changed", "non_attendance", "clinical_decision", "transferred", "other"}}

// ParseLeaveReason reads a leave reason from its wire name.
func ParseLeaveReason(s string) (LeaveReason, error) { return leaveReasons.parse(s) }

// String returns the wire name.
func (r LeaveReason) String() string { return leaveReasons.name(r) }

// Valid reports whether r is a known reason.
func (r LeaveReason) Valid() bool { return leaveReasons.valid(r) }

// MarshalText writes the wire name.
func (r LeaveReason) MarshalText() ([]byte, error) { return leaveReasons.marshal(r) }

// UnmarshalText reads the wire name.
func (r *LeaveReason) UnmarshalText(b []byte) error {
	v, err := leaveReasons.unmarshal(b)
	*r = v
	return err
}

// AttendanceStatus is a member's attendance at one held session.
type AttendanceStatus uint8

// Attendance statuses.
const (
	// Present: the member attended.
	Present AttendanceStatus = iota + 1
	// Absent: the member missed the session without notice.
	Absent
	// Excused: the member missed the session with notice.
	Excused
)

var attendanceStatuses = enumSpec[AttendanceStatus]{kind: "attendance status", names: []string{"", "present", "absent", "excused"}}

// ParseAttendanceStatus reads an attendance status from its wire name.
func ParseAttendanceStatus(s string) (AttendanceStatus, error) { return attendanceStatuses.parse(s) }

// String returns the wire name.
func (a AttendanceStatus) String() string { return attendanceStatuses.name(a) }

// Valid reports whether a is a known status.
func (a AttendanceStatus) Valid() bool { return attendanceStatuses.valid(a) }

// MarshalText writes the wire name.
func (a AttendanceStatus) MarshalText() ([]byte, error) { return attendanceStatuses.marshal(a) }

// UnmarshalText reads the wire name.
func (a *AttendanceStatus) UnmarshalText(b []byte) error {
	v, err := attendanceStatuses.unmarshal(b)
	*a = v
	return err
}

// Modality is the kind of therapy group.
type Modality uint8

// Group modalities.
const (
	// ModalityProcess is open sharing and interpersonal feedback.
	ModalityProcess Modality = iota + 1
	// ModalityPsychoeducational teaches about conditions and treatment.
	ModalityPsychoeducational
	// ModalitySkills teaches and practises skills (CBT, DBT, ACT, mindfulness).
	ModalitySkills
	// ModalityRelapsePrevention prepares transitions and prevents relapse.
	ModalityRelapsePrevention
	// ModalitySupport is peer support, including alumni groups.
	ModalitySupport
)

var modalities = enumSpec[Modality]{kind: "modality", names: []string{"", "process", "psychoeducational", "skills", "relapse_prevention", "support"}}

// ParseModality reads a modality from its wire name.
func ParseModality(s string) (Modality, error) { return modalities.parse(s) }

// String returns the wire name.
func (m Modality) String() string { return modalities.name(m) }

// Valid reports whether m is a known modality.
func (m Modality) Valid() bool { return modalities.valid(m) }

// MarshalText writes the wire name.
func (m Modality) MarshalText() ([]byte, error) { return modalities.marshal(m) }

// UnmarshalText reads the wire name.
func (m *Modality) UnmarshalText(b []byte) error {
	v, err := modalities.unmarshal(b)
	*m = v
	return err
}

// EntryPolicy says when new members may join a group.
type EntryPolicy uint8

// Entry policies.
const (
	// EntryAnyTime admits a new member whenever a seat is free.
	EntryAnyTime EntryPolicy = iota + 1
	// EntryModuleStart admits new members only in the joining window at the
	// start of a module (see JoiningWindowDays).
	EntryModuleStart
	// EntryRolling is continuous ("rolling") admission: like EntryAnyTime for
	// the rules, kept distinct because the catalog and reports name it so.
	EntryRolling
)

var entryPolicies = enumSpec[EntryPolicy]{kind: "entry policy", names: []string{"", "any_time", "module_start", "rolling"}}

// ParseEntryPolicy reads an entry policy from its wire name.
func ParseEntryPolicy(s string) (EntryPolicy, error) { return entryPolicies.parse(s) }

// String returns the wire name.
func (p EntryPolicy) String() string { return entryPolicies.name(p) }

// Valid reports whether p is a known policy.
func (p EntryPolicy) Valid() bool { return entryPolicies.valid(p) }

// MarshalText writes the wire name.
func (p EntryPolicy) MarshalText() ([]byte, error) { return entryPolicies.marshal(p) }

// UnmarshalText reads the wire name.
func (p *EntryPolicy) UnmarshalText(b []byte) error {
	v, err := entryPolicies.unmarshal(b)
	*p = v
	return err
}

// Cadence is how often a group's schedule slots recur.
type Cadence uint8

// Cadences.
const (
	// Weekly groups meet in every slot every week.
	Weekly Cadence = iota + 1
	// Monthly groups meet once a month, in the slot's week of the month.
	Monthly
)

var cadences = enumSpec[Cadence]{kind: "cadence", names: []string{"", "weekly", "monthly"}}

// ParseCadence reads a cadence from its wire name.
func ParseCadence(s string) (Cadence, error) { return cadences.parse(s) }

// String returns the wire name.
func (c Cadence) String() string { return cadences.name(c) }

// Valid reports whether c is a known cadence.
func (c Cadence) Valid() bool { return cadences.valid(c) }

// MarshalText writes the wire name.
func (c Cadence) MarshalText() ([]byte, error) { return cadences.marshal(c) }

// UnmarshalText reads the wire name.
func (c *Cadence) UnmarshalText(b []byte) error {
	v, err := cadences.unmarshal(b)
	*c = v
	return err
}

// GroupStatus says whether a group is running; a group that is not running
// keeps its members but admits nobody and holds no sessions.
type GroupStatus uint8

// Group statuses.
const (
	// Running groups meet and admit members.
	Running GroupStatus = iota + 1
	// NotRunning groups are listed but currently paused.
	NotRunning
)

var groupStatuses = enumSpec[GroupStatus]{kind: "group status", names: []string{"", "running", "not_running"}}

// ParseGroupStatus reads a group status from its wire name.
func ParseGroupStatus(s string) (GroupStatus, error) { return groupStatuses.parse(s) }

// String returns the wire name.
func (s GroupStatus) String() string { return groupStatuses.name(s) }

// Valid reports whether s is a known status.
func (s GroupStatus) Valid() bool { return groupStatuses.valid(s) }

// MarshalText writes the wire name.
func (s GroupStatus) MarshalText() ([]byte, error) { return groupStatuses.marshal(s) }

// UnmarshalText reads the wire name.
func (s *GroupStatus) UnmarshalText(b []byte) error {
	v, err := groupStatuses.unmarshal(b)
	*s = v
	return err
}

// Weekday is a day of the week in a group's schedule, spelled out in
// lowercase on the wire so catalogs read naturally.
type Weekday uint8

// Weekdays, Monday first as clinic schedules are written.
const (
	Monday Weekday = iota + 1
	Tuesday
	Wednesday
	Thursday
	Friday
	Saturday
	Sunday
)

var weekdays = enumSpec[Weekday]{kind: "weekday", names: []string{"", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}}

// ParseWeekday reads a weekday from its lowercase English name.
func ParseWeekday(s string) (Weekday, error) { return weekdays.parse(s) }

// String returns the lowercase name.
func (d Weekday) String() string { return weekdays.name(d) }

// Valid reports whether d is a day of the week.
func (d Weekday) Valid() bool { return weekdays.valid(d) }

// TimeWeekday converts to the standard library's weekday for date arithmetic.
func (d Weekday) TimeWeekday() time.Weekday { return time.Weekday(d % 7) }

// WeekdayOf converts from the standard library's weekday.
func WeekdayOf(d time.Weekday) Weekday {
	if d == time.Sunday {
		return Sunday
	}
	return Weekday(d)
}

// MarshalText writes the lowercase name.
func (d Weekday) MarshalText() ([]byte, error) { return weekdays.marshal(d) }

// UnmarshalText reads the lowercase name.
func (d *Weekday) UnmarshalText(b []byte) error {
	v, err := weekdays.unmarshal(b)
	*d = v
	return err
}
