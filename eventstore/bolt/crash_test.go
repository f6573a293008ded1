package bolt_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
)

// crashDirEnv switches TestCrashChild on and names its data directory.
const crashDirEnv = "CONTINUUM_BOLT_CRASH_DIR"

const (
	crashRounds = 24
	// crashBudget stops the rounds early on a slow machine, once at least
	// crashMinRounds have run.
	crashBudget         = 20 * time.Second
	crashMinRounds      = 8
	crashWriters        = 6
	crashStreamsPerUser = 3
)

// crashPayload is the data of every event the crash child writes: enough to
// check, after a crash, that an event is whole and where its append put it.
type crashPayload struct {
	ID uuid.UUID `json:"id"`
	// Index and Count place the event in its append, so the check can tell
	// that no append is torn in its stream or in $all.
	Index int    `json:"i"`
	Count int    `json:"n"`
	Pad   string `json:"pad"`
}

// TestCrash kills a writing process with SIGKILL at random moments, many
// times over one data directory, and checks after each kill that every
// acknowledged append survived whole, in order, with no gaps and nothing torn.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary many times")
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	acked := make(map[string]map[uint64]uuid.UUID)
	total, rounds := 0, 0
	deadline := time.Now().Add(crashBudget)
	for round := 0; round < crashRounds && (round < crashMinRounds || time.Now().Before(deadline)); round++ {
		// Most kills land while appends are in flight; some land while the
		// child is still opening (recovering) the store.
		var killAfter time.Duration
		waitReady := round%5 != 4
		if waitReady {
			killAfter = time.Duration(rng.IntN(120)) * time.Millisecond
		} else {
			killAfter = time.Duration(rng.IntN(40)) * time.Millisecond
		}
		lines := runCrashChild(t, dir, waitReady, killAfter)
		n := recordAcks(t, lines, acked)
		total += n
		verifyAfterCrash(t, dir, acked)
		rounds++
	}
	t.Logf("%d rounds, %d acknowledged events", rounds, total)
	if total == 0 {
		t.Fatal("the child never acknowledged an append: the crash test tested nothing")
	}
}

// runCrashChild starts the child, kills it, and returns its complete output lines.
func runCrashChild(t *testing.T, dir string, waitReady bool, killAfter time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	var out bytes.Buffer
	ready := make(chan struct{})
	copied := make(chan error, 1)
	go func() {
		var once sync.Once
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadBytes('\n')
			out.Write(line)
			if bytes.Equal(line, []byte("READY\n")) {
				once.Do(func() { close(ready) })
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				copied <- err
				return
			}
		}
	}()
	if waitReady {
		select {
		case <-ready:
		case err := <-copied:
			t.Fatalf("child ended before it was ready (%v): %s", err, stderr.String())
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("child not ready within 30s: %s", stderr.String())
		}
	}
	time.Sleep(killAfter)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	if err := <-copied; err != nil {
		t.Fatalf("read child output: %v", err)
	}
	_ = cmd.Wait()
	if strings.Contains(out.String(), "FAIL") || strings.Contains(stderr.String(), "panic") {
		t.Fatalf("child failed:\n%s\n%s", out.String(), stderr.String())
	}
	// A line cut short by the kill was never acknowledged: drop it.
	text := out.String()
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	} else {
		text = ""
	}
	return strings.Split(text, "\n")
}

// recordAcks adds the child's acknowledged appends to acked and returns how many events they hold.
func recordAcks(t *testing.T, lines []string, acked map[string]map[uint64]uuid.UUID) int {
	t.Helper()
	n := 0
	for _, line := range lines {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "ACK" {
			continue
		}
		if len(fields) != 4 {
			t.Fatalf("malformed ack line %q", line)
		}
		stream := fields[1]
		first, err := strconv.ParseUint(fields[2], 10, 64)
		if err != nil {
			t.Fatalf("ack line %q: %v", line, err)
		}
		if acked[stream] == nil {
			acked[stream] = make(map[uint64]uuid.UUID)
		}
		for i, s := range strings.Split(fields[3], ",") {
			id, err := uuid.Parse(s)
			if err != nil {
				t.Fatalf("ack line %q: %v", line, err)
			}
			acked[stream][first+uint64(i)] = id
			n++
		}
	}
	return n
}

