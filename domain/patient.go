package domain

import "time"

// PatientStatus is where a person is in the journey, as far as the rules
// of the patient stream are concerned.
type PatientStatus uint8

// Patient statuses, in the order a journey usually passes through them.
const (
	// StatusNone: the stream is empty; nobody was referred.
	StatusNone PatientStatus = iota
	// StatusReferred: referred, intake not yet completed.
	StatusReferred
	// StatusAssessed: intake completed, not yet admitted.
	StatusAssessed
	// StatusInCare: admitted (or readmitted) to a level of care.
	StatusInCare
	// StatusDischarged: the last episode of care ended.
	StatusDischarged
)

var patientStatusNames = [...]string{"none", "referred", "assessed", "in_care", "discharged"}

// String returns a lowercase name for messages and views.
func (s PatientStatus) String() string {
	if int(s) < len(patientStatusNames) {
		return patientStatusNames[s]
	}
	return "invalid"
}

// Patient is the state of one person's stream, folded from its events. It
// holds only what the rules need; journeys and outcomes are projections.
type Patient struct {
	ID     PatientID
	Status PatientStatus
	Source ReferralSource
	// Intake is the latest intake, nil before the first.
	Intake *IntakeCompleted
	// Level and Program are the current ones while in care, zero otherwise.
	Level   Level
	Program ProgramID
	// Episodes counts admissions and readmissions.
	Episodes int
	// EpisodeStart is the clinical time of the current or last (re)admission.
	EpisodeStart time.Time
	// LastMoveAt is the clinical time of the latest journey event (all but
	// measures): a new move may not be dated before it.
	LastMoveAt time.Time
}

// PatientCommand is a command addressed to one patient stream.
type PatientCommand interface {
	// StreamName is the stream the command is decided on.
	StreamName() string
	patientCommand()
}

// Refer opens a person's journey. Personal is the sealed personal data, nil
// for a de-identified import.
type Refer struct {
	Patient  PatientID
	Source   ReferralSource
	Personal *SealedPersonal
	At       time.Time
}

// CompleteIntake records the intake assessment. It is allowed before the
// first admission and again after a discharge (a re-assessment before
// readmission), not while in care.
type CompleteIntake struct {
	Patient           PatientID
	PHQ9, GAD7        int
	RecommendedLevel  Level
	PrimaryCare       bool
	IndividualTherapy bool
	AgeYears          int
	// ScoresUnknown and AgeUnknown record that an imported source had no
	// baseline scores or age; the placeholders must then be zero.
	ScoresUnknown bool
	AgeUnknown    bool
	At            time.Time
}

// Admit starts the first episode of care; it needs a completed intake.
type Admit struct {
	Patient PatientID
	Program ProgramID
	Level   Level
	// SourceSetting is an imported episode's setting code in its source
	// (see Admitted); empty for episodes recorded here.
	SourceSetting string
	At            time.Time
}

// RecordMeasure records an instrument's total score. Measures are accepted
// in every status after the referral, including after discharge: follow-up
// scores are what outcome reports (remission, relapse) are made of.
type RecordMeasure struct {
	Patient    PatientID
	Instrument Instrument
	Score      int
	At         time.Time
}

// StepDown moves a person in care to a less intensive level, in Program.
type StepDown struct {
	Patient PatientID
	To      Level
	Program ProgramID
	At      time.Time
}

// StepUp moves a person in care to a more intensive level, in Program.
type StepUp struct {
	Patient PatientID
	To      Level
	Program ProgramID
	At      time.Time
}

// Discharge ends the current episode of care; AlumniGroup optionally names
// the alumni or community group the person goes on to.
type Discharge struct {
	Patient     PatientID
	Reason      DischargeReason
	AlumniGroup GroupID
	// StayUnknown marks an imported discharge without a recorded length of
	// stay (see Discharged).
	StayUnknown bool
	At          time.Time
}

// Readmit starts a new episode after a discharge. After a discharge it is
// the only command besides RecordMeasure and CompleteIntake that is accepted.
type Readmit struct {
	Patient PatientID
	Program ProgramID
	Level   Level
	// SourceSetting is as in Admit.
	SourceSetting string
	At            time.Time
}

// StreamName returns the patient's stream.
func (c Refer) StreamName() string { return PatientStream(c.Patient) }

