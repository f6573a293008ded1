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
		if got := loneSurrogate([]byte(tt.json)); got != tt.lone {
			t.Errorf("loneSurrogate(%s) = %v, want %v", tt.json, got, tt.lone)
		}
	}
}
