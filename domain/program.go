package domain

import "time"

// Program is the state of one program's stream.
type Program struct {
	ID      ProgramID
	Created bool
	Spec    ProgramSpec
}

// ProgramCommand is a command addressed to one program stream.
type ProgramCommand interface {
	// StreamName is the stream the command is decided on.
	StreamName() string
	programCommand()
}

// CreateProgram adds a program of care.
type CreateProgram struct {
	Program ProgramID
	Spec    ProgramSpec
	At      time.Time
}

// ChangeProgram replaces a program's definition (name, capacity...).
type ChangeProgram struct {
	Program ProgramID
	Spec    ProgramSpec
	At      time.Time
}

// StreamName returns the program's stream.
func (c CreateProgram) StreamName() string { return ProgramStream(c.Program) }

// StreamName returns the program's stream.
func (c ChangeProgram) StreamName() string { return ProgramStream(c.Program) }

func (CreateProgram) programCommand() {}
func (ChangeProgram) programCommand() {}

// Decide checks a command against the program's state and returns the
// events to append, or a typed error. now is the decision time.
func (p Program) Decide(c ProgramCommand, now time.Time) ([]Event, error) {
	switch c := c.(type) {
	case CreateProgram:
		if p.Created {
			return nil, &AlreadyExistsError{Kind: "program", ID: string(c.Program)}
		}
		at, err := checkProgramDefinition(c.Program, c.Spec, c.At, now)
		if err != nil {
			return nil, err
		}
		return []Event{ProgramCreated{Program: c.Program, ProgramSpec: c.Spec, OccurredAt: utc(at)}}, nil
	case ChangeProgram:
		if !p.Created {
			return nil, &NotFoundError{Kind: "program", ID: string(c.Program)}
		}
		at, err := checkProgramDefinition(c.Program, c.Spec, c.At, now)
		if err != nil {
			return nil, err
		}
		return []Event{ProgramChanged{Program: c.Program, ProgramSpec: c.Spec, OccurredAt: utc(at)}}, nil
	}
	return nil, &InvalidError{Field: "command", Reason: "unknown program command"}
}

// checkProgramDefinition validates what creating and changing a program share.
func checkProgramDefinition(id ProgramID, spec ProgramSpec, at, now time.Time) (time.Time, error) {
	if !id.Valid() {
		return time.Time{}, &InvalidError{Field: "program", Reason: "program ID is not valid"}
	}
	at, err := clinicalTime(at, now)
	if err != nil {
		return time.Time{}, err
	}
	return at, spec.Validate()
}

// Evolve folds one event of the program's stream into the state.
func (p *Program) Evolve(e Event) {
	switch e := e.(type) {
	case ProgramCreated:
		p.ID, p.Created, p.Spec = e.Program, true, e.ProgramSpec
	case ProgramChanged:
		p.Spec = e.ProgramSpec
	}
}
