// Package bolt is continuum's embedded, durable event store: one bbolt file,
// KurrentDB's semantics (see eventstore.Store and DESIGN.md).
//
// Writes go through one writer goroutine that takes every waiting append and
// delete into one bbolt transaction, so many concurrent appends share one
// fsync (group commit), and no append is acknowledged before its transaction
// is on disk. bbolt commits atomically, so a crash leaves every acknowledged
// append and no partial one.
//
// Data layout (buckets):
//   - "events": $all, sequence number (8 bytes) → event record (see record.go).
//     The sequence starts at 1 and is both Commit and Prepare of an event's Position.
//   - "streams": stream name → streamState (number, next revision, soft-delete
//     truncation, flags, and the newest chunk of the stream's index).
//   - "stream-index": stream number + first revision → a chunk of the stream's
//     index: runs of consecutive revisions at consecutive sequence numbers
//     (see index.go).
//   - "stream-names": stream number → name, so records and index keys carry
//     an 8-byte number instead of the name.
//   - "meta": the data format version.
//
// Subscriptions are pushed: after each commit the writer hands the new events
// to live subscribers' bounded buffers without ever waiting for them; a
// subscriber whose buffer overflows reads the rest from disk and rejoins.
package bolt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/continuum-care/continuum/eventstore"
)

// FileName is the bbolt file the store keeps inside its data directory.
const FileName = "events.db"

// Defaults for the zero Options.
const (
	DefaultLockTimeout        = 2 * time.Second
	DefaultSubscriptionBuffer = 4096
	DefaultIdempotencyWindow  = 100_000
	// DefaultCheckpointInterval is used when a filtered subscription asks for 0.
	DefaultCheckpointInterval = 1000
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// LockTimeout bounds the wait for the data file's lock, so opening a
	// directory another process (or another Store) holds fails instead of
	// hanging. 0 means DefaultLockTimeout.
	LockTimeout time.Duration
	// SubscriptionBuffer is how many live events a subscriber may have
	// waiting before it falls back to reading from disk. 0 means DefaultSubscriptionBuffer.
	SubscriptionBuffer int
	// IdempotencyWindow is about how many recent event IDs are remembered
	// for idempotent appends with Any or StreamExists, which KurrentDB too
	// checks against a bounded cache of recent IDs (appends with an exact
	// revision or NoStream are checked against the stream itself, however
	// old). 0 means DefaultIdempotencyWindow; negative disables the window.
	IdempotencyWindow int
	// Observer, if set, is told about appends, commits and slow subscribers,
	// so the ops layer can count them without this package knowing Prometheus.
	Observer Observer
}

// Observer receives the store's measurements. Its methods are called from the
// store's goroutines (the writer among them) and must return quickly.
type Observer interface {
	// Appended reports one append that wrote events, with their types and how
	// long the caller waited for durability (queueing, commit and fsync).
	Appended(eventTypes []string, wait time.Duration)
	// Committed reports one group commit: how many events and how many
	// appends or deletes it made durable, and how long the transaction took.
	Committed(events, requests int, took time.Duration)
	// SubscriberFellBehind reports a live subscriber whose buffer overflowed,
	// sending it back to read from disk.
	SubscriberFellBehind()
}

var (
	bucketEvents      = []byte("events")
	bucketStreamIndex = []byte("stream-index")
	bucketStreams     = []byte("streams")
	bucketStreamNames = []byte("stream-names")
	bucketMeta        = []byte("meta")

	metaFormatKey = []byte("format")
	formatVersion = []byte{1}
)

