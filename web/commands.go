package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/privacy"
)

// CommandService executes domain commands; *commands.Service implements it.
type CommandService interface {
	Refer(ctx context.Context, sealer commands.Sealer, m commands.Meta, c commands.Refer) (commands.Result, error)
	Patient(ctx context.Context, m commands.Meta, c domain.PatientCommand) (commands.Result, error)
	Group(ctx context.Context, m commands.Meta, c domain.GroupCommand) (commands.Result, error)
	Program(ctx context.Context, m commands.Meta, c domain.ProgramCommand) (commands.Result, error)
}

// IdempotencyHeader is the request header every command must carry: the
// same key repeats the first answer and appends nothing.
const IdempotencyHeader = "Idempotency-Key"

// commandResponse is the body of an accepted command.
type commandResponse struct {
	Stream string `json:"stream"`
	// Position is the $all position of the command's last event, the token
	// websocket frames carry; Revision the stream's revision after it.
	Position string   `json:"position"`
	Revision uint64   `json:"revision"`
	Events   []string `json:"events"`
	// Duplicate says the idempotency key was used before: nothing was
	// appended and this answer repeats the first one's.
	Duplicate bool `json:"duplicate"`
	// Projected says the read models already show the command's effect
	// (always true after a successful ?wait=1).
	Projected bool `json:"projected"`
	// Patient is the patient ID of a referral; Session the ID of a held session.
	Patient string `json:"patient,omitempty"`
	Session string `json:"session,omitempty"`
}

// commandHandler runs one command route: it parses the request into a
// command (or refuses it), and the shared code around it checks the
// idempotency key, executes, waits for projections when asked and answers.
type commandHandler func(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error)

// command wraps a handler with what every command route shares. created
// is the status of a command that creates a resource (201), else 200.
func (s *Server) command(created bool, h commandHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		refuse := func(err error) {
			_, detail := describeError(err)
			s.metrics.rejections.WithLabelValues(detail.Code).Inc()
			writeError(w, r, s.log, err)
		}
		key := r.Header.Get(IdempotencyHeader)
		if key == "" {
			refuse(badRequest("idempotency_key_required", IdempotencyHeader,
				"every command needs an Idempotency-Key header: a fresh random value per submission, repeated on retries"))
			return
		}
		if !validToken(key, maxTokenLen) {
			refuse(badRequest(invalidInput, IdempotencyHeader,
				"the Idempotency-Key must be 1 to "+strconv.Itoa(maxTokenLen)+" printable ASCII characters"))
			return
		}
		wait, err := waitParam(r)
		if err != nil {
			refuse(err)
			return
		}
		m := commands.Meta{IdempotencyKey: key, CorrelationID: correlationID(r.Context())}
		if id, ok := identityOf(r.Context()); ok {
			m.Actor = id.User
		}
		res, resp, err := h(w, r, m)
		if err != nil {
			refuse(err)
			return
		}
		resp.Stream, resp.Revision, resp.Duplicate = res.Stream, res.Revision, res.Duplicate
		resp.Position = FormatPosition(res.Position)
		resp.Events = res.Events
		if resp.Events == nil {
			resp.Events = []string{}
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		resp.Projected = !s.progress.position().Less(res.Position)
		if wait && !resp.Projected {
			ctx, cancel := context.WithTimeout(r.Context(), s.waitTimeout)
			err := s.progress.waitFor(ctx, res.Position)
			cancel()
			resp.Projected = err == nil
			if !resp.Projected {
				// The command is durable; only its reflection is late.
				status = http.StatusAccepted
			}
		}
		writeJSON(w, status, resp)
	}
}

// waitParam reads ?wait=1 (or true): answer only once the projections show
// the command's effect, so the client reads its own writes.
func waitParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest(invalidInput, "wait", "wait must be 1 or 0")
	}
	return b, nil
}

