package web

import "testing"

func TestLoneSurrogate(t *testing.T) {
	tests := []struct {
		json string
		lone bool
	}{
		{`{"name":"plain"}`, false},
		{`{"name":"\u00e9 and \ud83d\ude00"}`, false}, // é and a pair (😀)
		{`{"name":"\uD83D\uDE00"}`, false},            // upper-case hex
		{`{"name":"\\ud800"}`, false},                 // an escaped backslash, then text
		{`{"name":"\\\ud83d\ude00"}`, false},          // a backslash, then a pair
		{`{"name":"\ud800"}`, true},                   // a high half alone
		{`{"name":"\ud800x"}`, true},                  // followed by text
		{`{"name":"\ud800\u0041"}`, true},             // followed by another escape
		{`{"name":"\udc00"}`, true},                   // a low half alone
		{`{"name":"\ude00\ud83d"}`, true},             // halves in the wrong order
		{`{"name":"\\\ud800"}`, true},                 // a backslash, then a lone half
		{`{"a":"\ud83d\ude00","b":"\udfff"}`, true},   // a pair, then a lone half
		{`{"name":"\u12"}`, false},                    // malformed: left to the JSON decoder
	}
	for _, tt := range tests {
		if got := loneSurrogate([]byte(tt.json)) >= 0; got != tt.lone {
			t.Errorf("loneSurrogate(%s) = %v, want %v", tt.json, got, tt.lone)
		}
	}
}

// TestLoneSurrogateField names the member whose string escapes a lone
// surrogate, however deep, and never the value.
func TestLoneSurrogateField(t *testing.T) {
	tests := []struct {
		json  string
		field string
	}{
		{`{"name":"\ud800"}`, "name"},
		{`{"source":"self","name":"Ann \ud800x"}`, "name"},
		{`{"a":"\ud83d\ude00","b":"\udfff"}`, "b"},
		{`{"personal":{"name":"ok","contact":"\udc00"}}`, "personal.contact"},
		{`{"spec":{"slots":[{"day":"mon"},{"day":"\ud800"}]}}`, "spec.slots[1].day"},
		{`{"tags":["x","y","\ud800"]}`, "tags[2]"},
		{`{"n":1,"ok":true,"none":null,"list":[1,[2]],"x":"\ud800"}`, "x"},
		{`{"\ud800":"key"}`, ""},            // in a member's name: the enclosing object
		{`{"outer":{"\ud800":1}}`, "outer"}, // likewise, one level down
		{`["\ud800"]`, "[0]"},               // not an object: the decoder refuses it anyway
		{`{"name":"\ud800"`, "name"},        // truncated after the value
		{`{"name" "\ud800"}`, ""},           // malformed before it
	}
	for _, tt := range tests {
		body := []byte(tt.json)
		at := loneSurrogate(body)
		if at < 0 {
			t.Fatalf("loneSurrogate(%s) found none", tt.json)
		}
		if got := fieldAt(body, at); got != tt.field {
			t.Errorf("fieldAt(%s) = %q, want %q", tt.json, got, tt.field)
		}
	}
}
