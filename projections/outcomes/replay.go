package outcomes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// readPageSize is how many events one read of $all returns: large enough
// that a read's fixed cost vanishes, small enough that the pages in flight
// stay a few megabytes.
const readPageSize = 4096

// estimatedMarker is how domain.EncodeMetadata marks estimated clinical
// times; looking for it spares parsing the metadata of every admission.
var estimatedMarker = []byte(`"estimated":true`)

// Replay reads the whole of $all from store and folds it into a report.
// Reading, decoding and folding form a pipeline: one goroutine reads pages,
// one decoder per core decodes them, and the fold takes them back in log
// order, so the result is the sequential fold's while every core decodes.
// progress, if not nil, is called from the folding goroutine after each
// page with the number of events replayed so far.
func Replay(ctx context.Context, store eventstore.Store, opts Options, progress func(replayed int64)) (*Report, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	decoders := runtime.GOMAXPROCS(0)
	pages := make(chan page, 2*decoders)
	decoded := make(chan decodedPage, 2*decoders)
	errs := make(chan error, decoders+1)
	// fail hands a goroutine's failure back and stops the others, so the
	// fold never waits for a page that will not come.
	fail := func(err error) {
		if err != nil {
			cancel()
			errs <- err
		}
	}
	go func() {
		defer close(pages)
		fail(readPages(ctx, store, pages))
	}()
	var wg sync.WaitGroup
	for range decoders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail(decodePages(ctx, pages, decoded))
		}()
	}
	go func() {
		wg.Wait()
		close(decoded)
	}()

	fold := NewFold(opts)
	waiting := map[int][]fact{}
	next := 0
	for p := range decoded {
		waiting[p.number] = p.facts
		for facts, ok := waiting[next]; ok; facts, ok = waiting[next] {
			delete(waiting, next)
			for i := range facts {
				if facts[i].event == nil {
					fold.Count()
					continue
				}
				fold.Apply(facts[i].event, facts[i].estimated)
			}
			next++
			if progress != nil {
				progress(fold.replayed)
			}
		}
	}
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(waiting) > 0 {
		return nil, fmt.Errorf("replay: %d decoded pages never folded", len(waiting))
	}
	return fold.Report(), nil
}

// page is one read of $all, numbered so decoded pages fold in order.
type page struct {
	number int
	events []eventstore.RecordedEvent
}

// fact is one decoded event; a nil event is one the fold only counts.
type fact struct {
	event     domain.Event
	estimated bool
}

type decodedPage struct {
	number int
	facts  []fact
}

// clinicalStreams keeps the replay to the clinical record: audit trails and
// user accounts share the log but change no figure, and counting them would
// make events_replayed move each time someone reads a report.
var clinicalStreams = &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{
	domain.PatientStreamPrefix, domain.GroupStreamPrefix, domain.ProgramStreamPrefix,
}}

// readPages reads the clinical streams of $all from the start to its end. Reads are inclusive, so
// each page after the first starts at the last event already seen and
// skips it, whatever the store's positions look like.
func readPages(ctx context.Context, store eventstore.Store, out chan<- page) error {
	from, seen := eventstore.Start, false
	for number := 0; ; number++ {
		evs, err := store.ReadAll(ctx, eventstore.ReadAllOptions{From: from, Max: readPageSize, Filter: clinicalStreams})
		if err != nil {
			return fmt.Errorf("reading the log: %w", err)
		}
		full := len(evs) == readPageSize
		if seen && len(evs) > 0 && evs[0].Position == from {
			evs = evs[1:]
		}
		if len(evs) == 0 {
			if full {
				return fmt.Errorf("reading the log: a full page at %s brought nothing new", from)
			}
			return nil
		}
		select {
		case out <- page{number: number, events: evs}:
		case <-ctx.Done():
			return ctx.Err()
		}
		from, seen = evs[len(evs)-1].Position, true
		if !full {
			return nil
		}
	}
}

// decodePages decodes pages until the channel closes. Only the event types
// some figure depends on are decoded; the rest (system events, referrals,
// sessions, waitlists, programs, other systems' events) are only counted.
func decodePages(ctx context.Context, pages <-chan page, out chan<- decodedPage) error {
	for p := range pages {
		facts := make([]fact, len(p.events))
		for i := range p.events {
			e := &p.events[i]
			if !folded(e.Type) {
				continue
			}
			ev, err := domain.DecodeData(e.Type, e.Data, e.Metadata)
			if err != nil {
				return fmt.Errorf("decoding the event at %s: %w", e.Position, err)
			}
			facts[i] = fact{event: ev, estimated: startsEpisode(e.Type) && bytes.Contains(e.Metadata, estimatedMarker)}
		}
		select {
		case out <- decodedPage{number: p.number, facts: facts}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

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