// atIn parses the optional occurredAt field into the clinic's time zone,
// where the domain takes calendar days (session days, module starts).
func (s *Server) atIn(p *fieldParser, value string) time.Time {
	t := p.clinicalTime(value)
	if t.IsZero() {
		return t
	}
	return t.In(s.location)
}

// pathPatient parses the {id} path segment of a patient route.
func pathPatient(r *http.Request) (domain.PatientID, error) {
	id, err := domain.ParsePatientID(r.PathValue("id"))
	if err != nil {
		return "", badRequest(invalidInput, "id", reasonOf(err))
	}
	return id, nil
}

// pathGroup parses the {id} path segment of a group route.
func pathGroup(r *http.Request) (domain.GroupID, error) {
	id, err := domain.ParseGroupID(r.PathValue("id"))
	if err != nil {
		return "", badRequest(invalidInput, "id", reasonOf(err))
	}
	return id, nil
}

// Patient commands.

// referRequest opens a journey. Personal data is optional (de-identified
// referrals) and is sealed under the person's own key before it is stored.
type referRequest struct {
	// Patient is the patient ID to use; empty lets the server derive one.
	Patient     string `json:"patient"`
	Source      string `json:"source"`
	Name        string `json:"name"`
	DateOfBirth string `json:"dateOfBirth"`
	Contact     string `json:"contact"`
	OccurredAt  string `json:"occurredAt"`
}

// maxPersonalLen bounds each personal field: names and contact lines are
// short, and the bound keeps the sealed blob small.
const maxPersonalLen = 200

// patientIDNamespace roots the derivation of new patient IDs from the
// referral's idempotency key.
var patientIDNamespace = uuid.MustParse("9f1c2b7e-6d4a-4c1e-8b3f-2a7d5e9c0b14")

// newPatientID derives the ID of a referred person from the request's
// idempotency key: a retried referral must address the same stream to be
// recognised as a retry, so the ID cannot be drawn at random per request.
// Keys are random per submission, so IDs are as unguessable as the keys
// and carry nothing about the person.
func newPatientID(key string) domain.PatientID {
	return domain.PatientID(uuid.NewSHA1(patientIDNamespace, []byte(key)).String())
}

func (s *Server) refer(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
	var req referRequest
	if err := decodeCommand(w, r, &req); err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var p fieldParser
	id := newPatientID(m.IdempotencyKey)
	if req.Patient != "" {
		id = parseWith(&p, "patient", req.Patient, domain.ParsePatientID)
	}
	source := parseWith(&p, "source", req.Source, domain.ParseReferralSource)
	at := s.atIn(&p, req.OccurredAt)
	personal := p.personal(req.Name, req.DateOfBirth, req.Contact, s.clock())
	if p.err != nil {
		return commands.Result{}, commandResponse{}, p.err
	}
	cmd := commands.Refer{Refer: domain.Refer{Patient: id, Source: source, At: at}, Personal: personal}
	res, err := s.commands.Refer(r.Context(), s.keys, m, cmd)
	return res, commandResponse{Patient: string(id)}, err
}

// personal validates the optional personal fields; nil when none is given.
func (p *fieldParser) personal(name, dob, contact string, now time.Time) *privacy.Personal {
	if name == "" && dob == "" && contact == "" {
		return nil
	}
	for _, f := range []struct{ field, value string }{{"name", name}, {"dateOfBirth", dob}, {"contact", contact}} {
		if utf8.RuneCountInString(f.value) > maxPersonalLen {
			p.fail(f.field, f.field+" is longer than "+strconv.Itoa(maxPersonalLen)+" characters")
		}
	}
	if name == "" {
		p.fail("name", "name is required when other personal data is given")
	}
	if dob != "" {
		d, err := time.Parse(time.DateOnly, dob)
		switch {
		case err != nil:
			p.fail("dateOfBirth", "dateOfBirth must be YYYY-MM-DD")
		case d.After(now.Add(24 * time.Hour)): // a day ahead: the client's calendar day may be ahead of UTC
			p.fail("dateOfBirth", "dateOfBirth is in the future")
		case d.Before(domain.EarliestClinicalTime):
			p.fail("dateOfBirth", "a dateOfBirth before 1900 is not plausible")
		}
	}
	return &privacy.Personal{Name: name, DateOfBirth: dob, Contact: contact}
}

