package domain

import (
	"errors"
	"testing"
	"time"
)

func TestClinicalTime(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		at      time.Time
		want    time.Time
		wantErr error
	}{
		{"zero means now", time.Time{}, now, nil},
		{"backdated", now.AddDate(-20, 0, 0), now.AddDate(-20, 0, 0), nil},
		{"the earliest plausible", EarliestClinicalTime, EarliestClinicalTime, nil},
		{"a mistyped year", time.Date(202, 3, 1, 0, 0, 0, 0, time.UTC), time.Time{}, ErrInvalid},
		{"just before 1900", EarliestClinicalTime.Add(-time.Second), time.Time{}, ErrInvalid},
		{"ahead of now", now.Add(time.Minute), time.Time{}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := clinicalTime(tt.at, now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) || !got.Equal(tt.want) {
				t.Fatalf("clinicalTime(%v) = %v, %v; want %v, %v", tt.at, got, err, tt.want, tt.wantErr)
			}
		})
	}
	// The refusal names the field and never echoes the value.
	_, err := clinicalTime(time.Date(202, 3, 1, 0, 0, 0, 0, time.UTC), now)
	var invalid *InvalidError
	if !errors.As(err, &invalid) || invalid.Field != "occurredAt" || ErrorCode(err) != CodeInvalidInput {
		t.Errorf("refusal %#v, want an invalid occurredAt", err)
	}
	if msg := err.Error(); contains(msg, "202") || contains(msg, "0202") {
		t.Errorf("refusal %q echoes the value", msg)
	}
	// Nor does the refusal of a time ahead of now.
	ahead := time.Date(2031, 7, 9, 8, 7, 6, 0, time.UTC)
	_, err = clinicalTime(ahead, now)
	if ErrorCode(err) != CodeOccurredInFuture {
		t.Fatalf("a time ahead of now: %v, want %s", err, CodeOccurredInFuture)
	}
	if msg := err.Error(); contains(msg, "2031") || contains(msg, "07-09") {
		t.Errorf("refusal %q echoes the value", msg)
	}
}
