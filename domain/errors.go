package domain

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Categories of refusal. Every error a decider returns matches exactly one
// of them with errors.Is, so the web layer maps categories to HTTP statuses
// in one table, and reads ErrorCode for the precise rule.
var (
	// ErrNotFound: the stream the command addresses does not exist yet.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the command contradicts the current state in a way a
	// retry will not fix (already referred, already a member, group full).
	ErrConflict = errors.New("conflict")
	// ErrRuleViolation: a clinical or scheduling rule forbids the command now.
	ErrRuleViolation = errors.New("rule violation")
	// ErrInvalid: the command itself is malformed (unknown enum value, bad ID,
	// score outside the instrument's range, a time in the future).
	ErrInvalid = errors.New("invalid")
)

// CodedError is implemented by every typed error of the package: a stable,
// machine-readable code per rule that clients can switch on and translate.
type CodedError interface {
	error
	Code() string
}

// ErrorCode returns the stable code of the first CodedError in err's chain,
// or "" when there is none.
func ErrorCode(err error) string {
	var c CodedError
	if errors.As(err, &c) {
		return c.Code()
	}
	return ""
}

// Error codes, stable across releases: clients match on them.
const (
	CodeInvalidInput       = "invalid_input"
	CodeOccurredInFuture   = "occurred_in_future"
	CodeScoreOutOfRange    = "score_out_of_range"
	CodeNotFound           = "not_found"
	CodeAlreadyExists      = "already_exists"
	CodeIntakeRequired     = "intake_required"
	CodeAlreadyInCare      = "already_in_care"
	CodeNotInCare          = "not_in_care"
	CodePatientDischarged  = "patient_discharged"
	CodeNotDischarged      = "not_discharged"
	CodeNotAStepDown       = "not_a_step_down"
	CodeNotAStepUp         = "not_a_step_up"
	CodeOutOfOrder         = "occurred_before_previous"
	CodeGroupFull          = "group_full"
	CodeGroupNotRunning    = "group_not_running"
	CodeEntryClosed        = "entry_closed"
	CodeRequirementUnmet   = "requirement_unmet"
	CodeAlreadyMember      = "already_member"
	CodeAlreadyWaitlisted  = "already_waitlisted"
	CodeNotMember          = "not_member"
	CodeModuleOutOfOrder   = "module_out_of_order"
	CodeModulesIncomplete  = "modules_incomplete"
	CodeSessionExists      = "session_exists"
	CodeSessionNotHeld     = "session_not_held"
	CodeNotMemberAtSession = "not_member_at_session"
)

// InvalidError is a malformed command or value: which field, and why.
type InvalidError struct {
	Field  string
	Reason string
}

// Error renders the refusal for people; it never names a patient.
func (e *InvalidError) Error() string { return "invalid " + e.Field + ": " + e.Reason }

// Code returns "invalid_input".
func (e *InvalidError) Code() string { return CodeInvalidInput }

// Is matches ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// FutureError refuses a clinical time later than the decision time: facts
// may be backdated, never recorded ahead of time.
type FutureError struct {
	At  time.Time
	Now time.Time
}

// Error renders the refusal for people; it never names a patient, nor
// echoes the refused time (At is there for callers).
func (e *FutureError) Error() string {
	return "occurred after now (" + e.Now.UTC().Format(time.RFC3339) + "): facts may be backdated, never recorded ahead"
}

// Code returns "occurred_in_future".
func (e *FutureError) Code() string { return CodeOccurredInFuture }

// Is matches ErrInvalid.
func (e *FutureError) Is(target error) bool { return target == ErrInvalid }

// ScoreOutOfRangeError refuses a score its instrument cannot produce.
type ScoreOutOfRangeError struct {
	Instrument Instrument
	Score      int
}

// Error renders the refusal for people; it never names a patient.
func (e *ScoreOutOfRangeError) Error() string {
	return fmt.Sprintf("%s score %d is outside %d–%d", e.Instrument, e.Score, e.Instrument.MinScore(), e.Instrument.MaxScore())
}

// Code returns "score_out_of_range".
func (e *ScoreOutOfRangeError) Code() string { return CodeScoreOutOfRange }

// Is matches ErrInvalid.
func (e *ScoreOutOfRangeError) Is(target error) bool { return target == ErrInvalid }

// NotFoundError says the addressed patient, group or program has no history.
// It names the kind, not the ID, so a patient's ID never lands in a log line
// through an error message; the ID is in the field for callers.
type NotFoundError struct {
	Kind string // "patient", "group" or "program"
	ID   string
}

// Error renders the refusal for people; it never names a patient.
func (e *NotFoundError) Error() string { return e.Kind + " not found" }

// Code returns "not_found".
func (e *NotFoundError) Code() string { return CodeNotFound }

// Is matches ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// AlreadyExistsError refuses creating what exists: referring a person twice,
// creating a group or program again.
type AlreadyExistsError struct {
	Kind string // "patient", "group" or "program"
	ID   string
}

// Error renders the refusal for people; it never names a patient.
func (e *AlreadyExistsError) Error() string { return e.Kind + " already exists" }

