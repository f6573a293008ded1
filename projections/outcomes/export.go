package outcomes

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// WriteJSON writes the report as indented JSON. encoding/json writes struct
// fields in declaration order and every list is sorted, so the same report
// always gives the same bytes. The bytes are json.Encoder's with
// SetIndent("", "  "), made faster (1.2 s with the encoder for a report
// listing a quarter of a million people's attendance, 0.2 s here): the
// report without its people is marshalled and indented, and the people's
// rows, flat and uniform, are written straight into their place.
func (r *Report) WriteJSON(w io.Writer) error {
	rest := *r
	if r.AttendanceByPerson != nil {
		rest.AttendanceByPerson = []PersonAttendance{}
	}
	compact, err := json.Marshal(&rest)
	if err != nil {
		return err
	}
	out := indentJSON(make([]byte, 0, 2*len(compact)), compact)
	slot := []byte(`"attendance_by_person": []`)
	at := bytes.Index(out, slot)
	if at < 0 || len(r.AttendanceByPerson) == 0 {
		_, err = w.Write(out)
		return err
	}
	at += len(slot) - 1 // just before the ]
	rows := make([]byte, 0, 160*len(r.AttendanceByPerson))
	for i, p := range r.AttendanceByPerson {
		if i > 0 {
			rows = append(rows, ',')
		}
		rows = append(rows, "\n    {\n      \"person\": "...)
		rows = appendJSONString(rows, p.Person)
		rows = append(rows, ",\n      \"recorded\": "...)
		rows = strconv.AppendInt(rows, int64(p.Recorded), 10)
		rows = append(rows, ",\n      \"present\": "...)
		rows = strconv.AppendInt(rows, int64(p.Present), 10)
		rows = append(rows, ",\n      \"absent\": "...)
		rows = strconv.AppendInt(rows, int64(p.Absent), 10)
		rows = append(rows, ",\n      \"excused\": "...)
		rows = strconv.AppendInt(rows, int64(p.Excused), 10)
		rows = append(rows, ",\n      \"rate\": "...)
		if rows, err = appendJSONNumber(rows, p.Rate); err != nil {
			return err
		}
		rows = append(rows, "\n    }"...)
	}
	rows = append(rows, "\n  "...)
	for _, part := range [][]byte{out[:at], rows, out[at:]} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// appendJSONString appends s as encoding/json writes it: plain letters and
// digits as they are, anything else through the encoder.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			quoted, _ := json.Marshal(s) // a string always marshals
			return append(b, quoted...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONNumber appends a nullable number as encoding/json writes a
// *float64: null, or the shortest decimal, in exponent form below 1e-6 and
// from 1e21; like it, it refuses NaN and infinities.
func appendJSONNumber(b []byte, v *float64) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	f, format := *v, byte('f')
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("json: unsupported value: %v", f)
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1] // e-07 → e-7, as encoding/json
		b = b[:n-1]
	}
	return b, nil
}

// indentJSON appends compact JSON src to dst as json.Indent would with two
// spaces a level, and a newline, as json.Encoder ends each value.
func indentJSON(dst, src []byte) []byte {
	depth := 0
	newline := func() {
		dst = append(dst, '\n')
		for range depth {
			dst = append(dst, "  "...)
		}
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			end := stringEnd(src, i)
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1])
				i++
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '\n')
}

// stringEnd is the index just after the JSON string that opens at src[i].
func stringEnd(src []byte, i int) int {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(src)
}

// Table is one CSV file of the report: a name (the file is Name + ".csv"),
// a header and rows of cells. Empty cells are nulls.
type Table struct {
	Name   string
	Header []string
	Rows   [][]string
}

// WriteCSV writes one CSV file per table into dir, creating it if needed.
func (r *Report) WriteCSV(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, t := range r.Tables() {
		if err := writeTable(filepath.Join(dir, t.Name+".csv"), t); err != nil {
			return err
		}
	}
	return nil
}

