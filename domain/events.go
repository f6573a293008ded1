package domain

import "time"

// Event is a fact recorded in a stream. Every event is a flat, past-tense
// struct carrying the ID of the aggregate whose stream holds it and
// OccurredAt, the clinical time it happened (possibly backdated, unlike the
// store's recorded time; as-of analysis uses it).
type Event interface {
	// EventType is the stable type name stored with the event, e.g. "SteppedDown".
	EventType() string
	// StreamName is the stream the event belongs to, e.g. "patient-<uuid>".
	StreamName() string
	// When is the clinical time the event happened (its OccurredAt field).
	When() time.Time
}

// SealedPersonal is a person's name, date of birth and contact, encrypted
// outside the domain under a key of that person's own (KeyID). The domain
// never sees the plaintext; destroying the key erases the person from every
// copy of the log (crypto-shredding) while the clinical facts remain.
type SealedPersonal struct {
	KeyID      string `json:"keyId"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// Patient stream events.

// Referred opens a person's journey: someone referred them for care.
// Personal is nil for de-identified imports.
type Referred struct {
	Patient    PatientID       `json:"patient"`
	Source     ReferralSource  `json:"source"`
	Personal   *SealedPersonal `json:"personal,omitempty"`
	OccurredAt time.Time       `json:"occurredAt"`
}

// IntakeCompleted records the intake assessment: baseline scores, the
// recommended level of care, and the facts group rules and outcomes need.
type IntakeCompleted struct {
	Patient PatientID `json:"patient"`
	// PHQ9 and GAD7 are the baseline total scores.
	PHQ9             int   `json:"phq9"`
	GAD7             int   `json:"gad7"`
	RecommendedLevel Level `json:"recommendedLevel"`
	// PrimaryCare: a primary-care provider or psychiatrist is on file.
	PrimaryCare bool `json:"primaryCare"`
	// IndividualTherapy: the person has a concurrent individual therapist.
	IndividualTherapy bool `json:"individualTherapy"`
	// AgeYears is the age in whole years on the intake day: a clinical fact
	// for group age rules and cohorts that needs no date of birth.
	AgeYears int `json:"ageYears"`
	// ScoresUnknown and AgeUnknown mark an imported intake whose source did
	// not record the baseline scores or the age: PHQ9, GAD7 and AgeYears are
	// then zero placeholders that reports must leave out, never read as 0.
	ScoresUnknown bool      `json:"scoresUnknown,omitempty"`
	AgeUnknown    bool      `json:"ageUnknown,omitempty"`
	OccurredAt    time.Time `json:"occurredAt"`
}

// Admitted starts the first episode of care at a level, in a program.
type Admitted struct {
	Patient PatientID `json:"patient"`
	Program ProgramID `json:"program"`
	Level   Level     `json:"level"`
	// SourceSetting is an imported episode's setting code in its source
	// (e.g. TEDS-D SERVICES "5"), kept because several source settings map
	// to one level and analysts compare outcomes by the source's own codes.
	SourceSetting string    `json:"sourceSetting,omitempty"`
	OccurredAt    time.Time `json:"occurredAt"`
}

// MeasureRecorded records a total score of an outcome instrument.
type MeasureRecorded struct {
	Patient    PatientID  `json:"patient"`
	Instrument Instrument `json:"instrument"`
	Score      int        `json:"score"`
	OccurredAt time.Time  `json:"occurredAt"`
}

// SteppedDown moves a person to a less intensive level of care, in Program.
type SteppedDown struct {
	Patient    PatientID `json:"patient"`
	From       Level     `json:"from"`
	To         Level     `json:"to"`
	Program    ProgramID `json:"program"`
	OccurredAt time.Time `json:"occurredAt"`
}

// SteppedUp moves a person to a more intensive level of care, in Program.
type SteppedUp struct {
	Patient    PatientID `json:"patient"`
	From       Level     `json:"from"`
	To         Level     `json:"to"`
	Program    ProgramID `json:"program"`
	OccurredAt time.Time `json:"occurredAt"`
}

// Discharged ends an episode of care. Level and Program are the ones left,
// so a reader of this one event knows where the stay ended; AlumniGroup is
// the alumni or community group the person was discharged into, if any.
type Discharged struct {
	Patient     PatientID       `json:"patient"`
	Reason      DischargeReason `json:"reason"`
	Level       Level           `json:"level"`
	Program     ProgramID       `json:"program"`
	AlumniGroup GroupID         `json:"alumniGroup,omitempty"`
	// StayUnknown marks an imported discharge whose source did not record
	// the length of stay: the time between admission and discharge is a
	// placeholder, so length-of-stay figures must leave the episode out.
	StayUnknown bool      `json:"stayUnknown,omitempty"`
	OccurredAt  time.Time `json:"occurredAt"`
}

// Readmitted starts a new episode of care after a discharge.
type Readmitted struct {
	Patient PatientID `json:"patient"`
	Program ProgramID `json:"program"`
	Level   Level     `json:"level"`
	// SourceSetting is as in Admitted.
	SourceSetting string    `json:"sourceSetting,omitempty"`
	OccurredAt    time.Time `json:"occurredAt"`
}

// Group stream events.

// GroupCreated adds a group to the catalog with its full definition.
type GroupCreated struct {
	Group GroupID `json:"group"`
	GroupSpec
	OccurredAt time.Time `json:"occurredAt"`
}

// GroupChanged replaces a group's definition (schedule, capacity, status...).
// Members keep their seats even when the capacity shrinks below them.
type GroupChanged struct {
	Group GroupID `json:"group"`
	GroupSpec
	OccurredAt time.Time `json:"occurredAt"`
}

// MemberJoined gives a person a seat. Module is the 1-based module they
// entered at, 0 for a group without modules.
type MemberJoined struct {
	Group      GroupID   `json:"group"`
	Patient    PatientID `json:"patient"`
	Module     int       `json:"module"`
	OccurredAt time.Time `json:"occurredAt"`
}

// MemberWaitlisted queues a person for a seat of a full group; the waitlist
// is first come, first served.
type MemberWaitlisted struct {
	Group      GroupID   `json:"group"`
	Patient    PatientID `json:"patient"`
	OccurredAt time.Time `json:"occurredAt"`
}

// WaitlistPromoted gives the first waitlisted person a freed seat, recorded
// in the same append as the event that freed it so the group never holds a
// free seat while someone waits (unless entry is closed).
type WaitlistPromoted struct {
	Group      GroupID   `json:"group"`
	Patient    PatientID `json:"patient"`
	Module     int       `json:"module"`
	OccurredAt time.Time `json:"occurredAt"`
}

// WaitlistLeft takes a person off a group's waitlist without a seat.
type WaitlistLeft struct {
	Group      GroupID     `json:"group"`
	Patient    PatientID   `json:"patient"`
	Reason     LeaveReason `json:"reason"`
	OccurredAt time.Time   `json:"occurredAt"`
}

// MemberLeft frees a member's seat before completing the group.
type MemberLeft struct {
	Group      GroupID     `json:"group"`
	Patient    PatientID   `json:"patient"`
	Reason     LeaveReason `json:"reason"`
	OccurredAt time.Time   `json:"occurredAt"`
}

// SessionHeld records that a session of the group took place on Date, in
// module Module (0 for a group without modules).
type SessionHeld struct {
	Group      GroupID   `json:"group"`
	Session    SessionID `json:"session"`
	Date       Date      `json:"date"`
	Module     int       `json:"module"`
	OccurredAt time.Time `json:"occurredAt"`
}

// AttendanceRecorded records one member's attendance at a held session; a
// later record for the same session and person corrects the earlier one.
type AttendanceRecorded struct {
	Group      GroupID          `json:"group"`
	Session    SessionID        `json:"session"`
	Patient    PatientID        `json:"patient"`
	Status     AttendanceStatus `json:"status"`
	OccurredAt time.Time        `json:"occurredAt"`
}

// ModuleCompleted records a member completing one module (1-based).
type ModuleCompleted struct {
	Group      GroupID   `json:"group"`
	Patient    PatientID `json:"patient"`
	Module     int       `json:"module"`
	OccurredAt time.Time `json:"occurredAt"`
}

// GroupCompleted records a member completing the group; it frees the seat.
type GroupCompleted struct {
	Group      GroupID   `json:"group"`
	Patient    PatientID `json:"patient"`
	OccurredAt time.Time `json:"occurredAt"`
}

// Program stream events.

// ProgramCreated adds a program of care with its definition.
type ProgramCreated struct {
	Program ProgramID `json:"program"`
	ProgramSpec
	OccurredAt time.Time `json:"occurredAt"`
}

// ProgramChanged replaces a program's definition.
type ProgramChanged struct {
	Program ProgramID `json:"program"`
	ProgramSpec
	OccurredAt time.Time `json:"occurredAt"`
}

// EventType returns "Referred".
func (Referred) EventType() string { return "Referred" }

// EventType returns "IntakeCompleted".
func (IntakeCompleted) EventType() string { return "IntakeCompleted" }

// EventType returns "Admitted".
func (Admitted) EventType() string { return "Admitted" }

// EventType returns "MeasureRecorded".
func (MeasureRecorded) EventType() string { return "MeasureRecorded" }

// EventType returns "SteppedDown".
func (SteppedDown) EventType() string { return "SteppedDown" }

// EventType returns "SteppedUp".
func (SteppedUp) EventType() string { return "SteppedUp" }

// EventType returns "Discharged".
func (Discharged) EventType() string { return "Discharged" }

// EventType returns "Readmitted".
func (Readmitted) EventType() string { return "Readmitted" }

// EventType returns "GroupCreated".
func (GroupCreated) EventType() string { return "GroupCreated" }

// EventType returns "GroupChanged".
func (GroupChanged) EventType() string { return "GroupChanged" }

// EventType returns "MemberJoined".
func (MemberJoined) EventType() string { return "MemberJoined" }

// EventType returns "MemberWaitlisted".
func (MemberWaitlisted) EventType() string { return "MemberWaitlisted" }

// EventType returns "WaitlistPromoted".
func (WaitlistPromoted) EventType() string { return "WaitlistPromoted" }

// EventType returns "WaitlistLeft".
func (WaitlistLeft) EventType() string { return "WaitlistLeft" }

// EventType returns "MemberLeft".
func (MemberLeft) EventType() string { return "MemberLeft" }

// EventType returns "SessionHeld".
func (SessionHeld) EventType() string { return "SessionHeld" }

// EventType returns "AttendanceRecorded".
func (AttendanceRecorded) EventType() string { return "AttendanceRecorded" }

// EventType returns "ModuleCompleted".
func (ModuleCompleted) EventType() string { return "ModuleCompleted" }

// EventType returns "GroupCompleted".
func (GroupCompleted) EventType() string { return "GroupCompleted" }

// EventType returns "ProgramCreated".
func (ProgramCreated) EventType() string { return "ProgramCreated" }

// EventType returns "ProgramChanged".
func (ProgramChanged) EventType() string { return "ProgramChanged" }

// StreamName returns the patient's stream.
func (e Referred) StreamName() string { return PatientStream(e.Patient) }

// StreamName returns the patient's stream.
func (e IntakeCompleted) StreamName() string { return PatientStream(e.Patient) }

// StreamName returns the patient's stream.
func (e Admitted) StreamName() string { return PatientStream(e.Patient) }

// StreamName returns the patient's stream.
func (e MeasureRecorded) StreamName() string { return PatientStream(e.Patient) }

// StreamName returns the patient's stream.
func (e SteppedDown) StreamName() string { return PatientStream(e.Patient) }

// StreamName returns the patient's stream.
func (e SteppedUp) StreamName() string { return PatientStream(e.Patient) }

// StreamName returns the patient's stream.
func (e Discharged) StreamName() string { return PatientStream(e.Patient) }

// StreamName returns the patient's stream.
func (e Readmitted) StreamName() string { return PatientStream(e.Patient) }

// StreamName returns the group's stream.
func (e GroupCreated) StreamName() string { return GroupStream(e.Group) }

// StreamName returns the group's stream.
func (e GroupChanged) StreamName() string { return GroupStream(e.Group) }

// StreamName returns the group's stream.
func (e MemberJoined) StreamName() string { return GroupStream(e.Group) }

// StreamName returns the group's stream.
func (e MemberWaitlisted) StreamName() string { return GroupStream(e.Group) }

// StreamName returns the group's stream.
func (e WaitlistPromoted) StreamName() string { return GroupStream(e.Group) }

// StreamName returns the group's stream.
func (e WaitlistLeft) StreamName() string { return GroupStream(e.Group) }

// StreamName returns the group's stream.
func (e MemberLeft) StreamName() string { return GroupStream(e.Group) }

// StreamName returns the group's stream.
func (e SessionHeld) StreamName() string { return GroupStream(e.Group) }

// StreamName returns the group's stream.
func (e AttendanceRecorded) StreamName() string { return GroupStream(e.Group) }

// StreamName returns the group's stream.
func (e ModuleCompleted) StreamName() string { return GroupStream(e.Group) }

// StreamName returns the group's stream.
func (e GroupCompleted) StreamName() string { return GroupStream(e.Group) }

// StreamName returns the program's stream.
func (e ProgramCreated) StreamName() string { return ProgramStream(e.Program) }

// StreamName returns the program's stream.
func (e ProgramChanged) StreamName() string { return ProgramStream(e.Program) }

// When returns OccurredAt.
func (e Referred) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e IntakeCompleted) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e Admitted) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e MeasureRecorded) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e SteppedDown) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e SteppedUp) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e Discharged) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e Readmitted) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e GroupCreated) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e GroupChanged) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e MemberJoined) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e MemberWaitlisted) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e WaitlistPromoted) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e WaitlistLeft) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e MemberLeft) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e SessionHeld) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e AttendanceRecorded) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e ModuleCompleted) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e GroupCompleted) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e ProgramCreated) When() time.Time { return e.OccurredAt }

// When returns OccurredAt.
func (e ProgramChanged) When() time.Time { return e.OccurredAt }
