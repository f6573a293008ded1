package bolt

import (
	"encoding/binary"

	bbolt "go.etcd.io/bbolt"

	"github.com/continuum-care/continuum/eventstore"
)

// A stream's index maps its revisions to sequence numbers in $all as runs
// (see seqRun): full chunks of runs in the stream-index bucket, keyed by the
// revision each starts at, and the newest chunk inline in the stream state.
// Chunks cover the revisions from 0 to the inline chunk without gaps.

// visitRun receives one run, clipped to the revisions asked for: revisions
// [revision, revision+count) are at sequence numbers [seq, seq+count).
// It returns false to stop.
type visitRun func(revision, seq, count uint64) (bool, error)

// streamRuns visits the runs of a stream from revision from (which must be
// below st.next) in direction dir: forwards the first run starts at from,
// backwards the first run ends at from.
func streamRuns(index *bbolt.Bucket, st streamState, from uint64, dir eventstore.Direction, visit visitRun) error {
	inlineStart := st.inlineStart()
	if dir == eventstore.Backwards && from >= inlineStart {
		if more, err := visitRuns(inlineStart, st.inline, from, dir, visit); err != nil || !more {
			return err
		}
	}
	if from < inlineStart || dir == eventstore.Backwards {
		// The chunk holding from, or (backwards from the inline runs) the last chunk.
		target := min(from, inlineStart)
		c := index.Cursor()
		k, v := c.Seek(chunkKey(st.number, target))
		switch {
		case k == nil:
			k, v = c.Last()
		case !chunkOf(k, st.number) || chunkStart(k) > target:
			k, v = c.Prev()
		}
		step := c.Next
		if dir == eventstore.Backwards {
			step = c.Prev
		}
		for ; k != nil && chunkOf(k, st.number); k, v = step() {
			runs, err := decodeRuns(v)
			if err != nil {
				return err
			}
			if more, err := visitRuns(chunkStart(k), runs, from, dir, visit); err != nil || !more {
				return err
			}
		}
	}
	if dir == eventstore.Forwards {
		_, err := visitRuns(inlineStart, st.inline, from, dir, visit)
		return err
	}
	return nil
}

// visitRuns visits runs that cover revisions from start, skipping what lies
// before from (forwards) or after it (backwards).
func visitRuns(start uint64, runs []seqRun, from uint64, dir eventstore.Direction, visit visitRun) (bool, error) {
	if dir == eventstore.Forwards {
		revision := start
		for _, r := range runs {
			end := revision + r.count
			if end > from {
				skip := from - min(from, revision)
				if more, err := visit(revision+skip, r.seq+skip, r.count-skip); err != nil || !more {
					return more, err
				}
			}
			revision = end
		}
		return true, nil
	}
	end := start
	for _, r := range runs {
		end += r.count
	}
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		revision := end - r.count
		end = revision
		if revision > from {
			continue
		}
		if more, err := visit(revision, r.seq, min(r.count, from-revision+1)); err != nil || !more {
			return more, err
		}
	}
	return true, nil
}

func chunkOf(k []byte, stream uint64) bool {
	return len(k) == 16 && binary.BigEndian.Uint64(k) == stream
}

func chunkStart(k []byte) uint64 { return binary.BigEndian.Uint64(k[8:]) }

// seqOf finds the sequence number of one revision (below st.next).
func seqOf(index *bbolt.Bucket, st streamState, revision uint64) (uint64, error) {
	var seq uint64
	found := false
	err := streamRuns(index, st, revision, eventstore.Forwards, func(_, s, _ uint64) (bool, error) {
		seq, found = s, true
		return false, nil
	})
	if err == nil && !found {
		err = errCorruptIndex
	}
	return seq, err
}

// addRun indexes count events just appended at seq, moving the inline runs
// to a chunk of the stream index when they are many.
func (s *streamState) addRun(index *bbolt.Bucket, seq, count uint64) error {
	if n := len(s.inline); n > 0 && s.inline[n-1].seq+s.inline[n-1].count == seq {
		s.inline[n-1].count += count
	} else {
		s.inline = append(s.inline, seqRun{seq: seq, count: count})
	}
	s.next += count
	if len(s.inline) < maxInlineRuns {
		return nil
	}
	if err := index.Put(chunkKey(s.number, s.inlineStart()), appendRuns(nil, s.inline)); err != nil {
		return err
	}
	s.inline = nil
	return nil
}
