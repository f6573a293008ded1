package commands

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/privacy"
)

// Sealer encrypts a person's personal data under their own key.
type Sealer interface {
	Seal(subject string, p privacy.Personal) (privacy.Sealed, error)
}

// Refer opens a person's journey. Personal is the plaintext personal data,
// sealed here before it reaches the domain; nil for de-identified imports.
type Refer struct {
	domain.Refer
	Personal *privacy.Personal
}

// Refer seals the personal data with sealer and records the referral.
func (s *Service) Refer(ctx context.Context, sealer Sealer, m Meta, c Refer) (Result, error) {
	cmd := c.Refer
	if c.Personal != nil {
		if sealer == nil {
			return Result{}, &domain.InvalidError{Field: "personal", Reason: "personal data given but no key store configured"}
		}
		sealed, err := sealer.Seal(string(cmd.Patient), *c.Personal)
		if err != nil {
			return Result{}, err
		}
		cmd.Personal = &domain.SealedPersonal{KeyID: sealed.KeyID, Nonce: sealed.Nonce, Ciphertext: sealed.Ciphertext}
	}
	return s.Patient(ctx, m, cmd)
}

// Patient executes any patient command (intake, admit, measure, step-down,
// step-up, discharge, readmit; Refer without personal data).
func (s *Service) Patient(ctx context.Context, m Meta, c domain.PatientCommand) (Result, error) {
	return execute[domain.Patient, domain.PatientCommand](ctx, s, c.StreamName(), m, c)
}

// PatientBatch decides several commands on one patient's stream in order,
// each against the state the previous ones leave, and appends all their
// events in one atomic append: an import row becomes a whole episode or
// nothing. A refusal of any command refuses the batch.
func (s *Service) PatientBatch(ctx context.Context, m Meta, cmds []domain.PatientCommand) (Result, error) {
	b, err := s.PrepareOpening(m, cmds)
	if err != nil {
		return Result{}, err
	}
	return s.appendBatch(ctx, b)
}

// appendBatch appends a readied batch through the service's cache: the
// prepared events, if any, go in with NoStream while the service has not
// read the stream, and the stream's entry then holds what they wrote.
func (s *Service) appendBatch(ctx context.Context, b *OpeningBatch) (Result, error) {
	return decideAndAppendTo[domain.Patient, domain.PatientCommand](ctx, s, b.stream, b.meta, b, func(state *domain.Patient, now time.Time) ([]domain.Event, error) {
		return decideBatch(*state, b.cmds, now) // Patient folds by assignment, so the copy is independent
	})
}

// batchStream is the one stream a batch addresses.
func batchStream(cmds []domain.PatientCommand) (string, error) {
	if len(cmds) == 0 {
		return "", &domain.InvalidError{Field: "commands", Reason: "empty batch"}
	}
	stream := cmds[0].StreamName()
	for _, c := range cmds[1:] {
		if c.StreamName() != stream {
			return "", &domain.InvalidError{Field: "commands", Reason: "a batch addresses one patient"}
		}
	}
	return stream, nil
}

// decideBatch decides cmds in order from state, each against the state
// the previous ones leave, and answers all their events.
func decideBatch(state domain.Patient, cmds []domain.PatientCommand, now time.Time) ([]domain.Event, error) {
	all := make([]domain.Event, 0, len(cmds)+1)
	for _, c := range cmds {
		events, err := state.Decide(c, now)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			state.Evolve(e)
		}
		all = append(all, events...)
	}
	return all, nil
}

// OpeningBatch is a patient batch readied by PrepareOpening for
// AppendOpening; when it opens its stream (its first command is a
// referral), its events are decided and encoded ahead of the append.
type OpeningBatch struct {
	stream string
	meta   Meta
	cmds   []domain.PatientCommand
	// events, data and types are the events decided against the empty
	// stream; nil when that decision failed, or the batch does not open
	// its stream.
	events []domain.Event
	data   []eventstore.EventData
	types  []string
}

// Prepared reports whether PrepareOpening decided and encoded the batch,
// for a store that tells replays (the embedded ones); AppendOpening then
// appends it without reading the stream first.
func (b *OpeningBatch) Prepared() bool { return b.data != nil }

// PrepareOpening readies a batch for AppendOpening. When the batch opens
// its stream and the store tells replays (eventstore.ReplayTeller), it
// decides cmds against an empty stream and encodes their events, without
// the store and without the service's cache or locks, so that many
// batches (an import's rows) can be prepared in parallel while earlier
// ones wait for their commit. Whatever it finds, AppendOpening gives the
// answer PatientBatch would: the decision here is only a guess that the
// stream does not exist yet, checked by the store. An error is a batch
// that addresses no single stream or carries a bad key.
func (s *Service) PrepareOpening(m Meta, cmds []domain.PatientCommand) (*OpeningBatch, error) {
	if m.IdempotencyKey == "" || len(m.IdempotencyKey) > maxKeyLen {
		return nil, ErrInvalidKey
	}
	stream, err := batchStream(cmds)
	if err != nil {
		return nil, err
	}
	b := &OpeningBatch{stream: stream, meta: m, cmds: cmds}
	if _, opens := cmds[0].(domain.Refer); !opens || !s.tellsReplays {
		return b, nil // AppendOpening takes the ordinary path
	}
	var empty domain.Patient
	events, err := decideBatch(empty, cmds, s.now())
	if err != nil || len(events) == 0 {
		return b, nil // decided again against what the stream holds
	}
	if b.data, b.types, err = encode(stream, m, events); err != nil {
		b.data, b.types = nil, nil
		return b, nil
	}
	b.events = events
	return b, nil
}

