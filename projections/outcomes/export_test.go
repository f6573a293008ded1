package outcomes

import (
	"bytes"
	"encoding/json"
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
		t.Errorf("WriteJSON differs from the encoder's bytes:\n got %s\nwant %s", got.Bytes(), want.Bytes())
	}
}
