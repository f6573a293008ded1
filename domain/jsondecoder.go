package domain

import (
	"encoding/base64"
	"errors"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// decoder is a minimal JSON reader for the flat objects of the hot event
// types and the metadata: one pass, no reflection, no allocation except the
// strings it returns. Replaying millions of events is dominated by decoding,
// and encoding/json's reflective decoder is several times slower. It
// accepts any valid JSON encoding/json would accept for these shapes
// (whitespace, escapes, null, unknown members) and decodes it to the same
// values, so the two are interchangeable; tests decode every golden both
// ways and fuzz the rest. One deliberate difference: member names match
// exactly, where encoding/json also accepts them in another letter case.
type decoder struct {
	data    []byte
	pos     int
	err     error
	key     []byte
	started bool
	scratch []byte // unescaped string bytes when the input has escapes
}

var errSyntax = errors.New("invalid JSON")

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
		d.pos = len(d.data)
	}
}

func (d *decoder) failAt(what string) {
	d.fail(errors.New(what + " at offset " + strconv.Itoa(d.pos)))
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) expect(c byte) {
	if d.peek() != c {
		d.failAt("expected " + strconv.QuoteRune(rune(c)))
		return
	}
	d.pos++
}

// next advances to the next member of the top-level object, leaving its
// name in d.key and the reader at its value. It returns false at the end
// of the object or on error.
func (d *decoder) next() bool {
	if d.err != nil {
		return false
	}
	if !d.started {
		d.started = true
		d.expect('{')
		if d.peek() == '}' {
			d.pos++
			return false
		}
	} else {
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return false
		default:
			d.failAt("expected ',' or '}'")
			return false
		}
	}
	if d.peek() != '"' {
		d.failAt("expected a member name")
		return false
	}
	d.key = d.stringBytes()
	d.expect(':')
	d.ws()
	return d.err == nil
}

// end checks that nothing but whitespace follows the object.
func (d *decoder) end() error {
	if d.err == nil && !d.started {
		d.failAt("expected an object")
	}
	if d.err == nil && d.peek() != 0 {
		d.failAt("unexpected data after the object")
	}
	return d.err
}

// null consumes a JSON null, which encoding/json treats as "leave the zero
// value", and reports whether it was there.
func (d *decoder) null() bool {
	if d.pos+4 <= len(d.data) && string(d.data[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

// stringBytes reads a JSON string at the reader. The result aliases the
// input or the scratch buffer and is valid until the next read.
func (d *decoder) stringBytes() []byte {
	if d.err != nil || d.pos >= len(d.data) || d.data[d.pos] != '"' {
		d.failAt("expected a string")
		return nil
	}
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			return d.data[start:i]
		case c == '\\' || c >= utf8.RuneSelf:
			return d.unescape(start)
		case c < 0x20:
			d.pos = i
			d.failAt("control character in string")
			return nil
		}
	}
	d.pos = len(d.data)
	d.failAt("unterminated string")
	return nil
}

// unescape is the slow path of stringBytes for strings with escapes or
// non-ASCII bytes.
func (d *decoder) unescape(start int) []byte {
	out := d.scratch[:0]
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.scratch = out
			return out
		case c < 0x20:
			d.pos = i
			d.failAt("control character in string")
			return nil
		case c >= utf8.RuneSelf:
			// Invalid UTF-8 becomes U+FFFD, as encoding/json decodes it.
			r, size := utf8.DecodeRune(d.data[i:])
			out = utf8.AppendRune(out, r)
			i += size
			continue
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(d.data) {
			break
		}
		switch esc := d.data[i+1]; esc {
		case '"', '\\', '/':
			out = append(out, esc)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := d.unicodeEscape(i)
			if n == 0 {
				return nil
			}
			out = utf8.AppendRune(out, r)
			i += n
			continue
		default:
			d.pos = i
			d.failAt("invalid escape")
			return nil
		}
		i += 2
	}
	d.pos = len(d.data)
	d.failAt("unterminated string")
	return nil
}

// unicodeEscape reads \uXXXX (and a following low surrogate) at i,
// returning the rune and the bytes consumed, or 0 bytes on error.
func (d *decoder) unicodeEscape(i int) (rune, int) {
	r := d.hex4(i + 2)
	if r < 0 {
		d.pos = i
		d.failAt("invalid \\u escape")
		return 0, 0
	}
	if utf16.IsSurrogate(r) {
		if i+11 < len(d.data) && d.data[i+6] == '\\' && d.data[i+7] == 'u' {
			if r2 := d.hex4(i + 8); r2 >= 0 {
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					return dec, 12
				}
			}
		}
		return utf8.RuneError, 6
	}
	return r, 6
}

func (d *decoder) hex4(i int) rune {
	if i+4 > len(d.data) {
		return -1
	}
	var r rune
	for _, c := range d.data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return -1
		}
	}
	return r
}

// str reads a string value (null reads as "").
func (d *decoder) str() string {
	if d.null() {
		return ""
	}
	return string(d.stringBytes())
}

