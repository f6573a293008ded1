package domain

import (
	"strconv"
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

func (s enumSpec[T]) invalid(str string) error {
	const maxShown = 40 // keep error messages bounded whatever the input
	if len(str) > maxShown {
		str = str[:maxShown] + "…"
	}
	return &InvalidError{Field: s.kind, Reason: "unknown " + s.kind + " " + quote(str) + ", want one of " + strings.Join(s.names[1:], ", ")}
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

// quote renders s for an error message with Go escaping, so control bytes in
// hostile input cannot forge log lines.
func quote(s string) string { return strconv.Quote(s) }