// verifyAfterCrash opens the store the child was killed in and checks it.
func verifyAfterCrash(t *testing.T, dir string, acked map[string]map[uint64]uuid.UUID) {
	t.Helper()
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	all, err := s.ReadAll(ctx, eventstore.ReadAllOptions{From: eventstore.Start})
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	byStream := make(map[string][]eventstore.RecordedEvent)
	for i, e := range all {
		if i > 0 && !all[i-1].Position.Less(e.Position) {
			t.Fatalf("$all position %s follows %s", e.Position, all[i-1].Position)
		}
		p := checkCrashEvent(t, e)
		// An append's events are contiguous in $all and whole.
		if p.Index > 0 && (i == 0 || all[i-1].Stream != e.Stream || checkCrashEvent(t, all[i-1]).Index != p.Index-1) {
			t.Fatalf("event %d of an append of %d in %s at %s does not follow its predecessor in $all", p.Index, p.Count, e.Stream, e.Position)
		}
		if p.Index < p.Count-1 && (i+1 == len(all) || all[i+1].Stream != e.Stream) {
			t.Fatalf("append of %d in %s torn after event %d at %s", p.Count, e.Stream, p.Index, e.Position)
		}
		if want := uint64(len(byStream[e.Stream])); e.Revision != want {
			t.Fatalf("%s: revision %d where %d was due: a gap", e.Stream, e.Revision, want)
		}
		byStream[e.Stream] = append(byStream[e.Stream], e)
	}
	for stream, revisions := range acked {
		events := byStream[stream]
		for revision, id := range revisions {
			if revision >= uint64(len(events)) || events[revision].ID != id {
				t.Fatalf("%s: acknowledged event %s at revision %d lost (stream holds %d events)", stream, id, revision, len(events))
			}
		}
		read, err := s.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatalf("ReadStream %s: %v", stream, err)
		}
		if len(read) != len(events) {
			t.Fatalf("%s: stream read gives %d events, $all %d", stream, len(read), len(events))
		}
		for i := range read {
			if read[i].ID != events[i].ID || read[i].Position != events[i].Position {
				t.Fatalf("%s revision %d: stream read and $all disagree", stream, i)
			}
		}
	}
}

func checkCrashEvent(t *testing.T, e eventstore.RecordedEvent) crashPayload {
	t.Helper()
	sum := sha256.Sum256(e.Data)
	if string(e.Metadata) != hex.EncodeToString(sum[:]) {
		t.Fatalf("%s revision %d: data does not match its checksum: torn or corrupt", e.Stream, e.Revision)
	}
	var p crashPayload
	if err := json.Unmarshal(e.Data, &p); err != nil {
		t.Fatalf("%s revision %d: %v", e.Stream, e.Revision, err)
	}
	if p.ID != e.ID || p.Index >= p.Count {
		t.Fatalf("%s revision %d: payload %+v does not belong to event %s", e.Stream, e.Revision, p, e.ID)
	}
	return p
}

// TestCrashChild is TestCrash's child process: it appends under load and
// prints each acknowledged append until it is killed. In a normal test run
// it is skipped.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("runs only as TestCrash's child process")
	}
	// Should the parent die first, do not linger.
	time.AfterFunc(60*time.Second, func() { os.Exit(2) })
	s, err := bolt.Open(dir, bolt.Options{LockTimeout: 10 * time.Second})
	if err != nil {
		fmt.Printf("FAIL open: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("READY")
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() { crashWriter(s, w) })
	}
	wg.Wait()
}

func crashWriter(s *bolt.Store, writer int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(writer), uint64(time.Now().UnixNano())))
	streams := make([]string, crashStreamsPerUser)
	next := make([]uint64, crashStreamsPerUser)
	for i := range streams {
		streams[i] = fmt.Sprintf("crash-%d-%d", writer, i)
		last, err := s.ReadStream(ctx, streams[i], eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd, Max: 1})
		switch {
		case errors.Is(err, eventstore.ErrStreamNotFound):
		case err != nil:
			fmt.Printf("FAIL read: %v\n", err)
			os.Exit(1)
		default:
			next[i] = last[0].Revision + 1
		}
	}
	for {
		i := rng.IntN(len(streams))
		count := 1 + rng.IntN(4)
		events := make([]eventstore.EventData, count)
		ids := make([]string, count)
		for k := range events {
			id := uuid.New()
			// Some events span several pages, to exercise bbolt's overflow pages.
			pad := strings.Repeat("x", rng.IntN(64)+rng.IntN(2)*rng.IntN(9000))
			data, _ := json.Marshal(crashPayload{ID: id, Index: k, Count: count, Pad: pad})
			sum := sha256.Sum256(data)
			events[k] = eventstore.EventData{ID: id, Type: "CrashTested", Data: data, Metadata: []byte(hex.EncodeToString(sum[:]))}
			ids[k] = id.String()
		}
		expected := eventstore.NoStream
		if next[i] > 0 {
			expected = eventstore.Exact(next[i] - 1)
		}
		if _, err := s.Append(ctx, streams[i], expected, events...); err != nil {
			fmt.Printf("FAIL append: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("ACK %s %d %s\n", streams[i], next[i], strings.Join(ids, ","))
		next[i] += uint64(count)
	}
}