// intakeRequest records the intake assessment. The scores are pointers so
// a missing one is refused rather than read as a score of 0.
type intakeRequest struct {
	PHQ9              *int   `json:"phq9"`
	GAD7              *int   `json:"gad7"`
	RecommendedLevel  string `json:"recommendedLevel"`
	PrimaryCare       bool   `json:"primaryCare"`
	IndividualTherapy bool   `json:"individualTherapy"`
	AgeYears          *int   `json:"ageYears"`
	OccurredAt        string `json:"occurredAt"`
}

// requiredInt refuses a missing number.
func (p *fieldParser) requiredInt(field string, v *int) int {
	if v == nil {
		p.fail(field, field+" is required")
		return 0
	}
	return *v
}

func (s *Server) intake(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
	id, err := pathPatient(r)
	if err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var req intakeRequest
	if err := decodeCommand(w, r, &req); err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var p fieldParser
	cmd := domain.CompleteIntake{
		Patient:           id,
		PHQ9:              p.requiredInt("phq9", req.PHQ9),
		GAD7:              p.requiredInt("gad7", req.GAD7),
		RecommendedLevel:  parseWith(&p, "recommendedLevel", req.RecommendedLevel, domain.ParseLevel),
		PrimaryCare:       req.PrimaryCare,
		IndividualTherapy: req.IndividualTherapy,
		AgeYears:          p.requiredInt("ageYears", req.AgeYears),
		At:                s.atIn(&p, req.OccurredAt),
	}
	if p.err != nil {
		return commands.Result{}, commandResponse{}, p.err
	}
	res, err := s.commands.Patient(r.Context(), m, cmd)
	var score *domain.ScoreOutOfRangeError
	if errors.As(err, &score) {
		err = withField(err, score.Instrument.String())
	}
	return res, commandResponse{}, err
}

// placementRequest is the body of an admission or readmission.
type placementRequest struct {
	Program    string `json:"program"`
	Level      string `json:"level"`
	OccurredAt string `json:"occurredAt"`
}

// admit serves both admission and readmission, which take the same
// placement; readmit picks the command.
func (s *Server) admit(readmit bool) commandHandler {
	return func(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
		id, err := pathPatient(r)
		if err != nil {
			return commands.Result{}, commandResponse{}, err
		}
		var req placementRequest
		if err := decodeCommand(w, r, &req); err != nil {
			return commands.Result{}, commandResponse{}, err
		}
		var p fieldParser
		program := parseWith(&p, "program", req.Program, domain.ParseProgramID)
		level := parseWith(&p, "level", req.Level, domain.ParseLevel)
		at := s.atIn(&p, req.OccurredAt)
		if p.err != nil {
			return commands.Result{}, commandResponse{}, p.err
		}
		var cmd domain.PatientCommand = domain.Admit{Patient: id, Program: program, Level: level, At: at}
		if readmit {
			cmd = domain.Readmit{Patient: id, Program: program, Level: level, At: at}
		}
		res, err := s.commands.Patient(r.Context(), m, cmd)
		return res, commandResponse{}, err
	}
}

// measureRequest records an instrument's total score.
type measureRequest struct {
	Instrument string `json:"instrument"`
	Score      *int   `json:"score"`
	OccurredAt string `json:"occurredAt"`
}

func (s *Server) measure(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
	id, err := pathPatient(r)
	if err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var req measureRequest
	if err := decodeCommand(w, r, &req); err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var p fieldParser
	cmd := domain.RecordMeasure{
		Patient:    id,
		Instrument: parseWith(&p, "instrument", req.Instrument, domain.ParseInstrument),
		Score:      p.requiredInt("score", req.Score),
		At:         s.atIn(&p, req.OccurredAt),
	}
	if p.err != nil {
		return commands.Result{}, commandResponse{}, p.err
	}
	res, err := s.commands.Patient(r.Context(), m, cmd)
	return res, commandResponse{}, withField(err, "score")
}