// StreamName returns the patient's stream.
func (c CompleteIntake) StreamName() string { return PatientStream(c.Patient) }

// StreamName returns the patient's stream.
func (c Admit) StreamName() string { return PatientStream(c.Patient) }

// StreamName returns the patient's stream.
func (c RecordMeasure) StreamName() string { return PatientStream(c.Patient) }

// StreamName returns the patient's stream.
func (c StepDown) StreamName() string { return PatientStream(c.Patient) }

// StreamName returns the patient's stream.
func (c StepUp) StreamName() string { return PatientStream(c.Patient) }

// StreamName returns the patient's stream.
func (c Discharge) StreamName() string { return PatientStream(c.Patient) }

// StreamName returns the patient's stream.
func (c Readmit) StreamName() string { return PatientStream(c.Patient) }

func (Refer) patientCommand()          {}
func (CompleteIntake) patientCommand() {}
func (Admit) patientCommand()          {}
func (RecordMeasure) patientCommand()  {}
func (StepDown) patientCommand()       {}
func (StepUp) patientCommand()         {}
func (Discharge) patientCommand()      {}
func (Readmit) patientCommand()        {}

// Decide checks a command against the state and returns the events to
// append, or a typed error. now is the decision time: clinical times after
// it are refused, and a zero command time means now.
func (p Patient) Decide(c PatientCommand, now time.Time) ([]Event, error) {
	switch c := c.(type) {
	case Refer:
		return p.refer(c, now)
	case CompleteIntake:
		return p.completeIntake(c, now)
	case Admit:
		return p.admit(c, now)
	case RecordMeasure:
		return p.recordMeasure(c, now)
	case StepDown:
		return p.changeLevel(c.Patient, c.To, c.Program, false, c.At, now)
	case StepUp:
		return p.changeLevel(c.Patient, c.To, c.Program, true, c.At, now)
	case Discharge:
		return p.discharge(c, now)
	case Readmit:
		return p.readmit(c, now)
	}
	return nil, &InvalidError{Field: "command", Reason: "unknown patient command"}
}

// prepare runs the checks every command on an existing stream shares: a
// valid ID, an existing stream, and a clinical time not in the future.
func (p Patient) prepare(id PatientID, at, now time.Time) (time.Time, error) {
	if err := checkPatientID(id); err != nil {
		return time.Time{}, err
	}
	if p.Status == StatusNone {
		return time.Time{}, &NotFoundError{Kind: "patient", ID: string(id)}
	}
	return clinicalTime(at, now)
}

// inOrder refuses a journey event dated before the previous one.
func (p Patient) inOrder(at time.Time) error {
	if at.Before(p.LastMoveAt) {
		return &OutOfOrderError{At: at, Previous: p.LastMoveAt}
	}
	return nil
}

func (p Patient) refer(c Refer, now time.Time) ([]Event, error) {
	if err := checkPatientID(c.Patient); err != nil {
		return nil, err
	}
	if p.Status != StatusNone {
		return nil, &AlreadyExistsError{Kind: "patient", ID: string(c.Patient)}
	}
	at, err := clinicalTime(c.At, now)
	if err != nil {
		return nil, err
	}
	if !c.Source.Valid() {
		return nil, &InvalidError{Field: "source", Reason: "referral source is not set"}
	}
	if c.Personal != nil && (c.Personal.KeyID == "" || len(c.Personal.Ciphertext) == 0 || len(c.Personal.Nonce) == 0) {
		return nil, &InvalidError{Field: "personal", Reason: "sealed personal data needs a key ID, a nonce and a ciphertext"}
	}
	return []Event{Referred{Patient: c.Patient, Source: c.Source, Personal: c.Personal, OccurredAt: utc(at)}}, nil
}

// maxAgeYears bounds the intake age to catch typing errors, not to judge anyone.
const maxAgeYears = 130

