package tedsd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Missing is the file's code for a value that is missing, unknown or not
// collected.
const Missing = -9

// maxLineBytes bounds one line: a real row is about 300 bytes, so anything
// far longer is damage, skipped without holding it in memory.
const maxLineBytes = 64 << 10

// Row is the values of one row the importer uses, as the file codes them;
// Missing marks an unknown value.
type Row struct {
	// Line is the row's line number in the file, 1 being the header.
	Line      int
	CaseID    int64
	Year      int
	Services  int
	ServicesD int
	Reason    int
	LOS       int
	Age       int
	StateFIPS int
}

// RowError is a malformed row: its line, the variable at fault (or "row"
// for the row as a whole) and what is wrong with it. Problem is short and
// fixed, so import summaries can count rows by it; Detail adds the value.
type RowError struct {
	Line    int
	Field   string
	Problem string
	Detail  string
}

// Error reads like "line 12: REASON unknown code (9)".
func (e *RowError) Error() string {
	s := "line " + strconv.Itoa(e.Line) + ": " + e.Field + " " + e.Problem
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Kind is the error without the line and the value: what summaries count.
func (e *RowError) Kind() string { return e.Field + " " + e.Problem }

// Variables read from the file. The others are ignored.
const (
	varCaseID    = "CASEID"
	varYear      = "DISYR"
	varServices  = "SERVICES"
	varServicesD = "SERVICES_D"
	varReason    = "REASON"
	varLOS       = "LOS"
	varAge       = "AGE"
	varStateFIPS = "STFIPS"
)

// field is one variable the importer reads: its name, whether a file
// without it is refused, and where its value goes in a Row.
type field struct {
	name     string
	required bool
	set      func(r *Row, v int64)
}

var fields = []field{
	{varCaseID, true, func(r *Row, v int64) { r.CaseID = v }},
	{varYear, true, func(r *Row, v int64) { r.Year = int(v) }},
	{varServices, true, func(r *Row, v int64) { r.Services = int(v) }},
	{varServicesD, true, func(r *Row, v int64) { r.ServicesD = int(v) }},
	{varReason, true, func(r *Row, v int64) { r.Reason = int(v) }},
	{varLOS, true, func(r *Row, v int64) { r.LOS = int(v) }},
	{varAge, false, func(r *Row, v int64) { r.Age = int(v) }},
	{varStateFIPS, false, func(r *Row, v int64) { r.StateFIPS = int(v) }},
}

// Reader reads rows from a TEDS-D CSV file, one at a time, in constant
// memory. Columns are found by the header's names, whatever their order.
type Reader struct {
	in   *bufio.Reader
	line int
	read int64
	// columns maps a column index to the field it feeds (-1: ignored).
	columns []int
	buf     []byte
}

// NewReader reads the header and returns a reader positioned on the first
// row. A header without a required variable, or with one twice, is an error.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{in: bufio.NewReaderSize(r, 256<<10)}
	header, err := rd.readLine()
	if errors.Is(err, io.EOF) && len(header) == 0 {
		return nil, errors.New("TEDS-D file: empty, no header")
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("TEDS-D file: header: %w", err)
	}
	header = bytes.TrimPrefix(header, []byte("\xef\xbb\xbf")) // a byte-order mark some tools write
	found := make([]bool, len(fields))
	for _, name := range bytes.Split(header, []byte(",")) {
		name = bytes.ToUpper(bytes.TrimSpace(bytes.Trim(bytes.TrimSpace(name), `"`)))
		column := -1
		for i, f := range fields {
			if string(name) == f.name {
				if found[i] {
					return nil, fmt.Errorf("TEDS-D file: header names %s twice", f.name)
				}
				found[i], column = true, i
			}
		}
		rd.columns = append(rd.columns, column)
	}
	for i, f := range fields {
		if f.required && !found[i] {
			return nil, fmt.Errorf("TEDS-D file: header has no %s column (is this a TEDS-D discharge file?)", f.name)
		}
	}
	return rd, nil
}

// BytesRead is how much of the input has been consumed, for progress.
func (r *Reader) BytesRead() int64 { return r.read }

// Next returns the next row. A malformed row answers a *RowError, after
// which reading may go on; the end of the input answers io.EOF. Blank
// lines are skipped.
func (r *Reader) Next() (Row, error) {
	for {
		raw, err := r.readLine()
		if err != nil && !errors.Is(err, io.EOF) {
			var tooLong *lineTooLongError
			if errors.As(err, &tooLong) {
				return Row{}, &RowError{Line: r.line, Field: "row", Problem: "line too long", Detail: strconv.Itoa(tooLong.size) + " bytes"}
			}
			return Row{}, err
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			if err != nil {
				return Row{}, io.EOF
			}
			continue
		}
		return r.parse(raw)
	}
}

// parse splits one line and reads the fields the importer uses.
func (r *Reader) parse(raw []byte) (Row, error) {
	row := Row{Line: r.line, Age: Missing, StateFIPS: Missing}
	column := 0
	for start := 0; ; column++ {
		end := bytes.IndexByte(raw[start:], ',')
		last := end < 0
		if last {
			end = len(raw)
		} else {
			end += start
		}
		if column < len(r.columns) && r.columns[column] >= 0 {
			f := fields[r.columns[column]]
			v, ok := parseInt(raw[start:end])
			if !ok {
				return Row{}, &RowError{Line: r.line, Field: f.name, Problem: "not an integer", Detail: printable(raw[start:end])}
			}
			f.set(&row, v)
		}
		if last {
			break
		}
		start = end + 1
	}
	if column+1 != len(r.columns) {
		return Row{}, &RowError{Line: r.line, Field: "row", Problem: "wrong number of fields",
			Detail: strconv.Itoa(column+1) + " fields, the header has " + strconv.Itoa(len(r.columns))}
	}
	return row, nil
}

// parseInt reads an optionally quoted, optionally negative integer of at
// most 18 digits, surrounded by optional spaces.
func parseInt(b []byte) (int64, bool) {
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = bytes.TrimSpace(b[1 : len(b)-1])
	}
	negative := len(b) > 0 && b[0] == '-'
	if negative {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if negative {
		v = -v
	}
	return v, true
}

// printable quotes a bad value for a message, shortened: it is a code
// from a de-identified public file, but a damaged line can hold anything.
func printable(b []byte) string {
	const maxShown = 20
	if len(b) > maxShown {
		return strconv.Quote(string(b[:maxShown])) + "…"
	}
	return strconv.Quote(string(b))
}

// lineTooLongError reports a line over maxLineBytes, already skipped.
type lineTooLongError struct{ size int }

func (e *lineTooLongError) Error() string { return "line too long" }

// readLine returns the next line without its line ending, counting lines
// and bytes. A line longer than maxLineBytes is consumed and reported.
func (r *Reader) readLine() ([]byte, error) {
	r.line++
	r.buf = r.buf[:0]
	size := 0
	for {
		chunk, err := r.in.ReadSlice('\n')
		r.read += int64(len(chunk))
		size += len(chunk)
		if size <= maxLineBytes {
			r.buf = append(r.buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if size > maxLineBytes {
			return nil, &lineTooLongError{size: size}
		}
		line := bytes.TrimSuffix(bytes.TrimSuffix(r.buf, []byte("\n")), []byte("\r"))
		if err == nil && len(chunk) > 0 {
			return line, nil
		}
		return line, err
	}
}