// levelChangeRequest is the body of a step-down or step-up.
type levelChangeRequest struct {
	To         string `json:"to"`
	Program    string `json:"program"`
	OccurredAt string `json:"occurredAt"`
}

// changeLevel serves step-down and step-up, which share their body.
func (s *Server) changeLevel(up bool) commandHandler {
	return func(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
		id, err := pathPatient(r)
		if err != nil {
			return commands.Result{}, commandResponse{}, err
		}
		var req levelChangeRequest
		if err := decodeCommand(w, r, &req); err != nil {
			return commands.Result{}, commandResponse{}, err
		}
		var p fieldParser
		to := parseWith(&p, "to", req.To, domain.ParseLevel)
		program := parseWith(&p, "program", req.Program, domain.ParseProgramID)
		at := s.atIn(&p, req.OccurredAt)
		if p.err != nil {
			return commands.Result{}, commandResponse{}, p.err
		}
		var cmd domain.PatientCommand = domain.StepDown{Patient: id, To: to, Program: program, At: at}
		if up {
			cmd = domain.StepUp{Patient: id, To: to, Program: program, At: at}
		}
		res, err := s.commands.Patient(r.Context(), m, cmd)
		return res, commandResponse{}, err
	}
}

// dischargeRequest ends the episode of care.
type dischargeRequest struct {
	Reason      string `json:"reason"`
	AlumniGroup string `json:"alumniGroup"`
	OccurredAt  string `json:"occurredAt"`
}

func (s *Server) discharge(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
	id, err := pathPatient(r)
	if err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var req dischargeRequest
	if err := decodeCommand(w, r, &req); err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var p fieldParser
	cmd := domain.Discharge{
		Patient:     id,
		Reason:      parseWith(&p, "reason", req.Reason, domain.ParseDischargeReason),
		AlumniGroup: optionalWith(&p, "alumniGroup", req.AlumniGroup, domain.ParseGroupID),
		At:          s.atIn(&p, req.OccurredAt),
	}
	if p.err != nil {
		return commands.Result{}, commandResponse{}, p.err
	}
	res, err := s.commands.Patient(r.Context(), m, cmd)
	return res, commandResponse{}, err
}

// Group commands.

// joinRequest asks for a seat; with waitlistIfFull a full group waitlists
// the person instead of refusing.
type joinRequest struct {
	Patient        string `json:"patient"`
	WaitlistIfFull bool   `json:"waitlistIfFull"`
	OccurredAt     string `json:"occurredAt"`
}

func (s *Server) join(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
	group, err := pathGroup(r)
	if err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var req joinRequest
	if err := decodeCommand(w, r, &req); err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var p fieldParser
	cmd := domain.JoinGroup{
		Group:          group,
		Patient:        parseWith(&p, "patient", req.Patient, domain.ParsePatientID),
		WaitlistIfFull: req.WaitlistIfFull,
		At:             s.atIn(&p, req.OccurredAt),
	}
	if p.err != nil {
		return commands.Result{}, commandResponse{}, p.err
	}
	res, err := s.commands.Group(r.Context(), m, cmd)
	return res, commandResponse{}, err
}

// leaveRequest frees a seat or leaves the waitlist.
type leaveRequest struct {
	Patient    string `json:"patient"`
	Reason     string `json:"reason"`
	OccurredAt string `json:"occurredAt"`
}