func (p Patient) completeIntake(c CompleteIntake, now time.Time) ([]Event, error) {
	at, err := p.prepare(c.Patient, c.At, now)
	if err != nil {
		return nil, err
	}
	if p.Status == StatusInCare {
		return nil, &PatientStateError{Rule: CodeAlreadyInCare, Status: p.Status}
	}
	if err := p.inOrder(at); err != nil {
		return nil, err
	}
	if c.ScoresUnknown && (c.PHQ9 != 0 || c.GAD7 != 0) {
		return nil, &InvalidError{Field: "scoresUnknown", Reason: "unknown baseline scores must be left at zero"}
	}
	if c.AgeUnknown && c.AgeYears != 0 {
		return nil, &InvalidError{Field: "ageUnknown", Reason: "an unknown age must be left at zero"}
	}
	if !PHQ9.InRange(c.PHQ9) {
		return nil, &ScoreOutOfRangeError{Instrument: PHQ9, Score: c.PHQ9}
	}
	if !GAD7.InRange(c.GAD7) {
		return nil, &ScoreOutOfRangeError{Instrument: GAD7, Score: c.GAD7}
	}
	if !c.RecommendedLevel.Valid() {
		return nil, &InvalidError{Field: "recommendedLevel", Reason: "recommended level is not set"}
	}
	if c.AgeYears < 0 || c.AgeYears > maxAgeYears {
		return nil, &InvalidError{Field: "ageYears", Reason: "age must be between 0 and 130 years"}
	}
	return []Event{IntakeCompleted{
		Patient: c.Patient, PHQ9: c.PHQ9, GAD7: c.GAD7, RecommendedLevel: c.RecommendedLevel,
		PrimaryCare: c.PrimaryCare, IndividualTherapy: c.IndividualTherapy, AgeYears: c.AgeYears,
		ScoresUnknown: c.ScoresUnknown, AgeUnknown: c.AgeUnknown, OccurredAt: utc(at),
	}}, nil
}

// maxSourceSettingLen bounds a source's setting code; real codes are a few
// characters (TEDS-D uses 1 to 8).
const maxSourceSettingLen = 16

// checkSourceSetting accepts an empty code or a short code of letters and
// digits, so a code is safe in reports, CSV files and URLs.
func checkSourceSetting(code string) error {
	if len(code) > maxSourceSettingLen {
		return &InvalidError{Field: "sourceSetting", Reason: "source setting code is longer than 16 characters"}
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return &InvalidError{Field: "sourceSetting", Reason: "source setting code must be letters and digits"}
		}
	}
	return nil
}

// checkPlacement validates the program and level of an admission or move.
func checkPlacement(program ProgramID, level Level) error {
	if !program.Valid() {
		return &InvalidError{Field: "program", Reason: "program ID is not valid"}
	}
	if !level.Valid() {
		return &InvalidError{Field: "level", Reason: "level of care is not set"}
	}
	return nil
}

func (p Patient) admit(c Admit, now time.Time) ([]Event, error) {
	at, err := p.prepare(c.Patient, c.At, now)
	if err != nil {
		return nil, err
	}
	switch p.Status {
	case StatusReferred:
		return nil, &PatientStateError{Rule: CodeIntakeRequired, Status: p.Status}
	case StatusInCare:
		return nil, &PatientStateError{Rule: CodeAlreadyInCare, Status: p.Status}
	case StatusDischarged:
		return nil, &PatientStateError{Rule: CodePatientDischarged, Status: p.Status}
	}
	if err := p.inOrder(at); err != nil {
		return nil, err
	}
	if err := checkPlacement(c.Program, c.Level); err != nil {
		return nil, err
	}
	if err := checkSourceSetting(c.SourceSetting); err != nil {
		return nil, err
	}
	return []Event{Admitted{Patient: c.Patient, Program: c.Program, Level: c.Level, SourceSetting: c.SourceSetting, OccurredAt: utc(at)}}, nil
}

func (p Patient) recordMeasure(c RecordMeasure, now time.Time) ([]Event, error) {
	at, err := p.prepare(c.Patient, c.At, now)
	if err != nil {
		return nil, err
	}
	if !c.Instrument.Valid() {
		return nil, &InvalidError{Field: "instrument", Reason: "instrument is not set"}
	}
	if !c.Instrument.InRange(c.Score) {
		return nil, &ScoreOutOfRangeError{Instrument: c.Instrument, Score: c.Score}
	}
	return []Event{MeasureRecorded{Patient: c.Patient, Instrument: c.Instrument, Score: c.Score, OccurredAt: utc(at)}}, nil
}

// inCare refuses a command that needs an open episode of care.
func (p Patient) inCare() error {
	switch p.Status {
	case StatusInCare:
		return nil
	case StatusDischarged:
		return &PatientStateError{Rule: CodePatientDischarged, Status: p.Status}
	}
	return &PatientStateError{Rule: CodeNotInCare, Status: p.Status}
}

