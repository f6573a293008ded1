package esdb

import (
	"context"
	"errors"
	"io"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/continuum-care/continuum/eventstore"
)

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := validStream(stream); err != nil {
		return eventstore.AppendResult{}, err
	}
	proposed := make([]esdbclient.EventData, len(events))
	for i, e := range events {
		var err error
		if proposed[i], err = toEventData(e); err != nil {
			return eventstore.AppendResult{}, err
		}
	}
	opts := esdbclient.AppendToStreamOptions{ExpectedRevision: toExpectedRevision(expected)}
	written, _, err := run(s, ctx, func(ctx context.Context, c *esdbclient.Client) (*esdbclient.WriteResult, error) {
		return c.AppendToStream(ctx, stream, opts, proposed...)
	}, nil)
	if err != nil {
		return eventstore.AppendResult{}, s.completeWrongExpected(ctx, err, stream, expected)
	}
	return eventstore.AppendResult{
		NextExpectedRevision: written.NextExpectedVersion,
		Position:             eventstore.Position{Commit: written.CommitPosition, Prepare: written.PreparePosition},
	}, nil
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if err := validStream(stream); err != nil {
		return nil, err
	}
	count := readCount(opts.Max)
	// The port reads nothing backwards from the start; KurrentDB returns the
	// first event. One event is still read, to answer not-found or deleted.
	existenceOnly := opts.Direction == eventstore.Backwards && opts.From.IsStart()
	if existenceOnly {
		count = 1
	}
	readOpts := esdbclient.ReadStreamOptions{Direction: toDirection(opts.Direction), From: toStreamPosition(opts.From)}
	events, _, err := run(s, ctx, func(ctx context.Context, c *esdbclient.Client) ([]eventstore.RecordedEvent, error) {
		rs, err := c.ReadStream(ctx, stream, readOpts, count)
		if err != nil {
			return nil, err
		}
		return drain(rs, count, nil)
	}, nil)
	if err != nil || existenceOnly {
		return nil, err
	}
	return events, nil
}

// ReadAll implements eventstore.Store. The v4 client cannot ask the server
// to filter a read, so a filtered read scans $all and filters here, stopping
// at opts.Max matches.
func (s *Store) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	match, err := opts.Filter.Matcher()
	if err != nil {
		return nil, err
	}
	var keep func(*eventstore.RecordedEvent) bool
	if filters(opts.Filter) {
		keep = func(e *eventstore.RecordedEvent) bool { return match(e.Stream, e.Type) }
	}
	events, _, err := run(s, ctx, func(ctx context.Context, c *esdbclient.Client) ([]eventstore.RecordedEvent, error) {
		return readAll(ctx, c, opts.Direction, opts.From, opts.Max, keep)
	}, nil)
	return events, err
}

// readAll reads $all with the port's semantics: the start position is
// inclusive in both directions. KurrentDB (and the wire server, which
// mirrors it) reads backwards from a position exclusively, so when the event
// at from is missing from a backwards read it is fetched and put first.
func readAll(ctx context.Context, c *esdbclient.Client, direction eventstore.Direction, from eventstore.Position, max uint64, keep func(*eventstore.RecordedEvent) bool) ([]eventstore.RecordedEvent, error) {
	count := readCount(max)
	if keep != nil {
		count = unlimited
	}
	events, err := readAllOnce(ctx, c, toDirection(direction), toAllPosition(from), count, max, keep)
	if err != nil {
		return nil, err
	}
	if direction != eventstore.Backwards || from == eventstore.Start || from == eventstore.End {
		return events, nil
	}
	if len(events) > 0 && events[0].Position == from {
		return events, nil
	}
	at, err := readAllOnce(ctx, c, esdbclient.Forwards, toAllPosition(from), 1, 1, nil)
	if err != nil {
		return nil, err
	}
	if len(at) == 0 || at[0].Position != from || (keep != nil && !keep(&at[0])) {
		return events, nil
	}
	events = append(at, events...)
	if max > 0 && uint64(len(events)) > max {
		events = events[:max]
	}
	return events, nil
}

