package access

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
)

// AuditStreamPrefix starts the name of every audit stream,
// "audit-<YYYY-MM-DD>" (one per UTC day, so no stream grows without bound
// and a day's access is one stream read).
const AuditStreamPrefix = "audit-"

// auditStream names the audit stream of the day of at.
func auditStream(at time.Time) string {
	return AuditStreamPrefix + at.UTC().Format(time.DateOnly)
}

// Action is what an audit entry records; it is the event's type.
type Action string

// The audited actions.
const (
	SignedIn     Action = "SignedIn"
	SignInFailed Action = "SignInFailed"
	SignedOut    Action = "SignedOut"
	// PatientViewed: a patient's journey page (name, contact, timeline).
	PatientViewed Action = "PatientViewed"
	// PatientsListed: a page of the patient list or a search's results,
	// with names; Patients holds every ID on the page.
	PatientsListed Action = "PatientsListed"
	// RosterViewed: a group's roster with names; Patients holds the
	// members and waitlisted people whose names were shown.
	RosterViewed Action = "RosterViewed"
	// PatientFollowed: a websocket subscription to a patient's journey.
	PatientFollowed Action = "PatientFollowed"
	// Exported: a report, export or backup left the server.
	Exported Action = "Exported"
	// PersonErased: a person's key was destroyed (crypto-shredding).
	PersonErased Action = "PersonErased"
	// AuditViewed: someone read the audit.
	AuditViewed Action = "AuditViewed"
	// UserAdded, UserChanged, TokenIssued and TokenRevoked: who manages
	// whose access; Detail names the user concerned.
	UserAdded    Action = "UserAdded"
	UserChanged  Action = "UserChanged"
	TokenIssued  Action = "TokenIssued"
	TokenRevoked Action = "TokenRevoked"
)

var actions = []Action{SignedIn, SignInFailed, SignedOut, PatientViewed, PatientsListed, RosterViewed,
	PatientFollowed, Exported, PersonErased, AuditViewed, UserAdded, UserChanged, TokenIssued, TokenRevoked}

// ParseAction reads an action's name.
func ParseAction(s string) (Action, error) {
	if slices.Contains(actions, Action(s)) {
		return Action(s), nil
	}
	return "", &InputError{Field: "action", Reason: "not an audited action"}
}

// Entry is one audited access: who, in which role, did what, to which
// patients (by ID; never a name), when and from where.
type Entry struct {
	Action Action    `json:"action"`
	At     time.Time `json:"at"`
	// User is the user name; for a failed sign-in, the name tried if it
	// belongs to a user (a name typed into the password field must not
	// land in the audit), else empty.
	User string `json:"user,omitempty"`
	Role Role   `json:"role,omitempty"`
	// Route is the route pattern ("GET /api/patients/{id}") or the
	// websocket topic kind; never a path, which may carry an ID.
	Route    string   `json:"route,omitempty"`
	Patients []string `json:"patients,omitempty"`
	// Remote is the peer's IP address; Forwarded the X-Forwarded-For a
	// proxy added, kept apart because the client can forge it.
	Remote    string `json:"remote,omitempty"`
	Forwarded string `json:"forwarded,omitempty"`
	// Outcome is empty for a granted access, else why it failed
	// (unknown_user, wrong_password, disabled, throttled, failed).
	Outcome string `json:"outcome,omitempty"`
	// Detail is the user concerned by a user-management action or the
	// format of an export; never personal data.
	Detail      string `json:"detail,omitempty"`
	Correlation string `json:"correlation,omitempty"`
}

// Record is an entry as stored.
type Record struct {
	ID string `json:"id"`
	Entry
}

// Audit appends entries to the audit streams and reads them back. It has
// no way to change or delete an entry.
type Audit struct {
	store eventstore.Store
	clock func() time.Time
}

// NewAudit returns the audit kept in store; clock stamps entries without a
// time (nil means time.Now).
func NewAudit(store eventstore.Store, clock func() time.Time) *Audit {
	if clock == nil {
		clock = time.Now
	}
	return &Audit{store: store, clock: clock}
}

// Record appends e, returning only once it is durable: callers audit
// before they answer, so nothing is seen unrecorded.
func (a *Audit) Record(ctx context.Context, e Entry) error {
	if !slices.Contains(actions, e.Action) {
		return fmt.Errorf("access: unknown audit action %q", e.Action)
	}
	if e.At.IsZero() {
		e.At = a.clock()
	}
	e.At = e.At.UTC()
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	var meta []byte
	if e.Correlation != "" {
		// The name KurrentDB's $by_correlation_id projection reads, so an
		// access is found beside the commands of the same request.
		meta, _ = json.Marshal(map[string]string{"$correlationId": e.Correlation})
	}
	ev := eventstore.EventData{ID: uuid.New(), Type: string(e.Action), ContentType: eventstore.ContentTypeJSON, Data: data, Metadata: meta}
	if _, err := a.store.Append(ctx, auditStream(e.At), eventstore.Any, ev); err != nil {
		return fmt.Errorf("recording the access: %w", err)
	}
	return nil
}

// Query selects audit records; zero fields select everything.
type Query struct {
	Patient string
	User    string
	Action  Action
	// Limit is the most records answered, newest first; 0 means 100.
	Limit int
}

// MaxQueryLimit bounds one answer.
const MaxQueryLimit = 10000

// auditPage is how many audit events one backward read takes.
const auditPage = 1024

// Query answers the newest records matching q, newest first.
func (a *Audit) Query(ctx context.Context, q Query) ([]Record, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, MaxQueryLimit)
	filter := &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{AuditStreamPrefix}}
	out := []Record{}
	from, seen := eventstore.End, false
	for {
		evs, err := a.store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: from, Max: auditPage, Filter: filter})
		if err != nil {
			return nil, fmt.Errorf("reading the audit: %w", err)
		}
		full := len(evs) == auditPage
		if seen && len(evs) > 0 && evs[0].Position == from {
			evs = evs[1:]
		}
		for i := range evs {
			rec, ok := decodeRecord(&evs[i])
			if !ok || !q.matches(rec.Entry) {
				continue
			}
			out = append(out, rec)
			if len(out) == limit {
				return out, nil
			}
		}
		if len(evs) == 0 || !full {
			return out, nil
		}
		from, seen = evs[len(evs)-1].Position, true
	}
}

func (q Query) matches(e Entry) bool {
	switch {
	case q.Patient != "" && !slices.Contains(e.Patients, q.Patient):
		return false
	case q.User != "" && e.User != q.User:
		return false
	case q.Action != "" && e.Action != q.Action:
		return false
	}
	return true
}

// decodeRecord reads one audit event; a foreign event in an audit stream
// is skipped.
func decodeRecord(ev *eventstore.RecordedEvent) (Record, bool) {
	if !strings.HasPrefix(ev.Stream, AuditStreamPrefix) {
		return Record{}, false
	}
	var e Entry
	if err := json.Unmarshal(ev.Data, &e); err != nil {
		return Record{}, false
	}
	e.Action = Action(ev.Type)
	return Record{ID: ev.ID.String(), Entry: e}, true
}
