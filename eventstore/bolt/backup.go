package bolt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/continuum-care/continuum/eventstore"
)

// Backup writes a consistent copy of the whole store file to w while the
// store keeps serving: the copy is one bbolt read transaction, so it holds
// every append committed before the backup started and none after, and
// it opens as a store of its own (name the file FileName in a directory).
// It returns the bytes written.
//
// The read transaction pins the pages it sees for as long as w takes, so a
// slow reader makes the file grow (freed pages cannot be reused) and, if
// the file outgrows its memory mapping meanwhile, holds up appends until
// the copy ends: stream the copy to local disk or a fast link, not to a
// client that may stall.
func (s *Store) Backup(w io.Writer) (n int64, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Summary describes a store file checked by Verify.
type Summary struct {
	// Bytes is the size of the store's data in the file.
	Bytes int64
	// Events is how many events $all holds.
	Events uint64
	// Last is the position of the newest event; zero for an empty store.
	Last eventstore.Position
}

// verifyLockTimeout bounds the wait for a file that a running store holds.
const verifyLockTimeout = time.Second

// maxReportedProblems bounds the consistency problems quoted in an error:
// the first few say whether the file is truncated or scrambled.
const maxReportedProblems = 3

// Verify checks, without changing it, that the file at path is a whole
// and consistent store this build can open: a bbolt file that is not
// truncated, whose pages all check out, with the store's buckets and
// format, every event's header decoding. It is how a backup is trusted
// before it replaces anything. bbolt keeps no checksums of values, so a
// flipped bit inside an event's payload passes; a torn or scrambled file
// does not.
func Verify(path string) (Summary, error) {
	info, err := os.Stat(path)
	if err != nil {
		return Summary{}, fmt.Errorf("bolt: verify: %w", err)
	}
	if !info.Mode().IsRegular() {
		return Summary{}, fmt.Errorf("bolt: verify %s: not a regular file", path)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: verifyLockTimeout})
	if errors.Is(err, bbolt.ErrTimeout) {
		return Summary{}, fmt.Errorf("bolt: verify %s: the file is in use by a running store: %w", path, eventstore.ErrUnavailable)
	}
	if err != nil {
		return Summary{}, fmt.Errorf("bolt: verify %s: not a store file: %w", path, err)
	}
	defer db.Close()
	var sum Summary
	err = db.View(func(tx *bbolt.Tx) error {
		sum.Bytes = tx.Size()
		// Pages past the end of a truncated file are mapped but unbacked:
		// touching them kills the process, so the size is checked first.
		if sum.Bytes > info.Size() {
			return fmt.Errorf("truncated: the file has %d of its %d bytes", info.Size(), sum.Bytes)
		}
		if err := checkPages(tx); err != nil {
			return err
		}
		if err := checkLayout(tx); err != nil {
			return err
		}
		return countEvents(tx, &sum)
	})
	if err != nil {
		return Summary{}, fmt.Errorf("bolt: verify %s: %w", path, err)
	}
	return sum, nil
}

// countEvents reads every event's header: the page check vouches for the
// tree, this for the records in it (a scrambled header does not decode).
func countEvents(tx *bbolt.Tx, sum *Summary) error {
	c := tx.Bucket(bucketEvents).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if _, _, _, err := decodeHeader(v); err != nil {
			return fmt.Errorf("damaged: event %d: %w", seqFromKey(k), err)
		}
		sum.Events++
		seq := seqFromKey(k)
		sum.Last = eventstore.Position{Commit: seq, Prepare: seq}
	}
	return nil
}

// checkPages runs bbolt's consistency check over every page.
func checkPages(tx *bbolt.Tx) error {
	var problems []string
	count := 0
	for err := range tx.Check() {
		count++
		if len(problems) < maxReportedProblems {
			problems = append(problems, err.Error())
		}
	}
	if count == 0 {
		return nil
	}
	msg := strings.Join(problems, "; ")
	if count > len(problems) {
		msg += fmt.Sprintf(" (and %d more)", count-len(problems))
	}
	return fmt.Errorf("damaged: %s", msg)
}

// checkLayout confirms the file is a store of this format, not some other
// bbolt file (the key store, say).
func checkLayout(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketEvents, bucketStreamIndex, bucketStreams, bucketStreamNames, bucketMeta} {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("not an event store: no %s bucket", name)
		}
	}
	if v := tx.Bucket(bucketMeta).Get(metaFormatKey); string(v) != string(formatVersion) {
		return fmt.Errorf("data file format %v, this build reads %v", v, formatVersion)
	}
	return nil
}
