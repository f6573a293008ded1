package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/projections"
)

// scope is what part of the census a clinician works in: every program,
// or the programs assigned to the user.
type scope struct {
	// programs is nil for a user limited to no program.
	programs map[domain.ProgramID]bool
}

// scopeOf answers the scope of an identity. Only clinicians are limited
// to programs; other roles reach no patient route at all.
func scopeOf(id access.Identity) scope {
	if id.Role != access.Clinician || len(id.Programs) == 0 {
		return scope{}
	}
	sc := scope{programs: make(map[domain.ProgramID]bool, len(id.Programs))}
	for _, p := range id.Programs {
		sc.programs[p] = true
	}
	return sc
}

// limited reports whether the scope is narrower than everything.
func (sc scope) limited() bool { return sc.programs != nil }

// program reports whether a program is in scope.
func (sc scope) program(p domain.ProgramID) bool { return !sc.limited() || sc.programs[p] }

// patient reports whether a person is in scope: their current program's,
// or the program of their latest stay once discharged. People not yet
// admitted anywhere are every clinician's: intake comes before a program
// is chosen. A person the read models do not know is out of a limited scope.
func (sc scope) patient(m *projections.Models, id domain.PatientID) bool {
	if !sc.limited() {
		return true
	}
	row, ok := m.Patients.Patient(id)
	switch {
	case !ok:
		return false
	case row.Program != "":
		return sc.programs[row.Program]
	case row.Episodes == 0:
		return true
	}
	journey, ok := m.Journeys.Journey(id)
	if !ok || len(journey.Levels) == 0 {
		return false
	}
	return sc.programs[journey.Levels[len(journey.Levels)-1].Program]
}

// group reports whether a group is in scope: a group of one of the
// programs, or a group open to every program at its level.
func (sc scope) group(m *projections.Models, id domain.GroupID) bool {
	if !sc.limited() {
		return true
	}
	roster, ok := m.Rosters.Roster(id)
	if !ok || roster.Definition == nil {
		return false
	}
	return roster.Definition.Program == "" || sc.programs[roster.Definition.Program]
}

// errOutOfScope refuses a limited clinician a person or group of another program.
var errOutOfScope = &requestError{kind: errForbidden, code: "outside_your_programs",
	message: "this person or group belongs to a program you are not assigned to"}

// scopeFrom answers the scope of the request's identity.
func scopeFrom(ctx context.Context) scope {
	id, _ := identityOf(ctx)
	return scopeOf(id)
}

// scopedCommands keeps a clinician limited to programs to the people and
// groups of those programs, whichever route the command came through:
// the command itself names the person, group and target program, so the
// check sits here rather than in each handler. A referral passes as it
// is: it opens a new person's journey, which belongs to no program yet.
type scopedCommands struct {
	CommandService
	projections Projections
}

// Patient checks the person (and an admission's program) against the scope.
func (c scopedCommands) Patient(ctx context.Context, m commands.Meta, cmd domain.PatientCommand) (commands.Result, error) {
	sc := scopeFrom(ctx)
	if sc.limited() {
		var patient domain.PatientID
		program := domain.ProgramID("")
		switch cmd := cmd.(type) {
		case domain.CompleteIntake:
			patient = cmd.Patient
		case domain.RecordMeasure:
			patient = cmd.Patient
		case domain.Discharge:
			patient = cmd.Patient
		// A step moves a person of the clinician's program, possibly to
		// another program's care: a handoff, decided by the sender.
		case domain.StepDown:
			patient = cmd.Patient
		case domain.StepUp:
			patient = cmd.Patient
		case domain.Admit:
			patient, program = cmd.Patient, cmd.Program
		case domain.Readmit:
			patient, program = cmd.Patient, cmd.Program
		default:
			return commands.Result{}, errOutOfScope
		}
		if !c.allowed(sc, patient, "", program) {
			return commands.Result{}, errOutOfScope
		}
	}
	return c.CommandService.Patient(ctx, m, cmd)
}

// Group checks the group, and the person a seat is for, against the scope.
func (c scopedCommands) Group(ctx context.Context, m commands.Meta, cmd domain.GroupCommand) (commands.Result, error) {
	sc := scopeFrom(ctx)
	if sc.limited() {
		var group domain.GroupID
		var patient domain.PatientID
		switch cmd := cmd.(type) {
		case domain.JoinGroup:
			group, patient = cmd.Group, cmd.Patient
		case domain.LeaveGroup:
			group, patient = cmd.Group, cmd.Patient
		// A session's leader records every member's attendance and
		// progress, whichever program a member of an open group is in.
		case domain.HoldSession:
			group = cmd.Group
		case domain.RecordAttendance:
			group = cmd.Group
		case domain.CompleteModule:
			group = cmd.Group
		case domain.CompleteGroup:
			group = cmd.Group
		default:
			return commands.Result{}, errOutOfScope
		}
		if !c.allowed(sc, patient, group, "") {
			return commands.Result{}, errOutOfScope
		}
	}
	return c.CommandService.Group(ctx, m, cmd)
}

