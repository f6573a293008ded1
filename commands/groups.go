package commands

import (
	"context"

	"github.com/continuum-care/continuum/domain"
)

// Group executes a group command. For a join, the facts the group's
// requirements are checked against are gathered here from the patient's
// stream and from the prerequisite groups' streams, then decided in the
// group's stream, where the seats are.
func (s *Service) Group(ctx context.Context, m Meta, c domain.GroupCommand) (Result, error) {
	if join, ok := c.(domain.JoinGroup); ok {
		facts, err := s.patientFacts(ctx, join.Group, join.Patient)
		if err != nil {
			return Result{}, err
		}
		join.Facts = facts
		c = join
	}
	return execute[domain.Group, domain.GroupCommand](ctx, s, c.StreamName(), m, c)
}

// patientFacts reads what a join needs to know about a person.
func (s *Service) patientFacts(ctx context.Context, group domain.GroupID, id domain.PatientID) (domain.PatientFacts, error) {
	if _, err := domain.ParsePatientID(string(id)); err != nil {
		return domain.PatientFacts{}, err
	}
	p, err := s.PatientState(ctx, id)
	if err != nil {
		return domain.PatientFacts{}, err
	}
	if p.Status == domain.StatusNone {
		return domain.PatientFacts{}, &domain.NotFoundError{Kind: "patient", ID: string(id)}
	}
	if p.Intake == nil {
		return domain.PatientFacts{}, &domain.PatientStateError{Rule: domain.CodeIntakeRequired, Status: p.Status}
	}
	facts := domain.PatientFacts{
		AgeYears:          p.Intake.AgeYears,
		IndividualTherapy: p.Intake.IndividualTherapy,
		PrimaryCare:       p.Intake.PrimaryCare,
	}
	var prereqs []domain.Prerequisite
	if err := inspect[domain.Group, domain.GroupCommand](ctx, s, domain.GroupStream(group), func(g *domain.Group) {
		prereqs = append(prereqs, g.Spec.Requirements.Prerequisites...)
	}); err != nil {
		return domain.PatientFacts{}, err
	}
	seen := map[domain.GroupID]bool{}
	for _, pr := range prereqs {
		if seen[pr.Group] {
			continue
		}
		seen[pr.Group] = true
		if err := inspect[domain.Group, domain.GroupCommand](ctx, s, domain.GroupStream(pr.Group), func(g *domain.Group) {
			facts.Completed = append(facts.Completed, g.CompletedBy(id)...)
		}); err != nil {
			return domain.PatientFacts{}, err
		}
	}
	return facts, nil
}
