// Package storetest is the conformance suite every eventstore.Store passes:
// the embedded store, the in-memory store and the adapter to a real KurrentDB.
// Its rules are KurrentDB's, so the same suite runs unchanged against a real
// server: it never assumes an empty store, uses stream names unique to each
// test, and asserts only what a server shares (order and strict increase of
// positions, not their values).
package storetest

import (
	"testing"

	"github.com/continuum-care/continuum/eventstore"
)

// Harness opens stores for the suite.
type Harness struct {
	// New returns a new, empty store; the suite closes it (t.Cleanup is fine too).
	New func(t *testing.T) eventstore.Store
	// Reopen, if set, closes s and opens the same data again (durable stores); nil skips reopen tests.
	Reopen func(t *testing.T, s eventstore.Store) eventstore.Store
}

// Run runs the whole suite against the stores h opens, one subtest per rule.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("storetest: Harness.New is nil")
	}
	t.Run("Append", func(t *testing.T) { testAppend(t, h) })
	t.Run("Idempotency", func(t *testing.T) { testIdempotency(t, h) })
	t.Run("ReadStream", func(t *testing.T) { testReadStream(t, h) })
	t.Run("ReadAll", func(t *testing.T) { testReadAll(t, h) })
	t.Run("Subscription", func(t *testing.T) { testSubscriptionLifecycle(t, h) })
	t.Run("SubscribeStream", func(t *testing.T) { testSubscribeStream(t, h) })
	t.Run("SubscribeAll", func(t *testing.T) { testSubscribeAll(t, h) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, h) })
	t.Run("Tombstone", func(t *testing.T) { testTombstone(t, h) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, h) })
	t.Run("InvalidArgument", func(t *testing.T) { testInvalidArgument(t, h) })
	t.Run("Context", func(t *testing.T) { testCanceledContext(t, h) })
	t.Run("Close", func(t *testing.T) { testClose(t, h) })
	t.Run("Reopen", func(t *testing.T) {
		if h.Reopen == nil {
			t.Skip("Harness.Reopen is nil: the store is not durable")
		}
		testReopen(t, h)
	})
}
