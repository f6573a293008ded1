package projections

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// The snapshot body is a compact binary encoding written by hand rather than
// JSON or gob: restarting from a snapshot of a million events must take well
// under a second, gob writes maps in random order (snapshots must be
// byte-identical for the same log), and JSON decoding is an order of
// magnitude too slow. Strings go through a table so every patient, group and
// session ID is stored and allocated once, which also interns them in memory
// after a restart.

// errCorrupt reports a snapshot body that does not decode.
var errCorrupt = errors.New("corrupt snapshot")

// encoder appends the binary form of the read models' state.
type encoder struct {
	buf   []byte
	index map[string]uint64
	table []string
}

// newEncoder returns an encoder sized for a body and string table like the
// previous ones: growing a buffer of tens of megabytes and a map of a
// hundred thousand strings step by step costs more than the encoding.
// Index 0 is the empty string, the most frequent one, found without a lookup.
func newEncoder(hint encodeHint) *encoder {
	return &encoder{buf: make([]byte, 0, hint.body+hint.body/8), index: make(map[string]uint64, hint.strings), table: make([]string, 1, hint.strings+1)}
}

// encodeHint is the size of the previous encoding.
type encodeHint struct{ body, strings int }

func (e *encoder) uint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

func (e *encoder) int(v int64) { e.buf = binary.AppendVarint(e.buf, v) }

func (e *encoder) count(n int) { e.uint(uint64(n)) }

// small writes a signed value that fits an int32 (counters, modules, scores).
func (e *encoder) small(v int) { e.int(int64(v)) }

// byte writes a small enum value.
func (e *encoder) byte(b uint8) { e.buf = append(e.buf, b) }

func (e *encoder) bool(b bool) {
	if b {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// str writes a string as its index in the string table.
func (e *encoder) str(s string) {
	if s == "" {
		e.buf = append(e.buf, 0)
		return
	}
	e.uint(e.lookup(s))
}

func (e *encoder) lookup(s string) uint64 {
	i, ok := e.index[s]
	if !ok {
		i = uint64(len(e.table))
		e.index[s] = i
		e.table = append(e.table, s)
	}
	return i
}

// recentString remembers the last string one field wrote.
type recentString struct {
	s string
	i uint64
}

// strRecent is str for a field that often repeats its previous value (a
// journey's group or program): it skips the table lookup, which dominates
// encoding a million entries.
func (e *encoder) strRecent(r *recentString, s string) {
	if s == "" {
		e.buf = append(e.buf, 0)
		return
	}
	if r.s != s || r.i == 0 {
		r.s, r.i = s, e.lookup(s)
	}
	e.uint(r.i)
}

// bytes writes a byte slice inline (sealed personal data is unique per
// person, so a table would only add indirection).
func (e *encoder) bytes(b []byte) {
	e.count(len(b))
	e.buf = append(e.buf, b...)
}

// time writes an instant as Unix seconds and nanoseconds; the zero time
// round-trips to the zero time.
func (e *encoder) time(t time.Time) {
	e.int(t.Unix())
	e.uint(uint64(t.Nanosecond()))
}

func (e *encoder) date(d domain.Date) {
	e.int(int64(d.Year))
	e.uint(uint64(d.Month))
	e.uint(uint64(d.Day))
}

// stringTable returns the encoded string table, which a reader needs before
// the body that refers to it.
func (e *encoder) stringTable() []byte {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(e.table)))
	for _, s := range e.table {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// decoder reads what encoder wrote. The first error sticks: later reads
// return zero values, so decoding code stays linear and checks err once.
type decoder struct {
	buf   []byte
	off   int
	table []string
	err   error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: at byte %d: %s", errCorrupt, d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		d.fail("bad unsigned varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

// smallInt reads a signed value that must fit an int32 (counters, modules,
// scores), so a corrupt body cannot produce absurd values.
func (d *decoder) smallInt() int {
	v := d.int()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail("integer %d out of range", v)
		return 0
	}
	return int(v)
}

// count reads a length and checks it against the bytes left, assuming each
// element takes at least one byte, so a corrupt length cannot make the
// reader allocate gigabytes.
func (d *decoder) count() int {
	n := d.uint()
	if n > uint64(len(d.buf)-d.off) {
		d.fail("count %d exceeds the %d bytes left", n, len(d.buf)-d.off)
		return 0
	}
	return int(n)
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.buf) {
		d.fail("unexpected end")
		return 0
	}
	b := d.buf[d.off]
	d.off++
	return b
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bad boolean")
	return false
}

func (d *decoder) str() string {
	i := d.uint()
	if d.err != nil {
		return ""
	}
	if i >= uint64(len(d.table)) {
		d.fail("string index %d outside the table of %d", i, len(d.table))
		return ""
	}
	return d.table[i]
}

// bytes returns a copy (nil when empty) so the model never aliases the
// file's buffer and an empty value reads back exactly as the fold stores it.
func (d *decoder) bytes() []byte {
	n := d.count()
	if d.err != nil || n == 0 {
		return nil
	}
	b := slices.Clone(d.buf[d.off : d.off+n])
	d.off += n
	return b
}

func (d *decoder) time() time.Time {
	sec := d.int()
	nsec := d.uint()
	if nsec >= uint64(time.Second) {
		d.fail("nanoseconds %d out of range", nsec)
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *decoder) date() domain.Date {
	y := d.smallInt()
	m := d.uint()
	day := d.uint()
	if m > 12 || day > 31 {
		d.fail("bad date")
		return domain.Date{}
	}
	return domain.Date{Year: y, Month: time.Month(m), Day: int(day)}
}

// readStringTable reads the table written by encoder.stringTable.
func (d *decoder) readStringTable() {
	n := d.count()
	d.table = make([]string, 0, n)
	for range n {
		l := d.count()
		if d.err != nil {
			return
		}
		d.table = append(d.table, string(d.buf[d.off:d.off+l]))
		d.off += l
	}
}

// done checks that the whole buffer was consumed.
func (d *decoder) done() error {
	if d.err == nil && d.off != len(d.buf) {
		d.fail("%d trailing bytes", len(d.buf)-d.off)
	}
	return d.err
}

// sortedKeys returns a map's keys in order: every map is written this way so
// the same state always encodes to the same bytes.
func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
