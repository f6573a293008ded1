package projections

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/internal/durable"
)

// SnapshotFile is the name of the snapshot in the runner's directory.
const SnapshotFile = "projections.snapshot"

// snapshotMagic starts every snapshot file, so a stray file is never read as one.
const snapshotMagic = "CNTMPROJ"

// snapshotVersion is the version of the snapshot format AND of the folds:
// bump it whenever the encoding changes or a fold changes what it derives
// from the same events, so an old snapshot is ignored and the models are
// rebuilt by a full replay instead of silently mixing two meanings.
const snapshotVersion uint32 = 1

// errSnapshotVersion: the snapshot was written by a release with other
// folds; like errCorrupt, it makes the runner replay from the start.
var errSnapshotVersion = errors.New("snapshot version mismatch")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Progress is how far the models have got through the log, stored with
// them so a restart resumes exactly where the snapshot was taken.
type Progress struct {
	// Position is the last position of $all considered: every event up to it
	// has been applied or skipped.
	Position eventstore.Position
	// Created is the store's recorded time of the last event applied, for lag.
	Created time.Time
	// Applied counts the events folded into the models; Unknown the events
	// of types this release does not know; Malformed the events that did
	// not decode. Both kinds are skipped.
	Applied, Unknown, Malformed uint64
}

// snapshot is the content of a snapshot file.
type snapshot struct {
	progress Progress
	// location is the clinic's zone the models were folded in.
	location    string
	table, body []byte
}

// marshal lays out: magic, version (uint32 LE), CRC-32C (uint32 LE) of the
// rest, then the progress, the zone, the string table and the body.
func (s *snapshot) marshal() []byte {
	var rest []byte
	p := s.progress
	rest = binary.AppendUvarint(rest, p.Position.Commit)
	rest = binary.AppendUvarint(rest, p.Position.Prepare)
	rest = binary.AppendVarint(rest, p.Created.Unix())
	rest = binary.AppendUvarint(rest, uint64(p.Created.Nanosecond()))
	rest = binary.AppendUvarint(rest, p.Applied)
	rest = binary.AppendUvarint(rest, p.Unknown)
	rest = binary.AppendUvarint(rest, p.Malformed)
	for _, part := range [][]byte{[]byte(s.location), s.table, s.body} {
		rest = binary.AppendUvarint(rest, uint64(len(part)))
		rest = append(rest, part...)
	}
	out := make([]byte, 0, len(snapshotMagic)+8+len(rest))
	out = append(out, snapshotMagic...)
	out = binary.LittleEndian.AppendUint32(out, snapshotVersion)
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(rest, castagnoli))
	return append(out, rest...)
}

// unmarshalSnapshot checks and splits a snapshot file.
func unmarshalSnapshot(b []byte) (*snapshot, error) {
	head := len(snapshotMagic) + 8
	if len(b) < head || string(b[:len(snapshotMagic)]) != snapshotMagic {
		return nil, fmt.Errorf("%w: not a projections snapshot", errCorrupt)
	}
	if v := binary.LittleEndian.Uint32(b[len(snapshotMagic):]); v != snapshotVersion {
		return nil, fmt.Errorf("%w: file has version %d, this release reads %d", errSnapshotVersion, v, snapshotVersion)
	}
	rest := b[head:]
	if crc := binary.LittleEndian.Uint32(b[len(snapshotMagic)+4:]); crc != crc32.Checksum(rest, castagnoli) {
		return nil, fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	d := &decoder{buf: rest}
	s := &snapshot{}
	s.progress.Position = eventstore.Position{Commit: d.uint(), Prepare: d.uint()}
	s.progress.Created = d.time()
	s.progress.Applied = d.uint()
	s.progress.Unknown = d.uint()
	s.progress.Malformed = d.uint()
	location := d.raw()
	s.table = d.raw()
	s.body = d.raw()
	if err := d.done(); err != nil {
		return nil, err
	}
	s.location = string(location)
	return s, nil
}

// raw reads a length-prefixed byte slice without copying it.
func (d *decoder) raw() []byte {
	n := d.count()
	if d.err != nil {
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

// writeFileAtomic replaces dir/name with data so that a crash leaves either
// the old file or the new one, never a torn one: write a temporary file in
// the same directory, fsync it, rename it over the old one, fsync the
// directory so the rename itself is durable.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	return durable.SyncDir(dir)
}