func (s *Server) leave(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
	group, err := pathGroup(r)
	if err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var req leaveRequest
	if err := decodeCommand(w, r, &req); err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var p fieldParser
	cmd := domain.LeaveGroup{
		Group:   group,
		Patient: parseWith(&p, "patient", req.Patient, domain.ParsePatientID),
		Reason:  parseWith(&p, "reason", req.Reason, domain.ParseLeaveReason),
		At:      s.atIn(&p, req.OccurredAt),
	}
	if p.err != nil {
		return commands.Result{}, commandResponse{}, p.err
	}
	res, err := s.commands.Group(r.Context(), m, cmd)
	return res, commandResponse{}, err
}

// sessionRequest records a held session. Without a session ID the server
// names it by its day and start time in the clinic's zone, the convention
// every recorder of the same session follows.
type sessionRequest struct {
	Session    string `json:"session"`
	OccurredAt string `json:"occurredAt"`
}

func (s *Server) holdSession(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
	group, err := pathGroup(r)
	if err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var req sessionRequest
	if err := decodeCommand(w, r, &req); err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var p fieldParser
	at := s.atIn(&p, req.OccurredAt)
	session := optionalWith(&p, "session", req.Session, domain.ParseSessionID)
	if p.err != nil {
		return commands.Result{}, commandResponse{}, p.err
	}
	if session == "" {
		held := at
		if held.IsZero() {
			held = s.clock().In(s.location)
		}
		session = domain.NewSessionID(domain.DateOf(held), domain.ClockTime(held.Hour()*60+held.Minute()))
		// Pin the clinical time the ID was derived from, so the session's
		// day and its name cannot disagree.
		at = held
	}
	res, err := s.commands.Group(r.Context(), m, domain.HoldSession{Group: group, Session: session, At: at})
	return res, commandResponse{Session: string(session)}, err
}

// attendanceRequest records one member's attendance at a held session.
type attendanceRequest struct {
	Patient    string `json:"patient"`
	Status     string `json:"status"`
	OccurredAt string `json:"occurredAt"`
}

func (s *Server) attendance(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
	group, err := pathGroup(r)
	if err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	session, err := domain.ParseSessionID(r.PathValue("sid"))
	if err != nil {
		return commands.Result{}, commandResponse{}, badRequest(invalidInput, "sid", reasonOf(err))
	}
	var req attendanceRequest
	if err := decodeCommand(w, r, &req); err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var p fieldParser
	cmd := domain.RecordAttendance{
		Group:   group,
		Session: session,
		Patient: parseWith(&p, "patient", req.Patient, domain.ParsePatientID),
		Status:  parseWith(&p, "status", req.Status, domain.ParseAttendanceStatus),
		At:      s.atIn(&p, req.OccurredAt),
	}
	if p.err != nil {
		return commands.Result{}, commandResponse{}, p.err
	}
	res, err := s.commands.Group(r.Context(), m, cmd)
	return res, commandResponse{}, err
}

// memberRequest names the member a module or group completion is for.
type memberRequest struct {
	Patient    string `json:"patient"`
	OccurredAt string `json:"occurredAt"`
}

func (s *Server) completeModule(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
	group, err := pathGroup(r)
	if err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	module, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || module < 1 {
		return commands.Result{}, commandResponse{}, badRequest(invalidInput, "n", "the module number must be a whole number from 1")
	}
	var req memberRequest
	if err := decodeCommand(w, r, &req); err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var p fieldParser
	cmd := domain.CompleteModule{
		Group:   group,
		Patient: parseWith(&p, "patient", req.Patient, domain.ParsePatientID),
		Module:  module,
		At:      s.atIn(&p, req.OccurredAt),
	}
	if p.err != nil {
		return commands.Result{}, commandResponse{}, p.err
	}
	res, err := s.commands.Group(r.Context(), m, cmd)
	return res, commandResponse{}, withField(err, "n")
}

