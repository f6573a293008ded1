package domain

import (
	"strings"
)

// enumSpec describes a closed enumeration stored as a small integer whose
// zero value is "unset" and whose wire form is a lowercase name. One generic
// implementation keeps parse, print and JSON behaviour identical for every
// enum in the package.
type enumSpec[T ~uint8] struct {
	kind  string   // what the enum is called in error messages, e.g. "level"
	names []string // names[v] is the wire name of value v; names[0] is unused
}

func (s enumSpec[T]) valid(v T) bool { return v > 0 && int(v) < len(s.names) }

func (s enumSpec[T]) name(v T) string {
	if !s.valid(v) {
		return s.kind + "(invalid)"
	}
	return s.names[v]
}

// lookup finds a value by its wire name without allocating, which matters on
// the event decoding hot path.
func (s enumSpec[T]) lookup(b []byte) (T, bool) {
	for i := 1; i < len(s.names); i++ {
		if string(b) == s.names[i] {
			return T(i), true
		}
	}
	return 0, false
}

func (s enumSpec[T]) parse(str string) (T, error) {
	if v, ok := s.lookup([]byte(str)); ok {
		return v, nil
	}
	return 0, s.invalid(str)
}

// invalid never repeats the rejected value: it may be personal data typed
// into the wrong field, or stored bytes of someone else's event.
func (s enumSpec[T]) invalid(string) error {
	return &InvalidError{Field: s.kind, Reason: "unknown " + s.kind + ", want one of " + strings.Join(s.names[1:], ", ")}
}

func (s enumSpec[T]) marshal(v T) ([]byte, error) {
	if !s.valid(v) {
		return nil, &InvalidError{Field: s.kind, Reason: s.kind + " is not set"}
	}
	return []byte(s.names[v]), nil
}

func (s enumSpec[T]) unmarshal(b []byte) (T, error) {
	if v, ok := s.lookup(b); ok {
		return v, nil
	}
	return 0, s.invalid(string(b))
}