func (p Patient) changeLevel(id PatientID, to Level, program ProgramID, up bool, cmdAt, now time.Time) ([]Event, error) {
	at, err := p.prepare(id, cmdAt, now)
	if err != nil {
		return nil, err
	}
	if err := p.inCare(); err != nil {
		return nil, err
	}
	if err := p.inOrder(at); err != nil {
		return nil, err
	}
	if err := checkPlacement(program, to); err != nil {
		return nil, err
	}
	if up {
		if !to.MoreIntensiveThan(p.Level) {
			return nil, &LevelChangeError{StepUp: true, From: p.Level, To: to}
		}
		return []Event{SteppedUp{Patient: id, From: p.Level, To: to, Program: program, OccurredAt: utc(at)}}, nil
	}
	if !to.LessIntensiveThan(p.Level) {
		return nil, &LevelChangeError{From: p.Level, To: to}
	}
	return []Event{SteppedDown{Patient: id, From: p.Level, To: to, Program: program, OccurredAt: utc(at)}}, nil
}

func (p Patient) discharge(c Discharge, now time.Time) ([]Event, error) {
	at, err := p.prepare(c.Patient, c.At, now)
	if err != nil {
		return nil, err
	}
	if err := p.inCare(); err != nil {
		return nil, err
	}
	if err := p.inOrder(at); err != nil {
		return nil, err
	}
	if !c.Reason.Valid() {
		return nil, &InvalidError{Field: "reason", Reason: "discharge reason is not set"}
	}
	if c.AlumniGroup != "" && !c.AlumniGroup.Valid() {
		return nil, &InvalidError{Field: "alumniGroup", Reason: "alumni group ID is not valid"}
	}
	return []Event{Discharged{
		Patient: c.Patient, Reason: c.Reason, Level: p.Level, Program: p.Program,
		AlumniGroup: c.AlumniGroup, StayUnknown: c.StayUnknown, OccurredAt: utc(at),
	}}, nil
}

func (p Patient) readmit(c Readmit, now time.Time) ([]Event, error) {
	at, err := p.prepare(c.Patient, c.At, now)
	if err != nil {
		return nil, err
	}
	switch p.Status {
	case StatusInCare:
		return nil, &PatientStateError{Rule: CodeAlreadyInCare, Status: p.Status}
	case StatusReferred, StatusAssessed:
		return nil, &PatientStateError{Rule: CodeNotDischarged, Status: p.Status}
	}
	if err := p.inOrder(at); err != nil {
		return nil, err
	}
	if err := checkPlacement(c.Program, c.Level); err != nil {
		return nil, err
	}
	if err := checkSourceSetting(c.SourceSetting); err != nil {
		return nil, err
	}
	return []Event{Readmitted{Patient: c.Patient, Program: c.Program, Level: c.Level, SourceSetting: c.SourceSetting, OccurredAt: utc(at)}}, nil
}

// Evolve folds one event of the patient's stream into the state. It never
// validates: the log is the truth, and events of other streams are ignored.
func (p *Patient) Evolve(e Event) {
	switch e := e.(type) {
	case Referred:
		p.ID, p.Status, p.Source, p.LastMoveAt = e.Patient, StatusReferred, e.Source, e.OccurredAt
	case IntakeCompleted:
		p.Intake = &e
		if p.Status == StatusReferred {
			p.Status = StatusAssessed
		}
		p.LastMoveAt = e.OccurredAt
	case Admitted:
		p.enterCare(e.Program, e.Level, e.OccurredAt)
	case Readmitted:
		p.enterCare(e.Program, e.Level, e.OccurredAt)
	case SteppedDown:
		p.Level, p.Program, p.LastMoveAt = e.To, e.Program, e.OccurredAt
	case SteppedUp:
		p.Level, p.Program, p.LastMoveAt = e.To, e.Program, e.OccurredAt
	case Discharged:
		p.Status, p.Level, p.Program, p.LastMoveAt = StatusDischarged, 0, "", e.OccurredAt
	}
}

func (p *Patient) enterCare(program ProgramID, level Level, at time.Time) {
	p.Status, p.Level, p.Program = StatusInCare, level, program
	p.Episodes++
	p.EpisodeStart, p.LastMoveAt = at, at
}
