package commands

import (
	"context"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/privacy"
)

// Sealer encrypts a person's personal data under their own key.
type Sealer interface {
	Seal(subject string, p privacy.Personal) (privacy.Sealed, error)
}

// Refer opens a person's journey. Personal is the plaintext personal data,
// sealed here before it reaches the domain; nil for de-identified imports.
type Refer struct {
	domain.Refer
	Personal *privacy.Personal
}

// Refer seals the personal data with sealer and records the referral.
func (s *Service) Refer(ctx context.Context, sealer Sealer, m Meta, c Refer) (Result, error) {
	cmd := c.Refer
	if c.Personal != nil {
		if sealer == nil {
			return Result{}, &domain.InvalidError{Field: "personal", Reason: "personal data given but no key store configured"}
		}
		sealed, err := sealer.Seal(string(cmd.Patient), *c.Personal)
		if err != nil {
			return Result{}, err
		}
		cmd.Personal = &domain.SealedPersonal{KeyID: sealed.KeyID, Nonce: sealed.Nonce, Ciphertext: sealed.Ciphertext}
	}
	return s.Patient(ctx, m, cmd)
}

// Patient executes any patient command (intake, admit, measure, step-down,
// step-up, discharge, readmit; Refer without personal data).
func (s *Service) Patient(ctx context.Context, m Meta, c domain.PatientCommand) (Result, error) {
	return execute[domain.Patient, domain.PatientCommand](ctx, s, c.StreamName(), m, c)
}

// PatientBatch decides several commands on one patient's stream in order,
// each against the state the previous ones leave, and appends all their
// events in one atomic append: an import row becomes a whole episode or
// nothing. A refusal of any command refuses the batch.
func (s *Service) PatientBatch(ctx context.Context, m Meta, cmds []domain.PatientCommand) (Result, error) {
	if len(cmds) == 0 {
		return Result{}, &domain.InvalidError{Field: "commands", Reason: "empty batch"}
	}
	stream := cmds[0].StreamName()
	for _, c := range cmds[1:] {
		if c.StreamName() != stream {
			return Result{}, &domain.InvalidError{Field: "commands", Reason: "a batch addresses one patient"}
		}
	}
	_, opens := cmds[0].(domain.Refer)
	return decideAndAppendTo[domain.Patient, domain.PatientCommand](ctx, s, stream, m, opens, func(state *domain.Patient, now time.Time) ([]domain.Event, error) {
		next := *state // Patient folds by assignment, so a copy is independent
		var all []domain.Event
		for _, c := range cmds {
			events, err := next.Decide(c, now)
			if err != nil {
				return nil, err
			}
			for _, e := range events {
				next.Evolve(e)
			}
			all = append(all, events...)
		}
		return all, nil
	})
}

// Program executes a program command (create, change).
func (s *Service) Program(ctx context.Context, m Meta, c domain.ProgramCommand) (Result, error) {
	return execute[domain.Program, domain.ProgramCommand](ctx, s, c.StreamName(), m, c)
}

// PatientState returns a copy of the folded state of a patient's stream.
func (s *Service) PatientState(ctx context.Context, id domain.PatientID) (domain.Patient, error) {
	var p domain.Patient
	err := inspect[domain.Patient, domain.PatientCommand](ctx, s, domain.PatientStream(id), func(st *domain.Patient) { p = *st })
	return p, err
}

// inspect catches a stream up and calls read with its state under the
// stream's lock; read must not keep references into the state.
func inspect[S any, C any, P interface {
	*S
	aggregate[C]
}](ctx context.Context, s *Service, stream string, read func(P)) error {
	e := s.entry(stream)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == nil {
		e.state = P(new(S))
	}
	state := e.state.(P)
	if err := s.catchUp(ctx, stream, e, state.Evolve); err != nil {
		return err
	}
	read(state)
	return nil
}
