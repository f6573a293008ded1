package tedsd

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary files to the reader and the planner: they must
// never panic or loop, must report every problem as a *RowError with a line
// number, and any episode they accept must be coherent. The seed corpus
// (testdata/fuzz/FuzzReader) holds well-formed files and damaged ones. Run
// it longer with go test ./importer/tedsd -run X -fuzz FuzzReader -fuzztime 60s.
func FuzzReader(f *testing.F) {
	f.Add([]byte("CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS,AGE,STFIPS\n1,2021,7,6,1,33,5,6\n2,2021,5,-9,2,-9,-9,-9\n"))
	f.Add([]byte("\ufeffdisyr,\"caseid\",SERVICES,SERVICES_D,REASON,LOS\r\n2020,\"9\",1,7,4,37\r\n\r\n2020,10,8,8,6,1"))
	f.Add([]byte("CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS\n1,2021,7,7,1\n,,,,,\n-,--9,9999999999999999999,7,1,3\n"))
	f.Fuzz(func(t *testing.T, file []byte) {
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			return // a file without a usable header is refused whole
		}
		previous := 1
		for rows := 0; ; rows++ {
			if rows > len(file)+1 {
				t.Fatalf("more rows than bytes: the reader loops")
			}
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			line := row.Line
			var rowErr *RowError
			if errors.As(err, &rowErr) {
				line = rowErr.Line
			} else if err != nil {
				t.Fatalf("error %v is not a *RowError", err)
			}
			if line <= previous {
				t.Fatalf("line %d after line %d", line, previous)
			}
			previous = line
			if err != nil {
				continue
			}
			e, err := Plan(row, 2025)
			if err != nil {
				if !errors.As(err, &rowErr) || rowErr.Line != row.Line {
					t.Fatalf("plan error %v is not a *RowError on line %d", err, row.Line)
				}
				continue
			}
			if e.Discharged.Year() != row.Year || e.Admitted.After(e.Discharged) || e.Level == 0 || !e.Patient.Valid() {
				t.Fatalf("incoherent episode %+v from %+v", e, row)
			}
			for _, s := range e.steps() {
				if s.cmd.StreamName() != "patient-"+string(e.Patient) {
					t.Fatalf("step %s addresses %s", s.name, s.cmd.StreamName())
				}
			}
		}
		if r.BytesRead() != int64(len(file)) {
			t.Fatalf("read %d of %d bytes", r.BytesRead(), len(file))
		}
	})
}
