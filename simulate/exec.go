package simulate

import (
	"context"
	"fmt"
	"time"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
)

// runPatientOps sends a person's commands of one phase of the day, in
// order. After a refusal the person's remaining commands are dropped and
// the state is read again at the end of the day.
func (e *engine) runPatientOps(ctx context.Context, p *patient, ops []patientOp) error {
	for _, op := range ops {
		if p.resync {
			return nil
		}
		key := fmt.Sprintf("p%d.%d/%d", e.site.index, p.index, p.step)
		p.step++
		cmd := op.cmd
		if e.live != nil {
			_, routine := cmd.(domain.RecordMeasure)
			if err := e.live.wait(ctx, !routine); err != nil {
				return err
			}
			cmd = withAt(cmd, e.live.now())
		}
		var res commands.Result
		var err error
		if op.personal != nil {
			res, err = e.svc.Refer(ctx, e.sealer, e.meta(key), commands.Refer{Refer: cmd.(domain.Refer), Personal: op.personal})
		} else {
			res, err = e.svc.Patient(ctx, e.meta(key), cmd)
		}
		refused, fatal := e.classify(err)
		if fatal != nil {
			return fmt.Errorf("patient command: %w", fatal)
		}
		if refused {
			p.resync = true
			continue
		}
		e.count.recordResult(res)
	}
	return nil
}

// withAt returns cmd dated at: Live dates each command when it is sent.
func withAt(cmd domain.PatientCommand, at time.Time) domain.PatientCommand {
	switch c := cmd.(type) {
	case domain.Refer:
		c.At = at
		return c
	case domain.CompleteIntake:
		c.At = at
		return c
	case domain.Admit:
		c.At = at
		return c
	case domain.RecordMeasure:
		c.At = at
		return c
	case domain.StepDown:
		c.At = at
		return c
	case domain.StepUp:
		c.At = at
		return c
	case domain.Discharge:
		c.At = at
		return c
	case domain.Readmit:
		c.At = at
		return c
	}
	return cmd
}

// programByID finds the site's program by its own ID, or nil.
func (e *engine) programByID(id domain.ProgramID) *program { return e.site.byID[id] }

// resync adopts a person's state from their stream after a command was
// refused (in Live, when a clinician acted on the same person) and plans
// from there.
func (e *engine) resync(ctx context.Context, p *patient, d domain.Date) error {
	p.resync = false
	st, err := e.svc.PatientState(ctx, p.id)
	if err != nil {
		return fmt.Errorf("reading a patient's state: %w", err)
	}
	p.pending, p.dropoutOn = nil, domain.Date{}
	if st.Intake != nil {
		p.age, p.primaryCare, p.individualTherapy = st.Intake.AgeYears, st.Intake.PrimaryCare, st.Intake.IndividualTherapy
	}
	p.episodes = st.Episodes
	switch st.Status {
	case domain.StatusNone:
		p.retired = true
	case domain.StatusReferred, domain.StatusAssessed:
		p.status, p.due = st.Status, d.AddDays(1)
		if st.Intake != nil {
			p.target = st.Intake.RecommendedLevel
		}
	case domain.StatusInCare:
		pr := e.programByID(st.Program)
		if pr == nil {
			// A program the simulation does not run: follow the person there
			// without counting them on any simulated board.
			pr = &program{id: st.Program, level: st.Level, capacity: 1 << 30}
		}
		if p.status != domain.StatusInCare || p.level != st.Level || p.program != pr {
			p.status = domain.StatusInCare
			p.enter(st.Level, pr, d)
		}
	case domain.StatusDischarged:
		if p.status == domain.StatusInCare && p.program != nil {
			p.program.census--
		}
		p.status, p.level, p.program = domain.StatusDischarged, 0, nil
		p.dischargedOn, p.readmitOn, p.followUp = d, domain.Date{}, domain.Date{}
	}
	return nil
}