// AppendOpening appends a batch PrepareOpening readied: one atomic
// append, or nothing. Prepared events go in with NoStream, past the
// service's cache and its locks: an import's rows each open a stream no
// one reads again soon, and taking them through the cache cost a quarter
// of the import's rate. If the stream holds them already (the same
// idempotency key) the result is a duplicate and nothing is written. If
// the stream exists otherwise, or nothing was prepared, the batch goes
// through the cache, decided against what the stream holds, as
// PatientBatch does.
func (s *Service) AppendOpening(ctx context.Context, b *OpeningBatch) (Result, error) {
	if b.data == nil {
		return s.appendBatch(ctx, b)
	}
	res, err := s.store.Append(ctx, b.stream, eventstore.NoStream, b.data...)
	return s.openingResult(ctx, b, res, err)
}

// openingResult answers a prepared batch's append to NoStream.
func (s *Service) openingResult(ctx context.Context, b *OpeningBatch, res eventstore.AppendResult, err error) (Result, error) {
	switch {
	case errors.Is(err, eventstore.ErrWrongExpectedVersion):
		// The stream exists: the prepared events were a wrong guess.
		return s.appendBatch(ctx, &OpeningBatch{stream: b.stream, meta: b.meta, cmds: b.cmds})
	case err != nil:
		return Result{}, fmt.Errorf("append: %w", err)
	}
	return Result{Stream: b.stream, Revision: res.NextExpectedRevision, Position: res.Position, Events: b.types, Duplicate: res.Replayed}, nil
}

// Outcome is the answer to one batch of AppendOpenings.
type Outcome struct {
	Result Result
	Err    error
}

// AppendOpenings appends batches PrepareOpening readied and answers each
// as AppendOpening would. A store that takes many appends at once
// (eventstore.BatchAppender) gets the prepared ones in one call, which
// answers them all after one commit; the others, and every batch on other
// stores, are appended on goroutines of their own, so none waits for
// another's commit.
func (s *Service) AppendOpenings(ctx context.Context, bs []*OpeningBatch) []Outcome {
	out := make([]Outcome, len(bs))
	var wg sync.WaitGroup
	var reqs []eventstore.AppendRequest
	var prepared []int
	many, batches := s.store.(eventstore.BatchAppender)
	for i, b := range bs {
		if !batches || b.data == nil {
			wg.Go(func() { out[i].Result, out[i].Err = s.AppendOpening(ctx, b) })
			continue
		}
		reqs = append(reqs, eventstore.AppendRequest{Stream: b.stream, Expected: eventstore.NoStream, Events: b.data})
		prepared = append(prepared, i)
	}
	if len(reqs) > 0 {
		for j, o := range many.AppendMany(ctx, reqs) {
			i := prepared[j]
			answer := func() { out[i].Result, out[i].Err = s.openingResult(ctx, bs[i], o.Result, o.Err) }
			if errors.Is(o.Err, eventstore.ErrWrongExpectedVersion) {
				wg.Go(answer) // decided again against the stream, then appended
				continue
			}
			answer()
		}
	}
	wg.Wait()
	return out
}

// Program executes a program command (create, change).
func (s *Service) Program(ctx context.Context, m Meta, c domain.ProgramCommand) (Result, error) {
	return execute[domain.Program, domain.ProgramCommand](ctx, s, c.StreamName(), m, c)
}

// PatientExists reports whether a patient's stream holds events or was
// tombstoned (a soft-deleted stream reads as never written), without
// folding it.
func (s *Service) PatientExists(ctx context.Context, id domain.PatientID) (bool, error) {
	_, err := s.store.ReadStream(ctx, domain.PatientStream(id), eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd, Max: 1})
	switch {
	case errors.Is(err, eventstore.ErrStreamNotFound):
		return false, nil
	case errors.Is(err, eventstore.ErrStreamDeleted):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read: %w", err)
	}
	return true, nil
}

// StoreEmpty reports whether the store holds no events at all. It reads
// backwards from the end: a forward read from the start may set the store
// warming its file for a replay.
func (s *Service) StoreEmpty(ctx context.Context) (bool, error) {
	evs, err := s.store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End, Max: 1})
	if err != nil {
		return false, fmt.Errorf("read: %w", err)
	}
	return len(evs) == 0, nil
}

// PatientState returns a copy of the folded state of a patient's stream.
func (s *Service) PatientState(ctx context.Context, id domain.PatientID) (domain.Patient, error) {
	var p domain.Patient
	err := inspect[domain.Patient, domain.PatientCommand](ctx, s, domain.PatientStream(id), func(st *domain.Patient) { p = *st })
	return p, err
}

// inspect catches a stream up and calls read with its state under the
// stream's lock; read must not keep references into the state.
func inspect[S any, C any, P interface {
	*S
	aggregate[C]
}](ctx context.Context, s *Service, stream string, read func(P)) error {
	e := s.entry(stream)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == nil {
		e.state = P(new(S))
	}
	state := e.state.(P)
	if err := s.catchUp(ctx, stream, e, state.Evolve); err != nil {
		return err
	}
	read(state)
	return nil
}
