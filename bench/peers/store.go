package main

import (
	gosql "database/sql"
	"fmt"
	"net/url"
	"reflect"

	"github.com/hallgren/eventsourcing"
	"github.com/hallgren/eventsourcing/aggregate"
	"github.com/hallgren/eventsourcing/eventstore/sql"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/continuum-care/continuum/domain"
)

// storeDescription says what was measured, durability included.
const storeDescription = "hallgren/eventsourcing v0.9.1 + eventstore/sql v0.7.0 (NewSQLite) on modernc.org/sqlite v1.61.1: " +
	"WAL, synchronous=FULL (every commit fsyncs the WAL), one connection"

// openSQLite opens a database file the way the benchmark measures SQLite:
// write-ahead log with a sync at every commit, so an acknowledged Save is on
// disk like a continuum append. SQLite has one writer at a time and no group
// commit; one connection makes concurrent Saves queue in database/sql
// instead of sleeping in SQLite's busy handler. On this machine it was as
// fast as the library's NewSQLiteSingelWriter mutex or faster, and faster
// than 64 connections with BEGIN IMMEDIATE and a busy timeout (three rounds
// each, 1,100–3,800 single-event Saves/s, noisy), so the peer is measured at
// its best. durable=false turns the syncs off, for filling the replay's
// history faster (the fill is not what is measured).
func openSQLite(path string, durable bool) (*gosql.DB, error) {
	sync := "FULL"
	if !durable {
		sync = "OFF"
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	db, err := gosql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	return db, nil
}

// openEventStore opens the library's SQLite event store on a database file.
func openEventStore(path string, durable bool) (*sql.SQLite, error) {
	db, err := openSQLite(path, durable)
	if err != nil {
		return nil, err
	}
	es, err := sql.NewSQLite(db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite event store: %w", err)
	}
	return es, nil
}

// patient and group are the library's aggregates for continuum's patient and
// group streams. The benchmark decides nothing, so they keep no state beyond
// the version the library's Root tracks; Transition has nothing to apply.
type patient struct{ aggregate.Root }

// Transition implements the library's aggregate; see patient.
func (*patient) Transition(eventsourcing.Event) {}

// Register declares the patient stream's event types to the library.
func (*patient) Register(r aggregate.RegisterFunc) {
	r(&domain.Referred{}, &domain.IntakeCompleted{}, &domain.Admitted{}, &domain.MeasureRecorded{},
		&domain.SteppedDown{}, &domain.SteppedUp{}, &domain.Discharged{}, &domain.Readmitted{})
}

type group struct{ aggregate.Root }

// Transition implements the library's aggregate; see patient.
func (*group) Transition(eventsourcing.Event) {}

// Register declares the group stream's event types to the library.
func (*group) Register(r aggregate.RegisterFunc) {
	r(&domain.GroupCreated{}, &domain.GroupChanged{}, &domain.MemberJoined{}, &domain.MemberWaitlisted{},
		&domain.WaitlistPromoted{}, &domain.WaitlistLeft{}, &domain.MemberLeft{}, &domain.SessionHeld{},
		&domain.AttendanceRecorded{}, &domain.ModuleCompleted{}, &domain.GroupCompleted{})
}

func registerAggregates() {
	aggregate.Register(&patient{})
	aggregate.Register(&group{})
}

// pointerTo boxes a copy of the event behind a pointer: the library names an
// event by the type its pointer points to, and decodes into such pointers.
func pointerTo(e domain.Event) any {
	p := reflect.New(reflect.TypeOf(e))
	p.Elem().Set(reflect.ValueOf(e))
	return p.Interface()
}

// valueOf is pointerTo's inverse, for folding what the library decoded with
// the same fold continuum's benchmark uses.
func valueOf(data any) (domain.Event, error) {
	v := reflect.ValueOf(data)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	e, ok := v.Interface().(domain.Event)
	if !ok {
		return nil, fmt.Errorf("decoded %T, not a domain event", data)
	}
	return e, nil
}