func readAllOnce(ctx context.Context, c *esdbclient.Client, direction esdbclient.Direction, from esdbclient.AllPosition, count, max uint64, keep func(*eventstore.RecordedEvent) bool) ([]eventstore.RecordedEvent, error) {
	rs, err := c.ReadAll(ctx, esdbclient.ReadAllOptions{Direction: direction, From: from}, count)
	if err != nil {
		return nil, err
	}
	return drain(rs, max, keep)
}

// maxPrealloc bounds the events drain makes room for before it has seen
// any: a read asking for millions may find few.
const maxPrealloc = 4096

// drain collects the events of a read that keep accepts (all if keep is
// nil), at most max of them (0: no limit), and ends the read.
func drain(rs *esdbclient.ReadStream, max uint64, keep func(*eventstore.RecordedEvent) bool) ([]eventstore.RecordedEvent, error) {
	defer rs.Close()
	var out []eventstore.RecordedEvent
	if max > 0 && keep == nil {
		// A replay reads full pages: growing the slice event by event
		// would copy each page about twice over.
		out = make([]eventstore.RecordedEvent, 0, min(max, maxPrealloc))
	}
	for max == 0 || uint64(len(out)) < max {
		resolved, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		original := resolved.OriginalEvent()
		if original == nil {
			continue
		}
		e := fromRecordedEvent(original)
		if keep == nil || keep(&e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Delete implements eventstore.Store.
func (s *Store) Delete(ctx context.Context, stream string, expected eventstore.ExpectedRevision) error {
	if err := validStream(stream); err != nil {
		return err
	}
	opts := esdbclient.DeleteStreamOptions{ExpectedRevision: toExpectedRevision(expected)}
	_, _, err := run(s, ctx, func(ctx context.Context, c *esdbclient.Client) (*esdbclient.DeleteResult, error) {
		return c.DeleteStream(ctx, stream, opts)
	}, nil)
	return s.completeWrongExpected(ctx, err, stream, expected)
}

// Tombstone implements eventstore.Store.
func (s *Store) Tombstone(ctx context.Context, stream string, expected eventstore.ExpectedRevision) error {
	if err := validStream(stream); err != nil {
		return err
	}
	opts := esdbclient.TombstoneStreamOptions{ExpectedRevision: toExpectedRevision(expected)}
	_, _, err := run(s, ctx, func(ctx context.Context, c *esdbclient.Client) (*esdbclient.DeleteResult, error) {
		return c.TombstoneStream(ctx, stream, opts)
	}, nil)
	return s.completeWrongExpected(ctx, err, stream, expected)
}

// completeWrongExpected fills in a wrong-expected-version error with the
// stream and expectation of the call, and with the actual revision read back
// when the server did not say it. Other errors pass unchanged.
func (s *Store) completeWrongExpected(ctx context.Context, err error, stream string, expected eventstore.ExpectedRevision) error {
	var wrong *eventstore.WrongExpectedVersionError
	switch {
	case errors.As(err, &wrong):
		wrong.Stream, wrong.Expected = stream, expected
		return wrong
	case errors.Is(err, errActualUnknown):
		actual, readErr := s.lastRevision(ctx, stream)
		if readErr != nil && !errors.Is(readErr, eventstore.ErrStreamNotFound) {
			return readErr
		}
		return &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, Actual: actual}
	}
	return err
}

// lastRevision reads the stream's last revision. It answers
// NoStreamRevision with ErrStreamNotFound for a stream without visible
// events, and the read's error otherwise.
func (s *Store) lastRevision(ctx context.Context, stream string) (int64, error) {
	last, err := s.ReadStream(ctx, stream, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd, Max: 1})
	if err != nil || len(last) == 0 {
		if err == nil {
			err = eventstore.ErrStreamNotFound
		}
		return eventstore.NoStreamRevision, err
	}
	return int64(last[0].Revision), nil
}