// integer reads a JSON integer (null reads as 0).
func (d *decoder) integer() int {
	if d.null() {
		return 0
	}
	start := d.pos
	if d.pos < len(d.data) && d.data[d.pos] == '-' {
		d.pos++
	}
	digits := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	n := d.pos - digits
	if n == 0 || n > 18 || (n > 1 && d.data[digits] == '0') {
		d.pos = start
		d.failAt("expected an integer")
		return 0
	}
	if d.pos < len(d.data) {
		if c := d.data[d.pos]; c == '.' || c == 'e' || c == 'E' {
			d.pos = start
			d.failAt("expected an integer")
			return 0
		}
	}
	v := 0
	for _, c := range d.data[digits:d.pos] {
		v = v*10 + int(c-'0')
	}
	if d.data[start] == '-' {
		v = -v
	}
	return v
}

// boolean reads true or false (null reads as false).
func (d *decoder) boolean() bool {
	switch {
	case d.null():
		return false
	case d.pos+4 <= len(d.data) && string(d.data[d.pos:d.pos+4]) == "true":
		d.pos += 4
		return true
	case d.pos+5 <= len(d.data) && string(d.data[d.pos:d.pos+5]) == "false":
		d.pos += 5
		return false
	}
	d.failAt("expected a boolean")
	return false
}

// timestamp reads an RFC 3339 time (null reads as the zero time).
func (d *decoder) timestamp() time.Time {
	if d.null() {
		return time.Time{}
	}
	b := d.stringBytes()
	if d.err != nil {
		return time.Time{}
	}
	if t, ok := parseUTCTimestamp(b); ok {
		return t
	}
	// Offsets other than Z are rare (we store UTC); time.Parse gives them
	// exactly encoding/json's meaning, including its choice of location.
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		d.fail(errors.New("invalid time: " + err.Error()))
	}
	return t
}

// date reads a YYYY-MM-DD day.
func (d *decoder) date() Date {
	if d.null() {
		return Date{}
	}
	b := d.stringBytes()
	if d.err != nil {
		return Date{}
	}
	if len(b) == 10 && b[4] == '-' && b[7] == '-' {
		y, ok1 := digits(b[0:4])
		m, ok2 := digits(b[5:7])
		day, ok3 := digits(b[8:10])
		if ok1 && ok2 && ok3 && m >= 1 && m <= 12 && day >= 1 && day <= daysIn(time.Month(m), y) {
			return Date{Year: y, Month: time.Month(m), Day: day}
		}
	}
	d.fail(errors.New("invalid date " + strconv.Quote(string(b))))
	return Date{}
}

// parseUTCTimestamp is the fast path for the form this package stores:
// YYYY-MM-DDTHH:MM:SS[.fraction]Z.
func parseUTCTimestamp(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	y, ok1 := digits(b[0:4])
	mo, ok2 := digits(b[5:7])
	dd, ok3 := digits(b[8:10])
	hh, ok4 := digits(b[11:13])
	mi, ok5 := digits(b[14:16])
	ss, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || dd < 1 || dd > daysIn(time.Month(mo), y) || hh > 23 || mi > 59 || ss > 59 {
		return time.Time{}, false
	}
	ns := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		v, ok := digits(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			v *= 10
		}
		ns = v
	}
	return time.Date(y, time.Month(mo), dd, hh, mi, ss, ns, time.UTC), true
}

func digits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// skip reads past any JSON value, for members this release does not know.
func (d *decoder) skip() {
	switch d.peek() {
	case '"':
		d.stringBytes()
	case '{', '[':
		d.skipNested()
	case 't', 'f':
		d.boolean()
	case 'n':
		if !d.null() {
			d.failAt("invalid literal")
		}
	default:
		d.skipNumber()
	}
}

func (d *decoder) skipNested() {
	depth := 0
	for d.err == nil && d.pos < len(d.data) {
		switch d.data[d.pos] {
		case '"':
			d.stringBytes()
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				d.pos++
				return
			}
		}
		d.pos++
	}
	d.failAt("unterminated value")
}

func (d *decoder) skipNumber() {
	start := d.pos
	for d.pos < len(d.data) && isNumberByte(d.data[d.pos]) {
		d.pos++
	}
	if d.pos == start {
		d.failAt("expected a value")
	}
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// base64 reads a []byte member the way encoding/json writes it: standard
// base64 in a string; null reads as nil.
func (d *decoder) base64() []byte {
	if d.null() {
		return nil
	}
	s := d.stringBytes()
	if d.err != nil {
		return nil
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	if err != nil {
		d.fail(err)
		return nil
	}
	return b[:n]
}

// decodeEnum reads a closed enum by its wire name without allocating.
func decodeEnum[T ~uint8](d *decoder, s enumSpec[T]) T {
	if d.null() {
		return 0
	}
	b := d.stringBytes()
	if d.err != nil {
		return 0
	}
	v, ok := s.lookup(b)
	if !ok {
		d.fail(s.invalid(string(b)))
	}
	return v
}
