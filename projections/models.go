package projections

import (
	"sync/atomic"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// Models is the set of read models one runner keeps, folded together from
// one log. They share the catalog (program and group definitions) and read
// each other where one fact serves several views — the census reads group
// occupancy from the rosters, a journey's attendance takes the session's
// time from the rosters — so no fact is folded twice.
//
// Models is not safe for concurrent use; the Runner guards it with its lock.
type Models struct {
	Census   *Census
	Patients *PatientList
	Rosters  *Rosters
	Journeys *Journeys

	catalog *catalog
	// hint sizes the next encoding like the last one; atomic because
	// encoding runs under the read lock.
	hint atomic.Pointer[encodeHint]
}

// NewModels returns empty read models. loc is the clinic's time zone: it
// decides which clinical day a fact falls on, so it is part of the state
// (a snapshot taken under another zone is not reused).
func NewModels(loc *time.Location) *Models {
	if loc == nil {
		loc = time.UTC
	}
	c := newCatalog()
	patients := newPatientList(loc, c)
	rosters := newRosters(c)
	return &Models{
		Census:   newCensus(loc, c, rosters),
		Patients: patients,
		Rosters:  rosters,
		Journeys: newJourneys(c, patients, rosters),
		catalog:  c,
	}
}

// Apply folds one decoded event into every model, in an order that lets
// each read what an earlier one derived from the same event, and adds the
// topics whose views changed to changed (which may be nil).
func (m *Models) Apply(e domain.Event, changed TopicSet) {
	m.catalog.apply(e, changed)
	tr := m.Patients.apply(e, changed)
	m.Census.apply(e, tr, changed)
	previous := m.Journeys.apply(e, changed)
	m.Rosters.apply(e, previous, changed)
}

// censusVersion changes whenever an applied event changes the census
// board, so the runner can tell which events did without a topic set.
func (m *Models) censusVersion() uint64 { return m.Census.changes + m.catalog.censusChanges }

// view renders a topic's view with now for the census. It answers
// ErrNotFound for a group or patient the models have never seen.
func (m *Models) view(t Topic, now time.Time) (any, error) {
	switch t.Kind {
	case TopicCensus:
		return m.Census.View(now), nil
	case TopicGroup:
		if v, ok := m.Rosters.Roster(domain.GroupID(t.ID)); ok {
			return v, nil
		}
	case TopicPatient:
		if v, ok := m.Journeys.Journey(domain.PatientID(t.ID)); ok {
			return v, nil
		}
	default:
		return nil, ErrUnknownTopic
	}
	return nil, ErrNotFound
}

// encode writes the state of every model: the string table, then the body.
func (m *Models) encode() (table, body []byte, err error) {
	var hint encodeHint
	if h := m.hint.Load(); h != nil {
		hint = *h
	}
	e := newEncoder(hint)
	if err := m.catalog.encode(e); err != nil {
		return nil, nil, err
	}
	m.Patients.encode(e)
	m.Census.encode(e)
	m.Rosters.encode(e)
	m.Journeys.encode(e)
	m.hint.Store(&encodeHint{body: len(e.buf), strings: len(e.table)})
	return e.stringTable(), e.buf, nil
}

// decodeModels reads what encode wrote.
func decodeModels(loc *time.Location, table, body []byte) (*Models, error) {
	d := &decoder{buf: table}
	d.readStringTable()
	if err := d.done(); err != nil {
		return nil, err
	}
	m := NewModels(loc)
	d = &decoder{buf: body, table: d.table}
	m.catalog.decode(d)
	m.Patients.decode(d)
	m.Census.decode(d)
	m.Rosters.decode(d)
	m.Journeys.decode(d)
	if err := d.done(); err != nil {
		return nil, err
	}
	return m, nil
}
