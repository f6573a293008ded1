package outcomes

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/projections/replay"
)

func TestZZProfile(t *testing.T) {
	dir := os.Getenv("ZZ_DIR")
	if dir == "" {
		t.Skip()
	}
	store, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	start := time.Now()
	r, err := Replay(context.Background(), store, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("%d events in %s = %.0f ev/s", r.EventsReplayed, el, float64(r.EventsReplayed)/el.Seconds())
	s2 := time.Now()
	compact, _ := json.Marshal(r)
	t.Logf("marshal %s", time.Since(s2))
	s2 = time.Now()
	ind := indentJSON(make([]byte, 0, 2*len(compact)), compact)
	t.Logf("indent %s", time.Since(s2))
	s2 = time.Now()
	f, _ := os.Create("/tmp/zz.json")
	f.Write(ind)
	f.Close()
	t.Logf("write %s", time.Since(s2))
	s2 = time.Now()
	f, _ = os.Create("/tmp/zz2.json")
	w := bufio.NewWriter(f)
	r.WriteJSON(w)
	w.Flush()
	f.Close()
	t.Logf("WriteJSON %s", time.Since(s2))

}

func TestZZTypes(t *testing.T) {
	dir := os.Getenv("ZZ_DIR")
	if dir == "" {
		t.Skip()
	}
	store, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	counts := map[string]int{}
	bytes := map[string]int{}
	err = replay.Pages(context.Background(), store, replay.Options{}, func(_ int, evs []eventstore.RecordedEvent) error {
		for i := range evs {
			counts[evs[i].Type]++
			bytes[evs[i].Type] += len(evs[i].Data) + len(evs[i].Metadata)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range counts {
		t.Logf("%-22s %9d %6.0f B/ev", k, v, float64(bytes[k])/float64(v))
	}
}
