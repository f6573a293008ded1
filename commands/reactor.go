package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// SeatReleaser is the process that makes a discharge's cross-stream
// consequence: the person leaves every group they sat in or waited for.
// It reacts to Discharged events from $all instead of the discharge request
// writing two streams, so each write stays one atomic append. Its
// checkpoint (and the groups it has seen) live in a small file; a crash
// between a release and the checkpoint only repeats releases, which the
// idempotency keys derived from the discharge's event ID turn into no-ops.
type SeatReleaser struct {
	svc  *Service
	path string
	log  *slog.Logger
}

// releaserState is the checkpoint file's content.
type releaserState struct {
	Position eventstore.Position `json:"position"`
	Groups   []domain.GroupID    `json:"groups"`
}

// NewSeatReleaser returns the process; its checkpoint is kept at path.
func NewSeatReleaser(svc *Service, path string, log *slog.Logger) *SeatReleaser {
	if log == nil {
		log = slog.Default()
	}
	return &SeatReleaser{svc: svc, path: path, log: log}
}

// Run reacts until ctx ends. It returns nil on cancellation.
func (r *SeatReleaser) Run(ctx context.Context) error {
	st, err := r.load()
	if err != nil {
		return err
	}
	filter := &eventstore.Filter{Target: eventstore.FilterEventType, Prefixes: []string{
		domain.Discharged{}.EventType(), domain.GroupCreated{}.EventType(),
	}}
	for {
		err := r.follow(ctx, &st, filter)
		if ctx.Err() != nil {
			return nil
		}
		r.log.Warn("seat releaser: subscription ended; resuming", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (r *SeatReleaser) follow(ctx context.Context, st *releaserState, filter *eventstore.Filter) error {
	sub, err := r.svc.store.SubscribeAll(ctx, eventstore.SubscribeAllOptions{From: st.Position, Filter: filter})
	if err != nil {
		return err
	}
	defer sub.Close()
	for {
		msg, err := sub.Recv()
		if err != nil {
			return err
		}
		switch {
		case msg.Event != nil:
			if err := r.handle(ctx, st, msg.Event); err != nil {
				return err
			}
			st.Position = msg.Event.Position
			if err := r.save(st); err != nil {
				return err
			}
		case msg.Checkpoint != nil:
			st.Position = *msg.Checkpoint
		}
	}
}

func (r *SeatReleaser) handle(ctx context.Context, st *releaserState, rec *eventstore.RecordedEvent) error {
	ev, err := domain.DecodeData(rec.Type, rec.Data, rec.Metadata)
	if err != nil {
		r.log.Error("seat releaser: undecodable event skipped", "type", rec.Type, "position", rec.Position.String())
		return nil
	}
	switch ev := ev.(type) {
	case domain.GroupCreated:
		if !slices.Contains(st.Groups, ev.Group) {
			st.Groups = append(st.Groups, ev.Group)
			slices.Sort(st.Groups)
		}
	case domain.Discharged:
		for _, g := range st.Groups {
			m := Meta{
				IdempotencyKey: "release:" + rec.ID.String(),
				CorrelationID:  rec.ID.String(),
				CausationID:    rec.ID.String(),
			}
			cmd := domain.LeaveGroup{Group: g, Patient: ev.Patient, Reason: domain.LeaveDischarged, At: ev.OccurredAt}
			_, err := r.svc.Group(ctx, m, cmd)
			if err == nil || domain.ErrorCode(err) == domain.CodeNotMember || errors.Is(err, domain.ErrNotFound) {
				continue
			}
			return fmt.Errorf("releasing a seat after discharge: %w", err)
		}
	}
	return nil
}

func (r *SeatReleaser) load() (releaserState, error) {
	var st releaserState
	b, err := os.ReadFile(r.path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("seat releaser checkpoint: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		// A torn or foreign file: start over; releases are idempotent.
		r.log.Warn("seat releaser: unreadable checkpoint, replaying from the start")
		return releaserState{}, nil
	}
	return st, nil
}

func (r *SeatReleaser) save(st *releaserState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := r.path + ".tmp"
	if err := os.MkdirAll(filepath.Dir(r.path), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, r.path)
}