func (s *Server) completeGroup(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
	group, err := pathGroup(r)
	if err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var req memberRequest
	if err := decodeCommand(w, r, &req); err != nil {
		return commands.Result{}, commandResponse{}, err
	}
	var p fieldParser
	cmd := domain.CompleteGroup{
		Group:   group,
		Patient: parseWith(&p, "patient", req.Patient, domain.ParsePatientID),
		At:      s.atIn(&p, req.OccurredAt),
	}
	if p.err != nil {
		return commands.Result{}, commandResponse{}, p.err
	}
	res, err := s.commands.Group(r.Context(), m, cmd)
	return res, commandResponse{}, err
}

// Catalog commands: groups and programs are data, created and changed
// through the same command path as everything else.

// groupDefinition is the body of a group creation (with its ID) or change.
type groupDefinition struct {
	ID string `json:"id"`
	domain.GroupSpec
	OccurredAt string `json:"occurredAt"`
}

// defineGroup serves creation (POST /api/groups, ID in the body) and
// change (PUT /api/groups/{id}).
func (s *Server) defineGroup(create bool) commandHandler {
	return func(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
		var req groupDefinition
		if err := decodeCommand(w, r, &req); err != nil {
			return commands.Result{}, commandResponse{}, err
		}
		var p fieldParser
		var id domain.GroupID
		if create {
			id = parseWith(&p, "id", req.ID, domain.ParseGroupID)
		} else {
			var err error
			if id, err = pathGroup(r); err != nil {
				return commands.Result{}, commandResponse{}, err
			}
			if req.ID != "" && req.ID != string(id) {
				p.fail("id", "id in the body differs from the one in the path")
			}
		}
		at := s.atIn(&p, req.OccurredAt)
		if p.err != nil {
			return commands.Result{}, commandResponse{}, p.err
		}
		var cmd domain.GroupCommand = domain.ChangeGroup{Group: id, Spec: req.GroupSpec, At: at}
		if create {
			cmd = domain.CreateGroup{Group: id, Spec: req.GroupSpec, At: at}
		}
		res, err := s.commands.Group(r.Context(), m, cmd)
		return res, commandResponse{}, err
	}
}

// programDefinition is the body of a program creation (with its ID) or change.
type programDefinition struct {
	ID string `json:"id"`
	domain.ProgramSpec
	OccurredAt string `json:"occurredAt"`
}

// defineProgram serves creation (POST /api/programs) and change (PUT
// /api/programs/{id}).
func (s *Server) defineProgram(create bool) commandHandler {
	return func(w http.ResponseWriter, r *http.Request, m commands.Meta) (commands.Result, commandResponse, error) {
		var req programDefinition
		if err := decodeCommand(w, r, &req); err != nil {
			return commands.Result{}, commandResponse{}, err
		}
		var p fieldParser
		var id domain.ProgramID
		if create {
			id = parseWith(&p, "id", req.ID, domain.ParseProgramID)
		} else {
			id = parseWith(&p, "id", r.PathValue("id"), domain.ParseProgramID)
			if req.ID != "" && req.ID != string(id) {
				p.fail("id", "id in the body differs from the one in the path")
			}
		}
		at := s.atIn(&p, req.OccurredAt)
		if p.err != nil {
			return commands.Result{}, commandResponse{}, p.err
		}
		var cmd domain.ProgramCommand = domain.ChangeProgram{Program: id, Spec: req.ProgramSpec, At: at}
		if create {
			cmd = domain.CreateProgram{Program: id, Spec: req.ProgramSpec, At: at}
		}
		res, err := s.commands.Program(r.Context(), m, cmd)
		return res, commandResponse{}, err
	}
}

// fieldHint names the request field a coded domain error is about when the
// domain error cannot know it (a score's JSON name differs per command).
type fieldHint struct {
	error
	field string
}

func (f *fieldHint) Unwrap() error { return f.error }

// withField attaches field to err for the error response, if err is one
// the domain raises without naming a field; other errors pass unchanged.
func withField(err error, field string) error {
	var score *domain.ScoreOutOfRangeError
	var order *domain.ModuleOrderError
	if errors.As(err, &score) || errors.As(err, &order) {
		return &fieldHint{error: err, field: field}
	}
	return err
}