func writeTable(path string, t Table) (err error) {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, file.Close()) }()
	buf := bufio.NewWriter(file)
	w := csv.NewWriter(buf)
	if err := w.Write(t.Header); err != nil {
		return err
	}
	if err := w.WriteAll(t.Rows); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	return buf.Flush()
}

// Tables lays the report out as flat tables. The episode tables carry two
// leading columns, slice ("all", "cohort" or "program") and key (the
// cohort or program; empty for all), so one file holds every slice.
func (r *Report) Tables() []Table {
	type slice struct {
		kind, key string
		o         *Outcomes
	}
	slices := []slice{{"all", "", &r.Outcomes}}
	for i := range r.ByCohort {
		slices = append(slices, slice{"cohort", r.ByCohort[i].Cohort, &r.ByCohort[i].Outcomes})
	}
	for i := range r.ByProgram {
		slices = append(slices, slice{"program", r.ByProgram[i].Program, &r.ByProgram[i].Outcomes})
	}
	episodeTable := func(name string, header []string, rows func(o *Outcomes) [][]string) Table {
		t := Table{Name: name, Header: append([]string{"slice", "key"}, header...)}
		for _, s := range slices {
			for _, row := range rows(s.o) {
				t.Rows = append(t.Rows, append([]string{s.kind, s.key}, row...))
			}
		}
		return t
	}

	tables := []Table{{
		Name: "summary", Header: []string{"name", "value"},
		Rows: [][]string{
			{"events_replayed", strconv.FormatInt(r.EventsReplayed, 10)},
			{"events_after_as_of", strconv.FormatInt(r.EventsAfterAsOf, 10)},
			{"as_of", text(r.AsOf)}, {"from", text(r.From)}, {"to", text(r.To)},
			{"horizon", text(r.Horizon)}, {"time_zone", r.TimeZone}, {"cohort_period", r.CohortPeriod},
		},
	}}
	tables = append(tables,
		episodeTable("episodes", []string{"total", "closed", "open", "completed", "completion_rate", "estimated_dates"}, func(o *Outcomes) [][]string {
			e := o.Episodes
			return [][]string{{num(e.Total), num(e.Closed), num(e.Open), num(e.Completed), rate(e.CompletionRate), num(e.EstimatedDates)}}
		}),
		episodeTable("completion_by_level", []string{"level", "episodes", "completed", "rate", "open"}, func(o *Outcomes) (rows [][]string) {
			for _, c := range o.CompletionByLevel {
				rows = append(rows, []string{c.Level, num(c.Episodes), num(c.Completed), rate(c.Rate), num(c.Open)})
			}
			return rows
		}),
		episodeTable("completion_by_source_setting", []string{"setting", "episodes", "completed", "rate", "open"}, func(o *Outcomes) (rows [][]string) {
			for _, c := range o.CompletionBySourceSetting {
				rows = append(rows, []string{c.Setting, num(c.Episodes), num(c.Completed), rate(c.Rate), num(c.Open)})
			}
			return rows
		}),
		episodeTable("completion_by_reason", []string{"reason", "episodes", "rate"}, func(o *Outcomes) (rows [][]string) {
			for _, c := range o.CompletionByReason {
				rows = append(rows, []string{c.Reason, num(c.Episodes), rate(c.Rate)})
			}
			return rows
		}),
		episodeTable("length_of_stay", []string{"scope", "level", "count", "open", "unknown_length", "median", "p25", "p75", "mean"}, func(o *Outcomes) (rows [][]string) {
			for _, s := range o.LengthOfStay {
				rows = append(rows, []string{s.Scope, s.Level, num(s.Count), num(s.Open), num(s.UnknownLength), rate(s.Median), rate(s.P25), rate(s.P75), rate(s.Mean)})
			}
			return rows
		}),
		episodeTable("transitions", []string{"from", "to", "count", "rate"}, func(o *Outcomes) (rows [][]string) {
			for _, t := range o.Transitions {
				rows = append(rows, []string{t.From, t.To, num(t.Count), rate(t.Rate)})
			}
			return rows
		}),
		episodeTable("step_down", []string{"step_downs", "successful", "failed", "pending", "rate"}, func(o *Outcomes) [][]string {
			s := o.StepDown
			return [][]string{{num(s.StepDowns), num(s.Successful), num(s.Failed), num(s.Pending), rate(s.Rate)}}
		}),
		episodeTable("step_up", []string{"episodes", "stepped_up", "rate"}, func(o *Outcomes) [][]string {
			s := o.StepUp
			return [][]string{{num(s.Episodes), num(s.SteppedUp), rate(s.Rate)}}
		}),
		episodeTable("readmission_30d", []string{"discharges", "readmitted", "not_readmitted", "pending", "deaths", "rate"}, func(o *Outcomes) [][]string {
			s := o.Readmission
			return [][]string{{num(s.Discharges), num(s.Readmitted), num(s.NotReadmitted), num(s.Pending), num(s.Deaths), rate(s.Rate)}}
		}),
		episodeTable("measures", []string{"instrument", "population", "with_baseline", "followed_up", "baseline_mean", "last_mean", "change_mean",
			"response", "response_rate", "remission", "remission_rate", "reliable_improvement", "reliable_improvement_rate"}, func(o *Outcomes) (rows [][]string) {
			for _, m := range o.Measures {
				rows = append(rows, []string{m.Instrument, m.Population, num(m.WithBaseline), num(m.FollowedUp),
					rate(m.BaselineMean), rate(m.LastMean), rate(m.ChangeMean),
					num(m.Response), rate(m.ResponseRate), num(m.Remission), rate(m.RemissionRate),
					num(m.ReliableImprovement), rate(m.ReliableImprovementRate)})
			}
			return rows
		}),
	)

	histogram := Table{Name: "length_of_stay_histogram", Header: []string{"level", "min_days", "max_days", "count"}}
	for _, b := range r.LengthOfStayHistogram {
		maxDays := ""
		if b.MaxDays != nil {
			maxDays = num(*b.MaxDays)
		}
		histogram.Rows = append(histogram.Rows, []string{b.Level, num(b.MinDays), maxDays, num(b.Count)})
	}
	trends := Table{Name: "measure_trends", Header: []string{"instrument", "week", "scores", "mean"}}
	for _, p := range r.MeasureTrends {
		trends.Rows = append(trends.Rows, []string{p.Instrument, num(p.Week), num(p.Scores), rate(p.Mean)})
	}
	groups := Table{Name: "groups", Header: []string{"group", "program", "members", "seatings", "completed", "left", "active", "completion_rate",
		"attendance_recorded", "present", "absent", "excused", "attendance_rate"}}
	for _, g := range r.Groups {
		groups.Rows = append(groups.Rows, []string{g.Group, g.Program, num(g.Members), num(g.Seatings), num(g.Completed), num(g.Left), num(g.Active),
			rate(g.CompletionRate), num(g.Recorded), num(g.Present), num(g.Absent), num(g.Excused), rate(g.AttendanceRate)})
	}
	modules := Table{Name: "modules", Header: []string{"group", "module", "members", "completed", "rate"}}
	for _, m := range r.Modules {
		modules.Rows = append(modules.Rows, []string{m.Group, num(m.Module), num(m.Members), num(m.Completed), rate(m.Rate)})
	}
	people := Table{Name: "attendance_by_person", Header: []string{"person", "recorded", "present", "absent", "excused", "rate"}}
	for _, p := range r.AttendanceByPerson {
		people.Rows = append(people.Rows, []string{p.Person, num(p.Recorded), num(p.Present), num(p.Absent), num(p.Excused), rate(p.Rate)})
	}
	return append(tables, histogram, trends, groups, modules, people)
}

func num(n int) string { return strconv.Itoa(n) }

// rate writes a nullable number; null is an empty cell.
func rate(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func text(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