// Code returns "already_exists".
func (e *AlreadyExistsError) Code() string { return CodeAlreadyExists }

// Is matches ErrConflict.
func (e *AlreadyExistsError) Is(target error) bool { return target == ErrConflict }

// PatientStateError refuses a command that the person's place in the
// journey does not allow: its Code names the rule (intake_required,
// already_in_care, not_in_care, patient_discharged, not_discharged).
type PatientStateError struct {
	Rule   string // one of the Code* constants above
	Status PatientStatus
}

// Error renders the refusal for people; it never names a patient.
func (e *PatientStateError) Error() string {
	switch e.Rule {
	case CodeIntakeRequired:
		return "an intake must be completed before admission"
	case CodeAlreadyInCare:
		return "the person is already admitted"
	case CodeNotInCare:
		return "the person is not admitted to a level of care"
	case CodePatientDischarged:
		return "the person is discharged: readmit first"
	case CodeNotDischarged:
		return "only a discharged person can be readmitted"
	}
	return "not allowed while the person is " + e.Status.String()
}

// Code returns the rule's code.
func (e *PatientStateError) Code() string { return e.Rule }

// Is matches ErrRuleViolation.
func (e *PatientStateError) Is(target error) bool { return target == ErrRuleViolation }

// LevelChangeError refuses a step-down that is not to a less intensive level,
// or a step-up that is not to a more intensive one.
type LevelChangeError struct {
	StepUp   bool // false: a step-down was asked
	From, To Level
}

// Error renders the refusal for people; it never names a patient.
func (e *LevelChangeError) Error() string {
	if e.StepUp {
		return "a step-up must go to a more intensive level than " + e.From.String() + ", not " + e.To.String()
	}
	return "a step-down must go to a less intensive level than " + e.From.String() + ", not " + e.To.String()
}

// Code returns "not_a_step_up" or "not_a_step_down".
func (e *LevelChangeError) Code() string {
	if e.StepUp {
		return CodeNotAStepUp
	}
	return CodeNotAStepDown
}

// Is matches ErrRuleViolation.
func (e *LevelChangeError) Is(target error) bool { return target == ErrRuleViolation }

// OutOfOrderError refuses a level-of-care move dated before the move it
// follows, which would make lengths of stay negative.
type OutOfOrderError struct {
	At       time.Time
	Previous time.Time
}

// Error renders the refusal for people; it never names a patient.
func (e *OutOfOrderError) Error() string {
	return "occurred at " + e.At.UTC().Format(time.RFC3339) + ", before the previous move at " + e.Previous.UTC().Format(time.RFC3339)
}

// Code returns "occurred_before_previous".
func (e *OutOfOrderError) Code() string { return CodeOutOfOrder }

// Is matches ErrRuleViolation.
func (e *OutOfOrderError) Is(target error) bool { return target == ErrRuleViolation }

// GroupFullError refuses a join when every seat is taken and the caller did
// not ask to be waitlisted.
type GroupFullError struct {
	Group    GroupID
	Capacity int
}

// Error renders the refusal for people; it never names a patient.
func (e *GroupFullError) Error() string {
	return "group " + string(e.Group) + " is full (" + strconv.Itoa(e.Capacity) + " members)"
}

// Code returns "group_full".
func (e *GroupFullError) Code() string { return CodeGroupFull }

// Is matches ErrConflict.
func (e *GroupFullError) Is(target error) bool { return target == ErrConflict }

// GroupNotRunningError refuses joins and sessions of a paused group.
type GroupNotRunningError struct {
	Group GroupID
}

// Error renders the refusal for people; it never names a patient.
func (e *GroupNotRunningError) Error() string {
	return "group " + string(e.Group) + " is not currently running"
}

// Code returns "group_not_running".
func (e *GroupNotRunningError) Code() string { return CodeGroupNotRunning }

// Is matches ErrRuleViolation.
func (e *GroupNotRunningError) Is(target error) bool { return target == ErrRuleViolation }

// EntryClosedError refuses a join outside the group's joining window and
// says when the next one opens, so a UI can offer that date.
type EntryClosedError struct {
	Group GroupID
	// GroupName is the catalog name, for a readable message.
	GroupName string
	// NextModule is the 1-based number of the module starting next.
	NextModule int
	// NextStart is the first day of that module.
	NextStart Date
}

// Error renders the refusal for people; it never names a patient.
func (e *EntryClosedError) Error() string {
	name := e.GroupName
	if name == "" {
		name = string(e.Group)
	}
	return name + " admits new members only at the start of a module: next start " + e.NextStart.String()
}

// Code returns "entry_closed".
func (e *EntryClosedError) Code() string { return CodeEntryClosed }

// Is matches ErrRuleViolation.
func (e *EntryClosedError) Is(target error) bool { return target == ErrRuleViolation }

// Requirement names one eligibility rule of a group.
type Requirement string

// Group requirements a join can fail.
const (
	RequireMinAge            Requirement = "min_age"
	RequireIndividualTherapy Requirement = "individual_therapy"
	RequirePrimaryCare       Requirement = "primary_care"
	RequirePrerequisite      Requirement = "prerequisite"
)