// Program changes the catalog, which only admins reach; a clinician
// limited to programs is refused here too.
func (c scopedCommands) Program(ctx context.Context, m commands.Meta, cmd domain.ProgramCommand) (commands.Result, error) {
	if scopeFrom(ctx).limited() {
		return commands.Result{}, errOutOfScope
	}
	return c.CommandService.Program(ctx, m, cmd)
}

// allowed checks whichever of patient, group and program are set.
func (c scopedCommands) allowed(sc scope, patient domain.PatientID, group domain.GroupID, program domain.ProgramID) bool {
	if program != "" && !sc.program(program) {
		return false
	}
	ok := true
	c.projections.Read(func(m *projections.Models) {
		if patient != "" {
			ok = sc.patient(m, patient)
		}
		if ok && group != "" {
			ok = sc.group(m, group)
		}
	})
	return ok
}

// wsSession ties a websocket connection to the request's sign-in: its
// topic gate, and a check the connection's writer runs at every ping, so a
// credential revoked on another replica, or a user disabled, closes the
// connection within a ping interval (a sign-out here closes it at once,
// through Hub.EndSession).
func (s *Server) wsSession(r *http.Request) wsSession {
	id, _ := identityOf(r.Context())
	credential, _, _ := presented(r)
	return wsSession{
		credentialID: id.Credential,
		gate:         s.topicGate(r),
		check: func() error {
			ctx, cancel := context.WithTimeout(context.Background(), s.waitTimeout)
			defer cancel()
			_, err := s.checkCredential(ctx, credential, id.Kind)
			if errors.Is(err, notSignedIn) || errors.Is(err, access.ErrUserDisabled) {
				return errSessionEnded
			}
			return err
		},
	}
}

// topicGate decides, for one websocket connection, which topics its user
// may follow: the census for every role; a group's roster (which names
// members by ID) and a person's journey for clinicians in scope. Following
// a person is audited like reading their page. The credential is checked
// again at each subscription, so signing out stops new ones.
func (s *Server) topicGate(r *http.Request) func(topic string) error {
	id, _ := identityOf(r.Context())
	ip, forwarded := remoteOf(r)
	correlation := correlationID(r.Context())
	credential, _, _ := presented(r)
	return func(topic string) error {
		ctx, cancel := context.WithTimeout(context.Background(), s.waitTimeout)
		defer cancel()
		if _, err := s.checkCredential(ctx, credential, id.Kind); err != nil {
			return err
		}
		t, err := projections.ParseTopic(topic)
		if err != nil {
			return badRequest(invalidInput, "subscribe", reasonOf(err))
		}
		if t.Kind == projections.TopicCensus {
			return nil
		}
		if id.Role != access.Clinician {
			return &requestError{kind: errForbidden, code: "forbidden_for_role",
				message: "the " + id.Role.String() + " role may follow only the census"}
		}
		sc := scopeOf(id)
		inScope := true
		s.projections.Read(func(m *projections.Models) {
			if t.Kind == projections.TopicGroup {
				inScope = sc.group(m, domain.GroupID(t.ID))
			} else {
				inScope = sc.patient(m, domain.PatientID(t.ID))
			}
		})
		if !inScope {
			return errOutOfScope
		}
		if t.Kind != projections.TopicPatient {
			return nil
		}
		return s.audit.Record(ctx, access.Entry{Action: access.PatientFollowed, User: id.User, Role: id.Role,
			Route: "ws patient:{id}", Patients: []string{t.ID}, Remote: ip, Forwarded: forwarded, Correlation: correlation})
	}
}

// keep narrows a page of the list to the people in scope. The list was
// read without a limit; paged says to cut it to limit here (a search
// filters by name afterwards and cuts then).
func (sc scope) keep(m *projections.Models, view projections.PatientsView, paged bool, limit int) projections.PatientsView {
	out := projections.PatientsView{Patients: view.Patients[:0:0]}
	for _, row := range view.Patients {
		if !sc.patient(m, row.Patient) {
			continue
		}
		out.Total++
		if !paged || len(out.Patients) < limit {
			out.Patients = append(out.Patients, row)
		}
	}
	return out
}