// Store is an embedded event store on a bbolt file. It implements
// eventstore.Store and is safe for concurrent use.
type Store struct {
	db       *bbolt.DB
	dir      string
	opts     Options
	observer Observer

	requests   chan *request
	closing    chan struct{} // closed when Close starts: no new work
	writerDone chan struct{} // closed when the writer has answered its last request
	closeOnce  sync.Once
	closeErr   error
	isClosed   atomic.Bool

	// writer-owned state, valid between batches; see loadWriterState.
	lastSeq    uint64
	lastStream uint64
	recent     *recentEvents

	names names
	hub   hub
	warm  warmer
	// pageBuffers holds the storage of recycled reads (*pageBuffer).
	pageBuffers sync.Pool
	// verdicts remembers which streams recycled reads' filter keeps.
	verdicts verdictCache
}

var (
	_ eventstore.Store           = (*Store)(nil)
	_ eventstore.RecyclingReader = (*Store)(nil)
)

// TellsReplays implements eventstore.ReplayTeller: an idempotent retry's
// result says it was one.
func (s *Store) TellsReplays() bool { return true }

// Open opens (creating if needed) the store kept in the data directory dir.
// The directory holds one file, FileName, locked while the store is open.
func Open(dir string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.SubscriptionBuffer <= 0 {
		opts.SubscriptionBuffer = DefaultSubscriptionBuffer
	}
	if opts.IdempotencyWindow == 0 {
		opts.IdempotencyWindow = DefaultIdempotencyWindow
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bolt: create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := openLocked(path, &bbolt.Options{
		Timeout:      opts.LockTimeout,
		FreelistType: bbolt.FreelistMapType,
		// A generous initial mapping means the writer rarely has to remap,
		// and a remap waits for every open read transaction.
		InitialMmapSize: 1 << 30,
	})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("bolt: %s is locked by another process or store (waited %s): %w",
			path, opts.LockTimeout, eventstore.ErrUnavailable)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	s := &Store{
		db:         db,
		dir:        dir,
		opts:       opts,
		observer:   opts.Observer,
		requests:   make(chan *request, 4096),
		closing:    make(chan struct{}),
		writerDone: make(chan struct{}),
		names:      newNames(nameSlots),
	}
	if s.observer == nil {
		s.observer = nopObserver{}
	}
	s.hub.init()
	if err := db.Update(initBuckets); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadWriterState(); err != nil {
		db.Close()
		return nil, err
	}
	go s.runWriter()
	return s, nil
}

func initBuckets(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketEvents, bucketStreamIndex, bucketStreams, bucketStreamNames, bucketMeta} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("bolt: create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get(metaFormatKey); {
	case v == nil:
		return meta.Put(metaFormatKey, formatVersion)
	case string(v) != string(formatVersion):
		return fmt.Errorf("bolt: data file format %v, this build reads %v", v, formatVersion)
	}
	return nil
}

// loadWriterState reads what the writer keeps in memory from the last
// committed state: at Open, and after a transaction the writer rolled back.
func (s *Store) loadWriterState() error {
	return s.db.View(func(tx *bbolt.Tx) error {
		s.lastSeq, s.lastStream = 0, 0
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
			s.lastSeq = seqFromKey(k)
		}
		if k, _ := tx.Bucket(bucketStreamNames).Cursor().Last(); k != nil {
			s.lastStream = seqFromKey(k)
		}
		s.recent = newRecentEvents(s.opts.IdempotencyWindow)
		if s.opts.IdempotencyWindow <= 0 {
			return nil
		}
		// Walk back over the window, then add oldest first so eviction order
		// matches write order.
		refs := make([]eventRef, 0, min(uint64(s.opts.IdempotencyWindow), s.lastSeq))
		ids := make([]uuid.UUID, 0, cap(refs))
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Last(); k != nil && len(refs) < s.opts.IdempotencyWindow; k, v = c.Prev() {
			stream, revision, id, err := decodeHeader(v)
			if err != nil {
				return err
			}
			refs = append(refs, eventRef{stream: stream, revision: revision, seq: seqFromKey(k)})
			ids = append(ids, id)
		}
		for i := len(refs) - 1; i >= 0; i-- {
			s.recent.add(ids[i], refs[i])
		}
		return nil
	})
}