// RequirementUnmetError refuses a join whose patient facts fail one of the
// group's requirements; the message says which in words a clinician uses.
type RequirementUnmetError struct {
	Group       GroupID
	Requirement Requirement
	// MinAge is set for RequireMinAge.
	MinAge int
	// Prerequisites are set for RequirePrerequisite: completing any one suffices.
	Prerequisites []Prerequisite
}

// Error renders the refusal for people; it never names a patient.
func (e *RequirementUnmetError) Error() string {
	switch e.Requirement {
	case RequireMinAge:
		return "group " + string(e.Group) + " requires age " + strconv.Itoa(e.MinAge) + " or older"
	case RequireIndividualTherapy:
		return "group " + string(e.Group) + " requires concurrent individual therapy"
	case RequirePrimaryCare:
		return "group " + string(e.Group) + " requires a primary-care provider on file"
	case RequirePrerequisite:
		s := "group " + string(e.Group) + " requires having completed "
		for i, p := range e.Prerequisites {
			if i > 0 {
				s += " or "
			}
			s += p.String()
		}
		return s
	}
	return "group " + string(e.Group) + " requirement unmet: " + string(e.Requirement)
}

// Code returns "requirement_unmet".
func (e *RequirementUnmetError) Code() string { return CodeRequirementUnmet }

// Is matches ErrRuleViolation.
func (e *RequirementUnmetError) Is(target error) bool { return target == ErrRuleViolation }

// MembershipError refuses a command that contradicts the person's seat in a
// group: already a member, already waitlisted, or not a member at all.
type MembershipError struct {
	Rule    string // CodeAlreadyMember, CodeAlreadyWaitlisted or CodeNotMember
	Group   GroupID
	Patient PatientID
}

// Error renders the refusal for people; it never names a patient.
func (e *MembershipError) Error() string {
	switch e.Rule {
	case CodeAlreadyMember:
		return "already a member of group " + string(e.Group)
	case CodeAlreadyWaitlisted:
		return "already on the waitlist of group " + string(e.Group)
	}
	return "not a member of group " + string(e.Group)
}

// Code returns the rule's code.
func (e *MembershipError) Code() string { return e.Rule }

// Is matches ErrConflict for duplicates and ErrRuleViolation for non-members.
func (e *MembershipError) Is(target error) bool {
	if e.Rule == CodeNotMember {
		return target == ErrRuleViolation
	}
	return target == ErrConflict
}

// ModuleOrderError refuses completing a module other than the member's next
// one: modules complete in order, starting from the one the member entered,
// wrapping around the cycle. Expected is 0 when all modules are complete.
type ModuleOrderError struct {
	Group    GroupID
	Module   int
	Expected int
}

// Error renders the refusal for people; it never names a patient.
func (e *ModuleOrderError) Error() string {
	if e.Expected == 0 {
		return "every module of group " + string(e.Group) + " is already completed"
	}
	return "module " + strconv.Itoa(e.Module) + " of group " + string(e.Group) + " cannot be completed before module " + strconv.Itoa(e.Expected)
}

// Code returns "module_out_of_order".
func (e *ModuleOrderError) Code() string { return CodeModuleOutOfOrder }

// Is matches ErrRuleViolation.
func (e *ModuleOrderError) Is(target error) bool { return target == ErrRuleViolation }

// ModulesIncompleteError refuses completing a modular group before every
// module is completed.
type ModulesIncompleteError struct {
	Group     GroupID
	Completed int
	Total     int
}

// Error renders the refusal for people; it never names a patient.
func (e *ModulesIncompleteError) Error() string {
	return "group " + string(e.Group) + " is complete after all " + strconv.Itoa(e.Total) + " modules; " + strconv.Itoa(e.Completed) + " completed"
}

// Code returns "modules_incomplete".
func (e *ModulesIncompleteError) Code() string { return CodeModulesIncomplete }

// Is matches ErrRuleViolation.
func (e *ModulesIncompleteError) Is(target error) bool { return target == ErrRuleViolation }

// SessionError refuses a session command: holding a session ID twice
// (session_exists, a conflict), recording attendance for a session not held
// (session_not_held) or for someone who was not a member on its day
// (not_member_at_session).
type SessionError struct {
	Rule    string
	Group   GroupID
	Session SessionID
}

// Error renders the refusal for people; it never names a patient.
func (e *SessionError) Error() string {
	switch e.Rule {
	case CodeSessionExists:
		return "session " + string(e.Session) + " of group " + string(e.Group) + " is already held"
	case CodeSessionNotHeld:
		return "session " + string(e.Session) + " of group " + string(e.Group) + " was not held"
	}
	return "not a member of group " + string(e.Group) + " on the day of session " + string(e.Session)
}

// Code returns the rule's code.
func (e *SessionError) Code() string { return e.Rule }

// Is matches ErrConflict for a duplicate session, ErrRuleViolation otherwise.
func (e *SessionError) Is(target error) bool {
	if e.Rule == CodeSessionExists {
		return target == ErrConflict
	}
	return target == ErrRuleViolation
}
