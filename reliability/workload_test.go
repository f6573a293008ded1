package reliability

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/web"
)

// journeyStep is one command of a person's way through the continuum.
type journeyStep struct {
	name string
	// path and body build the request for the person referred first.
	path func(patient string) string
	body func(patient string, worker int) any
}

// journey walks a person from referral to discharge: intake, admission to
// PHP, a PHQ-9, a PHP group, a step-down to evening IOP and its group, a
// GAD-7, discharge (whose seat releases the server then appends on its
// own). Joins waitlist when the group is full, so a crowded run still
// succeeds; every other refusal abandons the journey.
var journey = []journeyStep{
	{name: "refer", path: func(string) string { return "/api/patients" }, body: func(_ string, worker int) any {
		if worker%2 == 0 {
			return map[string]any{"source": "self"} // de-identified
		}
		// Sealed under a per-person key in the key store, so the kills
		// also land on key-store writes.
		return map[string]any{"source": "self", "name": fmt.Sprintf("Reliability Person %d", worker)}
	}},
	{name: "intake", path: patientPath("intake"), body: func(string, int) any {
		return map[string]any{"phq9": 16, "gad7": 12, "recommendedLevel": "php", "primaryCare": true, "individualTherapy": true, "ageYears": 34}
	}},
	{name: "admit", path: patientPath("admit"), body: func(string, int) any {
		return map[string]any{"program": "php", "level": "php"}
	}},
	{name: "measure", path: patientPath("measures"), body: func(string, int) any {
		return map[string]any{"instrument": "phq9", "score": 14}
	}},
	{name: "join", path: groupPath("php-process"), body: member},
	{name: "step-down", path: patientPath("step-down"), body: func(string, int) any {
		return map[string]any{"to": "iop", "program": "iop-evening"}
	}},
	{name: "join", path: groupPath("iop-evening-process"), body: member},
	{name: "measure", path: patientPath("measures"), body: func(string, int) any {
		return map[string]any{"instrument": "gad7", "score": 8}
	}},
	{name: "discharge", path: patientPath("discharge"), body: func(string, int) any {
		return map[string]any{"reason": "completed"}
	}},
}

func patientPath(action string) func(string) string {
	return func(patient string) string { return "/api/patients/" + patient + "/" + action }
}

func groupPath(group string) func(string) string {
	return func(string) string { return "/api/groups/" + group + "/join" }
}

func member(patient string, _ int) any {
	return map[string]any{"patient": patient, "waitlistIfFull": true}
}

// transportError is the outcome of a request that got no answer.
const transportError = "transport error"

// ack is an acknowledged command: the server answered 2xx, so its events
// must be in the log for good.
type ack struct {
	step     string
	stream   string
	revision uint64
	position eventstore.Position
	// lastType is the type of the command's last event.
	lastType string
}

// workload drives journeys over HTTP from several workers until its
// context ends, recording every acknowledged command and every outcome.
type workload struct {
	api *apiClient
	wg  sync.WaitGroup

	mu       sync.Mutex
	acks     []ack
	outcomes map[string]int
	// slowest is the longest a request took to be answered (or to fail).
	slowest time.Duration
	// bad lists answers that break the API's contract: a status other
	// than 2xx, 4xx or 503, a refusal without the error JSON, a 2xx
	// without events.
	bad []string
}

// startWorkload starts workers that run journeys until ctx ends.
func startWorkload(ctx context.Context, api *apiClient, workers int) *workload {
	w := &workload{api: api, outcomes: map[string]int{}}
	for i := range workers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for ctx.Err() == nil {
				w.runJourney(ctx, i)
			}
		}()
	}
	return w
}

// runJourney walks one person as far as the server lets it.
func (w *workload) runJourney(ctx context.Context, worker int) {
	patient := ""
	for _, step := range journey {
		started := time.Now()
		r, a, err := w.api.command(ctx, step.path(patient), step.body(patient, worker))
		took := time.Since(started)
		if ctx.Err() != nil {
			return // the test ended the load: this answer may be cut short
		}
		w.record(step.name, r, a, err, took)
		if err != nil || r.status/100 != 2 {
			// The server is gone or refused: back off a little so a dead
			// or cut-off server is not hammered by a tight loop.
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
			return
		}
		if step.name == "refer" {
			patient = a.Patient
		}
	}
}

// record counts one answer and keeps it if it acknowledged a command.
func (w *workload) record(step string, r response, a commandAnswer, err error, took time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.slowest = max(w.slowest, took)
	if err != nil {
		w.outcomes[transportError]++
		return
	}
	w.outcomes[fmt.Sprintf("%s %d", step, r.status)]++
	switch {
	case r.status/100 == 2:
		pos, perr := web.ParsePosition(a.Position)
		if perr != nil || len(a.Events) == 0 || a.Stream == "" {
			w.bad = append(w.bad, fmt.Sprintf("%s: 2xx answer without stream, position or events: %s", step, r.body))
			return
		}
		w.acks = append(w.acks, ack{step: step, stream: a.Stream, revision: a.Revision, position: pos, lastType: a.Events[len(a.Events)-1]})
	case r.status/100 == 4 || r.status == http.StatusServiceUnavailable:
		if e, ok := r.refusal(); !ok || e.Code == "" || e.Message == "" {
			w.bad = append(w.bad, fmt.Sprintf("%s: status %d without a coded error: %s", step, r.status, r.body))
		}
	default:
		w.bad = append(w.bad, fmt.Sprintf("%s: status %d: %s", step, r.status, r.body))
	}
}

// stop waits for the workers (their context must have ended) and fails
// the test on any answer that broke the API's contract.
func (w *workload) stop(t testing.TB) []ack {
	t.Helper()
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, b := range w.bad {
		if i == 5 {
			t.Errorf("... and %d more bad answers", len(w.bad)-i)
			break
		}
		t.Error(b)
	}
	return slices.Clone(w.acks)
}

// acksSoFar returns the commands acknowledged until now.
func (w *workload) acksSoFar() []ack {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.acks)
}

// requests counts the requests answered (or failed) until now.
func (w *workload) requests() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, c := range w.outcomes {
		n += c
	}
	return n
}

// slowestAnswer is the longest any request took to be answered or to fail.
func (w *workload) slowestAnswer() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.slowest
}

// unanswered counts the requests that got no answer: the connection
// failed or the request deadline passed.
func (w *workload) unanswered() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.outcomes[transportError]
}

// summary lists the outcomes, for the test's log.
func (w *workload) summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	keys := make([]string, 0, len(w.outcomes))
	for k := range w.outcomes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, w.outcomes[k])
	}
	return strings.Join(parts, ", ")
}
