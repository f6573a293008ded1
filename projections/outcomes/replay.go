package outcomes

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/projections"
	"github.com/continuum-care/continuum/projections/replay"
)

// estimatedMarker is how domain.EncodeMetadata marks estimated clinical
// times; looking for it spares parsing the metadata of every admission.
var estimatedMarker = []byte(`"estimated":true`)

// Replay reads the clinical streams of $all from store and folds them into
// a report. Decoding runs on every core (projections/replay); the fold takes
// the pages back in log order, so the result is the sequential fold's.
// progress, if not nil, is called from the folding goroutine after each
// page with the number of events replayed so far.
func Replay(ctx context.Context, store eventstore.Store, opts Options, progress func(replayed int64)) (*Report, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	fold := NewFold(opts)
	free := replay.NewRecycler[fact]()
	decode := func(events []eventstore.RecordedEvent) ([]fact, error) {
		return decodePage(free.Get(len(events)), events, fold.loc)
	}
	err := replay.Run(ctx, store, replay.Options{Filter: projections.ClinicalStreams()}, decode, func(facts []fact) {
		for i := range facts {
			if facts[i].kind == factCounted {
				fold.Count()
				continue
			}
			fold.apply(facts[i])
		}
		free.Put(facts)
		if progress != nil {
			progress(fold.replayed)
		}
	})
	if err != nil {
		return nil, err
	}
	return fold.Report(), nil
}

// decodePage fills facts (one per event) with the facts of the events
// some figure depends on, with days in zone loc; the rest (referrals,
// sessions, waitlists, programs) are zero facts, for the fold to count.
func decodePage(facts []fact, events []eventstore.RecordedEvent, loc *time.Location) ([]fact, error) {
	for i := range events {
		e := &events[i]
		var err error
		switch {
		case !folded(e.Type):
			facts[i] = fact{}
		case e.Type == attendanceType:
			var a domain.AttendanceRecorded
			err = domain.DecodeDataAs(e.Type, e.Data, e.Metadata, &a)
			facts[i] = attendanceFact(a, loc)
		case e.Type == measureType:
			var m domain.MeasureRecorded
			err = domain.DecodeDataAs(e.Type, e.Data, e.Metadata, &m)
			facts[i] = measureFact(m, loc)
		default:
			var ev domain.Event
			if ev, err = domain.DecodeData(e.Type, e.Data, e.Metadata); err == nil {
				facts[i] = newFact(ev, startsEpisode(e.Type) && bytes.Contains(e.Metadata, estimatedMarker), loc)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("decoding the event at %s: %w", e.Position, err)
		}
	}
	return facts, nil
}

// The types decoded by value: attendance and measures are most of a history.
var (
	attendanceType = domain.AttendanceRecorded{}.EventType()
	measureType    = domain.MeasureRecorded{}.EventType()
)

// startsEpisode reports whether events of a type open an episode, the only
// ones whose estimated dates the report counts.
func startsEpisode(eventType string) bool {
	return eventType == "Admitted" || eventType == "Readmitted"
}

// folded reports whether the fold uses events of a type.
func folded(eventType string) bool {
	switch eventType {
	case "IntakeCompleted", "MeasureRecorded", "Admitted", "Readmitted", "SteppedDown", "SteppedUp", "Discharged",
		"GroupCreated", "GroupChanged", "MemberJoined", "WaitlistPromoted", "MemberLeft", "GroupCompleted",
		"ModuleCompleted", "AttendanceRecorded":
		return true
	}
	return false
}