// Dir is the data directory the store was opened on, to reopen it after Close.
func (s *Store) Dir() string { return s.dir }

// Close stops the writer (appends still queued answer ErrClosed), ends every
// subscription with ErrClosed, and closes the file. It waits for reads in
// progress. Calling it again returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.isClosed.Store(true)
		close(s.closing)
		<-s.writerDone
		s.hub.closeAll()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// view runs fn in a read transaction, answering ErrClosed once the store is closed.
func (s *Store) view(fn func(tx *bbolt.Tx) error) error {
	if s.isClosed.Load() {
		return eventstore.ErrClosed
	}
	err := s.db.View(fn)
	if errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		return eventstore.ErrClosed
	}
	return err
}

// openLocked opens and locks the bbolt file at path. A restore or a
// compaction renames a new file over the old one and only then lets go of
// the old one's lock, so an open that waited for that lock holds a file
// the path no longer names: it opens the path again.
func openLocked(path string, opts *bbolt.Options) (*bbolt.DB, error) {
	for attempt := 1; ; attempt++ {
		before, beforeErr := os.Stat(path)
		db, err := bbolt.Open(path, 0o600, opts)
		if err != nil {
			return nil, err
		}
		after, err := os.Stat(path)
		switch {
		case err != nil:
			db.Close()
			return nil, err
		case beforeErr != nil, os.SameFile(before, after):
			// Created by this open, or the file the path named all along.
			return db, nil
		case attempt == 3:
			db.Close()
			return nil, fmt.Errorf("%s was replaced three times while opening it", path)
		}
		db.Close()
	}
}

// names caches stream number → name. The mapping never changes once
// committed, so readers of any snapshot can share it; readers add what they
// miss. The writer adds nothing: an import creating a million streams would
// fill it with names nobody reads back (and pay an entry for each).
// It holds a fixed number of slots, a stream in the slot its number picks,
// so its memory stays bounded however many streams the store holds (a
// million imported patients kept 58 MB of names when it held them all);
// streams read or written close together have close numbers or repeat, and
// a miss costs one lookup in the reader's transaction.
//
// Readers look names up without a lock: each slot is an atomic pointer to
// an immutable entry, so a lookup is one load (a replay makes eleven million).
type names struct {
	slots []atomic.Pointer[nameSlot]
}

// nameSlots is how many stream names the cache holds: 524,288, about 40 MB
// when full. A replay of a history with a quarter of a million people
// interleaved found a quarter of the size missing one lookup in two.
const nameSlots = 1 << 19

// nameSlot is one cached name; never changed once stored.
type nameSlot struct {
	number uint64
	name   string
}

func newNames(slots int) names { return names{slots: make([]atomic.Pointer[nameSlot], slots)} }

func (n *names) get(number uint64) (string, bool) {
	slot := n.slots[number%uint64(len(n.slots))].Load()
	if slot == nil || slot.number != number {
		return "", false
	}
	return slot.name, true
}

func (n *names) set(number uint64, name string) {
	n.slots[number%uint64(len(n.slots))].Store(&nameSlot{number: number, name: name})
}

type nopObserver struct{}

func (nopObserver) Appended([]string, time.Duration)  {}
func (nopObserver) Committed(int, int, time.Duration) {}
func (nopObserver) SubscriberFellBehind()             {}

// validStreamName rejects what cannot be a stream: the empty name, $all (which
// is virtual), and names longer than a bbolt key.
func validStreamName(stream string) error {
	switch {
	case stream == "":
		return fmt.Errorf("%w: empty stream name", eventstore.ErrInvalidArgument)
	case stream == eventstore.AllStream:
		return fmt.Errorf("%w: %s is not a stream to write or read by name", eventstore.ErrInvalidArgument, eventstore.AllStream)
	case len(stream) > bbolt.MaxKeySize:
		return fmt.Errorf("%w: stream name longer than %d bytes", eventstore.ErrInvalidArgument, bbolt.MaxKeySize)
	}
	return nil
}
