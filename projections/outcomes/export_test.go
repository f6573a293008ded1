package outcomes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"testing"
)

// TestWriteJSONIsTheEncodersIndentedJSON: the hand indentation writes the
// bytes json.Encoder writes with SetIndent("", "  "), strings with quotes,
// escapes, brackets and commas inside them, and empty lists and objects.
func TestWriteJSONIsTheEncodersIndentedJSON(t *testing.T) {
	values := []any{
		map[string]any{"a": `x"},[:`, "b": []int{}, "c": map[string]int{}, "d": []any{map[string]any{"e": nil}, 1.5, "\\", `\"`}},
		[]any{[]any{[]any{}}, map[string]any{"k": map[string]any{"": "<&>"}}},
		"plain",
		12,
		fold(t, Options{}, clinicHistory(t)...),
	}
	for i, v := range values {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		compact, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := indentJSON(nil, compact); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("value %d:\n got %s\nwant %s", i, got, want.Bytes())
		}
	}
	r := fold(t, Options{}, clinicHistory(t)...)
	for i, rate := range []*float64{nil, f64(0), f64(1), f64(1.0 / 3), f64(1e-7), f64(2.5e-6), f64(2e21), f64(123456789.125)} {
		r.AttendanceByPerson = append(r.AttendanceByPerson, PersonAttendance{Person: fmt.Sprintf("P%d", i), Recorded: i, Present: -i, Rate: rate})
	}
	r.AttendanceByPerson = append(r.AttendanceByPerson, PersonAttendance{Person: "P<\"&>\u2028é"})
	for _, people := range [][]PersonAttendance{r.AttendanceByPerson, {}, nil} {
		r.AttendanceByPerson = people
		var got, want bytes.Buffer
		if err := r.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%d people: WriteJSON differs from the encoder's bytes:\n got %s\nwant %s", len(people), got.Bytes(), want.Bytes())
		}
	}
	var got bytes.Buffer
	nan := math.NaN()
	r.AttendanceByPerson = []PersonAttendance{{Person: "P1", Rate: &nan}}
	if err := r.WriteJSON(&got); err == nil {
		t.Error("a NaN rate was written")
	}
}
