package commands

import (
	"fmt"
	"slices"
	"testing"
)

// TestOlderIDs: every added ID answers its revision, across growth; IDs
// never added rarely answer anything (the IDs are fixed, so the count is);
// at its size bound the table names the revisions it does not hold; a
// dropped table holds nothing.
func TestOlderIDs(t *testing.T) {
	var tab olderIDs
	grown := 0
	const added = 5000
	for i := range added {
		grown += tab.add(eventID("s", "added", i), uint64(i), 1<<20)
	}
	if grown != tab.size() || tab.count != added || tab.partial {
		t.Fatalf("grew by %d bytes to %d, %d IDs, partial %t", grown, tab.size(), tab.count, tab.partial)
	}
	if tab.count*4 > len(tab.slots)*3 || tab.count*8 < len(tab.slots)*3 {
		t.Fatalf("%d IDs in %d slots: outside 3/8 to 3/4 full", tab.count, len(tab.slots))
	}
	for i := range added {
		if revs := tab.lookup(eventID("s", "added", i), nil); !slices.Contains(revs, uint64(i)) {
			t.Fatalf("ID %d answers %v, want its revision", i, revs)
		}
	}
	const probes = 100000
	false_ := 0
	for i := range probes {
		false_ += len(tab.lookup(eventID("s", "other", i), nil))
	}
	// Theory: 5,000 IDs in 2^32 fingerprints, about 1 in 860,000.
	if false_ > 2 {
		t.Errorf("%d of %d IDs never added matched a fingerprint", false_, probes)
	}

	var bounded olderIDs
	for i := range added {
		bounded.add(eventID("s", fmt.Sprint(i), 0), uint64(10+i), olderBytes(olderFirstSlots))
	}
	held := olderFirstSlots * 3 / 4
	if bounded.size() != olderBytes(olderFirstSlots) || bounded.count != held {
		t.Fatalf("bounded table: %d bytes, %d IDs; want %d, %d", bounded.size(), bounded.count, olderBytes(olderFirstSlots), held)
	}
	if !bounded.partial || bounded.lo != uint64(10+held) || bounded.hi != uint64(10+added-1) {
		t.Fatalf("bounded table does not hold %t %d..%d, want %d..%d", bounded.partial, bounded.lo, bounded.hi, 10+held, 10+added-1)
	}
	for i := range held {
		if revs := bounded.lookup(eventID("s", fmt.Sprint(i), 0), nil); !slices.Contains(revs, uint64(10+i)) {
			t.Fatalf("bounded table lost ID %d", i)
		}
	}
	bounded.drop()
	if !bounded.dropped || bounded.size() != 0 || len(bounded.lookup(eventID("s", "0", 0), nil)) != 0 {
		t.Fatal("a dropped table must hold nothing")
	}
	if bounded.add(eventID("s", "late", 0), 1, 1<<20) != 0 || bounded.count != 0 {
		t.Fatal("a dropped table must not grow")
	}
}
