package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/privacy"
	"github.com/continuum-care/continuum/projections"
)

// PositionHeader carries the position a query's answer reflects, the same
// token websocket frames and command answers carry.
const PositionHeader = "X-Continuum-Position"

// Query limits of the patient list.
const (
	defaultPatientLimit = 100
	maxPatientLimit     = 1000
)

// writeView answers a query with v and the position it reflects.
func writeView(w http.ResponseWriter, pos eventstore.Position, v any) {
	w.Header().Set(PositionHeader, FormatPosition(pos))
	writeJSON(w, http.StatusOK, v)
}

// census serves the director's board: aggregates only, the same bytes a
// census websocket subscriber receives.
func (s *Server) census(w http.ResponseWriter, r *http.Request) {
	data, pos, err := s.projections.View(projections.CensusTopic)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set(PositionHeader, FormatPosition(pos))
	writeRawJSON(w, http.StatusOK, data)
}

// person is a patient's personal data as opened for a clinician.
type person struct {
	// Name is the person's name; "erased" once their key was destroyed,
	// empty for a de-identified record.
	Name        string `json:"name"`
	DateOfBirth string `json:"dateOfBirth,omitempty"`
	Contact     string `json:"contact,omitempty"`
	Erased      bool   `json:"erased,omitempty"`
}

// erasedName is shown in place of the name of a person whose key was
// destroyed: the clinical facts remain, the person does not.
const erasedName = "erased"

// open decrypts sealed personal data. Failures other than erasure are
// logged without anything about the person and shown as erased, so a
// damaged key never breaks a whole list.
func (s *Server) open(r *http.Request, sealed *domain.SealedPersonal) person {
	if sealed == nil {
		return person{}
	}
	p, err := s.keys.Open(privacy.Sealed{KeyID: sealed.KeyID, Nonce: sealed.Nonce, Ciphertext: sealed.Ciphertext})
	if err != nil {
		if !errors.Is(err, privacy.ErrErased) {
			s.log.LogAttrs(r.Context(), slog.LevelError, "personal data could not be opened",
				slog.String("route", routeOf(r)), slog.String("error", err.Error()))
		}
		return person{Name: erasedName, Erased: true}
	}
	return person{Name: p.Name, DateOfBirth: p.DateOfBirth, Contact: p.Contact}
}

// patientOut is a row of the clinician's list with the name opened. The
// sealed blob itself is never sent.
type patientOut struct {
	projections.PatientRow
	person
}

func (s *Server) patientOut(r *http.Request, row projections.PatientRow, withContact bool) patientOut {
	p := s.open(r, row.Personal)
	if !withContact {
		p.Contact = ""
	}
	row.Personal = nil
	return patientOut{PatientRow: row, person: p}
}

// patientsResponse is a page of the clinician's list.
type patientsResponse struct {
	// Total counts every match, beyond the page.
	Total    int          `json:"total"`
	Patients []patientOut `json:"patients"`
}

// patients serves the clinician's search: filters by status, level,
// program and group in the read model, then by name (q) here, since names
// are sealed in the model and opened only now. The query string is never
// logged: q holds what a clinician typed, often a name.
func (s *Server) patients(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var p fieldParser
	filter := projections.PatientFilter{
		Status:  optionalWith(&p, "status", q.Get("status"), projections.ParsePatientStatus),
		Level:   optionalWith(&p, "level", q.Get("level"), domain.ParseLevel),
		Program: optionalWith(&p, "program", q.Get("program"), domain.ParseProgramID),
		Group:   optionalWith(&p, "group", q.Get("group"), domain.ParseGroupID),
	}
	limit := defaultPatientLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPatientLimit {
			p.fail("limit", "limit must be a whole number from 1 to "+strconv.Itoa(maxPatientLimit))
		}
		limit = n
	}
	typed := q.Get("q")
	search := strings.ToLower(strings.TrimSpace(typed))
	if !utf8.ValidString(typed) && p.err == nil {
		p.err = badRequest("invalid_utf8", "q", "the search is not valid UTF-8")
	}
	if p.err != nil {
		writeError(w, r, s.log, p.err)
		return
	}
	sc := scopeFrom(r.Context())
	if search == "" && !sc.limited() {
		filter.Limit = limit
	}
	var view projections.PatientsView
	pos := s.projections.Read(func(m *projections.Models) {
		view = m.Patients.Patients(filter)
		if sc.limited() {
			view = sc.keep(m, view, search == "", limit)
		}
	})
	out := patientsResponse{Total: view.Total, Patients: make([]patientOut, 0, min(len(view.Patients), limit))}
	if search == "" {
		for _, row := range view.Patients {
			out.Patients = append(out.Patients, s.patientOut(r, row, false))
		}
		s.writeListed(w, r, pos, out)
		return
	}
	out.Total = 0
	for _, row := range view.Patients {
		o := s.patientOut(r, row, false)
		if !strings.Contains(strings.ToLower(o.Name), search) && !strings.HasPrefix(string(row.Patient), search) {
			continue
		}
		out.Total++
		if len(out.Patients) < limit {
			out.Patients = append(out.Patients, o)
		}
	}
	s.writeListed(w, r, pos, out)
}

