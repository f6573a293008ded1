// Package domain is the clinical core of continuum: levels of care, IDs,
// measures, the group and program catalog types, the events that record what
// happened (past-tense structs), the deciders that turn a command and the
// folded state of one stream into new events or a typed error, and the one
// event envelope and codec.
//
// The package knows no storage, network, clock or randomness: time and IDs
// come in as arguments, so the same history and command always decide the
// same way. It imports the standard library only.
//
// Three kinds of stream hold the facts, each the unit of consistency for the
// invariants it enforces with a single expected-revision append:
//
//   - patient-<uuid>: referral, intake, admission, measures, step-down/up,
//     discharge and readmission (Patient);
//   - group-<id>: the group's definition, its seats, waitlist, sessions,
//     attendance and module progress (Group);
//   - program-<id>: a program of care and its census capacity (Program).
//
// Every aggregate has the same shape so the command layer can be generic:
// a zero value is the state of an empty stream, Evolve folds one event into
// it (never validating: history is fact), and Decide checks a command
// against the state and answers the events to append or an error matchable
// with errors.Is against ErrNotFound, ErrConflict, ErrRuleViolation or
// ErrInvalid, and carrying a stable machine code (ErrorCode).
package domain
