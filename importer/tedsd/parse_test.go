package tedsd

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// readAll reads every row and error of a file.
func readAll(t *testing.T, file string) ([]Row, []*RowError) {
	t.Helper()
	r, err := NewReader(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	var bad []*RowError
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, bad
		}
		var rowErr *RowError
		if errors.As(err, &rowErr) {
			bad = append(bad, rowErr)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
}

func TestReaderFindsColumnsByName(t *testing.T) {
	want := Row{Line: 2, CaseID: 17, Year: 2021, Services: 7, ServicesD: 6, Reason: 1, LOS: 33, Age: 5, StateFIPS: 6}
	tests := []struct {
		name string
		file string
		want Row
	}{
		{"codebook order", "CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS,AGE,STFIPS\n17,2021,7,6,1,33,5,6\n", want},
		{"other order, extra columns", "GENDER,LOS,STFIPS,REASON,PSYPROB,AGE,SERVICES_D,SERVICES,DISYR,CASEID\n2,33,6,1,1,5,6,7,2021,17\n", want},
		{"quoted lower-case header, CRLF, byte-order mark", "\ufeff\"caseid\",\"disyr\",\"services\",\"services_d\",\"reason\",\"los\",\"age\",\"stfips\"\r\n17,2021,7,6,1,33,5,6\r\n", want},
		{"quoted values and spaces", "CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS,AGE,STFIPS\n\"17\", 2021 ,7,6,1,33,5,\"6\"\n", want},
		{"no final newline", "CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS,AGE,STFIPS\n17,2021,7,6,1,33,5,6", want},
		{"optional columns absent are unknown", "CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS\n17,2021,7,6,1,33\n",
			Row{Line: 2, CaseID: 17, Year: 2021, Services: 7, ServicesD: 6, Reason: 1, LOS: 33, Age: Missing, StateFIPS: Missing}},
		{"missing values", "CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS,AGE,STFIPS\n17,2021,7,-9,1,-9,-9,-9\n",
			Row{Line: 2, CaseID: 17, Year: 2021, Services: 7, ServicesD: Missing, Reason: 1, LOS: Missing, Age: Missing, StateFIPS: Missing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, bad := readAll(t, tt.file)
			if len(bad) > 0 || len(rows) != 1 || !reflect.DeepEqual(rows[0], tt.want) {
				t.Errorf("rows %+v, errors %v; want %+v", rows, bad, tt.want)
			}
		})
	}
}

func TestReaderRefusesHeaders(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"empty file", "", "empty"},
		{"no REASON", "CASEID,DISYR,SERVICES,SERVICES_D,LOS\n", "no REASON column"},
		{"CASEID twice", "CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS,caseid\n", "CASEID twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestReaderReportsMalformedRowsAndGoesOn(t *testing.T) {
	file := "CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS\n" +
		"1,2021,7,7,1,3\n" + // line 2: fine
		"2,2021,seven,7,1,3\n" + // line 3: not an integer
		"3,2021,7,7,1\n" + // line 4: a field short
		"\n" + // line 5: blank, skipped
		"4,2021,7,7,1,3,9\n" + // line 6: a field too many
		strings.Repeat("9", maxLineBytes+10) + "\n" + // line 7: far too long
		"5,2021,1.5,7,1,3\n" + // line 8: not an integer
		"6,2021,7,7,1,3\n" // line 9: fine
	rows, bad := readAll(t, file)
	var lines []int
	for _, r := range rows {
		lines = append(lines, r.Line)
	}
	if !reflect.DeepEqual(lines, []int{2, 9}) {
		t.Errorf("rows read at lines %v, want 2 and 9", lines)
	}
	want := []string{
		`line 3: SERVICES not an integer ("seven")`,
		"line 4: row wrong number of fields (5 fields, the header has 6)",
		"line 6: row wrong number of fields (7 fields, the header has 6)",
		"line 7: row line too long (65547 bytes)",
		`line 8: SERVICES not an integer ("1.5")`,
	}
	var got []string
	for _, e := range bad {
		got = append(got, e.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors\n got %q\nwant %q", got, want)
	}
}