// writeListed audits the people on a page of the list, then answers it.
func (s *Server) writeListed(w http.ResponseWriter, r *http.Request, pos eventstore.Position, out patientsResponse) {
	if len(out.Patients) > 0 {
		ids := make([]string, len(out.Patients))
		for i, p := range out.Patients {
			ids[i] = string(p.Patient)
		}
		if err := s.recordAccess(r, access.PatientsListed, ids, ""); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	writeView(w, pos, out)
}

// journeyResponse is one person's page: who and where (the list row, with
// contact details) and the whole journey.
type journeyResponse struct {
	Patient patientOut              `json:"patient"`
	Journey projections.JourneyView `json:"journey"`
}

// patient serves a person's journey.
func (s *Server) patient(w http.ResponseWriter, r *http.Request) {
	id, err := pathPatient(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var row projections.PatientRow
	var journey projections.JourneyView
	var found, inScope bool
	sc := scopeFrom(r.Context())
	pos := s.projections.Read(func(m *projections.Models) {
		var hasRow bool
		row, hasRow = m.Patients.Patient(id)
		journey, found = m.Journeys.Journey(id)
		found = found && hasRow
		inScope = sc.patient(m, id)
	})
	if !found {
		writeError(w, r, s.log, &domain.NotFoundError{Kind: "patient", ID: string(id)})
		return
	}
	if !inScope {
		writeError(w, r, s.log, errOutOfScope)
		return
	}
	if err := s.recordAccess(r, access.PatientViewed, []string{string(id)}, ""); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeView(w, pos, journeyResponse{Patient: s.patientOut(r, row, true), Journey: journey})
}

// groups serves every group's occupancy, capacity and waitlist length.
func (s *Server) groups(w http.ResponseWriter, r *http.Request) {
	var v projections.CensusView
	now := s.clock()
	pos := s.projections.Read(func(m *projections.Models) { v = m.Census.View(now) })
	writeView(w, pos, map[string]any{"groups": v.Groups})
}

// programs serves every program's occupancy against its capacity.
func (s *Server) programs(w http.ResponseWriter, r *http.Request) {
	var v projections.CensusView
	now := s.clock()
	pos := s.projections.Read(func(m *projections.Models) { v = m.Census.View(now) })
	writeView(w, pos, map[string]any{"programs": v.Programs})
}

// rosterMember is a member with the name opened for the clinician.
// Restricted marks a member of another program than a limited
// clinician's, shown without ID or name.
type rosterMember struct {
	projections.RosterMember
	Name       string `json:"name"`
	Erased     bool   `json:"erased,omitempty"`
	Restricted bool   `json:"restricted,omitempty"`
}

// waitlistEntry is a waitlist place with the name opened (or restricted,
// as for a member).
type waitlistEntry struct {
	projections.WaitlistEntry
	Name       string `json:"name"`
	Erased     bool   `json:"erased,omitempty"`
	Restricted bool   `json:"restricted,omitempty"`
}

// rosterResponse is a group's roster with names. The websocket's
// group:<id> view is the same roster without names (views are rendered
// once for every subscriber, and names are opened per response).
type rosterResponse struct {
	projections.RosterView
	Members  []rosterMember  `json:"members"`
	Waitlist []waitlistEntry `json:"waitlist"`
}

// roster serves a group's roster.
func (s *Server) roster(w http.ResponseWriter, r *http.Request) {
	id, err := pathGroup(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var v projections.RosterView
	var found, groupInScope bool
	sc := scopeFrom(r.Context())
	sealed := map[domain.PatientID]*domain.SealedPersonal{}
	// outside holds the people of other programs in an open group: a
	// clinician limited to programs sees their seat, not who they are.
	outside := map[domain.PatientID]bool{}
	pos := s.projections.Read(func(m *projections.Models) {
		if v, found = m.Rosters.Roster(id); !found {
			return
		}
		groupInScope = sc.group(m, id)
		people := make([]domain.PatientID, 0, len(v.Members)+len(v.Waitlist))
		for _, mem := range v.Members {
			people = append(people, mem.Patient)
		}
		for _, e := range v.Waitlist {
			people = append(people, e.Patient)
		}
		for _, p := range people {
			if !sc.patient(m, p) {
				outside[p] = true
				continue
			}
			row, _ := m.Patients.Patient(p)
			sealed[p] = row.Personal
		}
	})
	if !found {
		writeError(w, r, s.log, &domain.NotFoundError{Kind: "group", ID: string(id)})
		return
	}
	if !groupInScope {
		writeError(w, r, s.log, errOutOfScope)
		return
	}
	out := rosterResponse{RosterView: v, Members: make([]rosterMember, 0, len(v.Members)), Waitlist: make([]waitlistEntry, 0, len(v.Waitlist))}
	var named []string
	for _, mem := range v.Members {
		if outside[mem.Patient] {
			mem.Patient = ""
			out.Members = append(out.Members, rosterMember{RosterMember: mem, Restricted: true})
			continue
		}
		p := s.open(r, sealed[mem.Patient])
		named = append(named, string(mem.Patient))
		out.Members = append(out.Members, rosterMember{RosterMember: mem, Name: p.Name, Erased: p.Erased})
	}
	for _, e := range v.Waitlist {
		if outside[e.Patient] {
			e.Patient = ""
			out.Waitlist = append(out.Waitlist, waitlistEntry{WaitlistEntry: e, Restricted: true})
			continue
		}
		p := s.open(r, sealed[e.Patient])
		named = append(named, string(e.Patient))
		out.Waitlist = append(out.Waitlist, waitlistEntry{WaitlistEntry: e, Name: p.Name, Erased: p.Erased})
	}
	if len(named) > 0 {
		if err := s.recordAccess(r, access.RosterViewed, named, ""); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	writeView(w, pos, out)
}

// catalogResponse is everything a form needs for its choices: the levels,
// programs and groups as defined now, and every closed set of values the
// commands accept.
type catalogResponse struct {
	Levels             []string          `json:"levels"`
	Programs           []catalogProgram  `json:"programs"`
	Groups             []catalogGroup    `json:"groups"`
	Instruments        []instrumentRange `json:"instruments"`
	ReferralSources    []string          `json:"referralSources"`
	DischargeReasons   []string          `json:"dischargeReasons"`
	LeaveReasons       []string          `json:"leaveReasons"`
	AttendanceStatuses []string          `json:"attendanceStatuses"`
	PatientStatuses    []string          `json:"patientStatuses"`
}

// catalogProgram is a program as a form offers it.
type catalogProgram struct {
	ID       domain.ProgramID `json:"id"`
	Name     string           `json:"name"`
	Level    domain.Level     `json:"level,omitempty"`
	Capacity int              `json:"capacity"`
}

// catalogGroup is a group's full definition.
type catalogGroup struct {
	ID domain.GroupID `json:"id"`
	domain.GroupSpec
}

// instrumentRange is an instrument and the scores it can produce.
type instrumentRange struct {
	ID  domain.Instrument `json:"id"`
	Min int               `json:"min"`
	Max int               `json:"max"`
}

// catalog serves the choices of every form.
func (s *Server) catalog(w http.ResponseWriter, r *http.Request) {
	now := s.clock()
	out := catalogResponse{
		ReferralSources:    enumNames[domain.ReferralSource](),
		DischargeReasons:   enumNames[domain.DischargeReason](),
		LeaveReasons:       enumNames[domain.LeaveReason](),
		AttendanceStatuses: enumNames[domain.AttendanceStatus](),
		PatientStatuses:    []string{},
		Programs:           []catalogProgram{},
		Groups:             []catalogGroup{},
	}
	for _, l := range domain.Levels() {
		out.Levels = append(out.Levels, l.String())
	}
	for _, in := range domain.Instruments() {
		out.Instruments = append(out.Instruments, instrumentRange{ID: in, Min: in.MinScore(), Max: in.MaxScore()})
	}
	for st := projections.StatusReferred; st.String() != "invalid"; st++ {
		out.PatientStatuses = append(out.PatientStatuses, st.String())
	}
	pos := s.projections.Read(func(m *projections.Models) {
		v := m.Census.View(now)
		for _, p := range v.Programs {
			if p.Name != "" {
				out.Programs = append(out.Programs, catalogProgram{ID: p.Program, Name: p.Name, Level: p.Level, Capacity: p.Capacity})
			}
		}
		for _, g := range v.Groups {
			if roster, ok := m.Rosters.Roster(g.Group); ok && roster.Definition != nil {
				out.Groups = append(out.Groups, catalogGroup{ID: g.Group, GroupSpec: *roster.Definition})
			}
		}
	})
	writeView(w, pos, out)
}

// closedSet is a domain enumeration: values from 1 while Valid.
type closedSet interface {
	~uint8
	Valid() bool
	String() string
}

// enumNames lists the wire names of a domain enumeration in order.
func enumNames[T closedSet]() []string {
	var names []string
	for v := T(1); v.Valid(); v++ {
		names = append(names, v.String())
	}
	return names
}
