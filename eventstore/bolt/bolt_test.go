package bolt_test

import (
	"testing"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/eventstore/storetest"
)

// TestConformance runs the shared suite: every Store follows KurrentDB's rules.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) eventstore.Store {
			t.Helper()
			return openStore(t, t.TempDir(), bolt.Options{})
		},
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
			t.Helper()
			store := s.(*bolt.Store)
			if err := store.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return openStore(t, store.Dir(), bolt.Options{})
		},
	})
}
