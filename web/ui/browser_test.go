package ui_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain/catalog"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/privacy"
	"github.com/continuum-care/continuum/projections"
	"github.com/continuum-care/continuum/web"
	"github.com/continuum-care/continuum/web/ui"
)

// chromiumPath is Debian's chromium, which CI installs.
const chromiumPath = "/usr/bin/chromium"

// artifactsEnv names a directory that also receives the screenshots, so a
// CI run can keep them; they are always written under the test's temp dir.
const artifactsEnv = "CONTINUUM_UI_ARTIFACTS"

// testNow is the server's fixed clock: a Tuesday inside module 2 of the
// default catalog's CBT-for-anxiety cycle, whose entry is closed until
// 2026-11-24, so a join is refused with the domain's own words.
var testNow = time.Date(2026, 11, 10, 15, 0, 0, 0, time.UTC)

// app is the whole application over an in-memory store, served on loopback
// with the embedded UI: real commands, projections, key store, hub.
type app struct {
	url string
	ws  *wsGate
	// users are the app's users by role (see appUsers).
	users *appUsers
}

// wsGate stands between the browser and the websocket endpoint, so a test
// can cut the live connection and keep it down, as a network outage or a
// server restart would.
type wsGate struct {
	next  http.Handler
	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func (g *wsGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ws" {
		g.mu.Lock()
		down := g.down
		g.mu.Unlock()
		if down {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w = &hijackRecorder{ResponseWriter: w, gate: g}
	}
	g.next.ServeHTTP(w, r)
}

// cut closes every websocket connection and refuses new ones until restore.
func (g *wsGate) cut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = true
	for _, c := range g.conns {
		c.Close()
	}
	g.conns = nil
}

// restore accepts websocket connections again.
func (g *wsGate) restore() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = false
}

// hijackRecorder remembers the connections the websocket upgrade takes over.
type hijackRecorder struct {
	http.ResponseWriter
	gate *wsGate
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be hijacked")
	}
	conn, rw, err := hj.Hijack()
	if err == nil {
		h.gate.mu.Lock()
		h.gate.conns = append(h.gate.conns, conn)
		h.gate.mu.Unlock()
	}
	return conn, rw, err
}

func startApp(t *testing.T) *app {
	t.Helper()
	store := memstore.New()
	clock := func() time.Time { return testNow }
	svc := commands.New(store, commands.WithClock(clock))
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	programs, groups := cat.Commands(testNow.Add(-24 * time.Hour))
	if _, err := svc.SeedCatalog(context.Background(), programs, groups); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	runner, err := projections.New(projections.Options{Store: store, Location: time.UTC, Now: clock, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.OpenKeyStore(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	users := newAppUsers(t, store, clock)
	server, err := web.New(web.Config{Commands: svc, Projections: runner, Keys: keys, Users: users.directory, Audit: users.audit,
		Clock: clock, Location: time.UTC, Logger: quiet, UI: ui.Handler()})
	if err != nil {
		t.Fatal(err)
	}
	removeListener := runner.Listen(server.ProjectionsChanged)
	ctx, cancel := context.WithCancel(context.Background())
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	gate := &wsGate{next: server}
	ts := httptest.NewServer(gate)
	t.Cleanup(func() {
		ts.Close()
		server.Close()
		removeListener()
		runner.Stop()
		cancel()
		keys.Close()
		store.Close()
	})
	waitCtx, done := context.WithTimeout(ctx, 10*time.Second)
	defer done()
	if err := runner.WaitReady(waitCtx); err != nil {
		t.Fatalf("projections not ready: %v", err)
	}
	return &app{url: ts.URL, ws: gate, users: users}
}

// post sends a command through the API, as another clinician's browser
// would, and answers its body; it fails the test unless it is accepted.
func (a *app) post(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	status, out := a.send(t, path, body)
	if status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("POST %s: status %d: %v", path, status, out)
	}
	return out
}

// send posts a command with a fresh idempotency key and answers the status
// and the decoded body, accepted or not.
func (a *app) send(t *testing.T, path string, body any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, a.url+path+"?wait=1", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", uuid.NewString())
	req.Header.Set("Authorization", "Bearer "+a.users.tokens[clinicianUser])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return res.StatusCode, out
}

// get runs a query and answers its decoded body.
func (a *app) get(t *testing.T, path string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.users.tokens[clinicianUser])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return out
}

// referred refers a person with the given name and records the intake;
// it answers the patient ID.
func (a *app) referred(t *testing.T, name, recommended string) string {
	t.Helper()
	id, _ := a.post(t, "/api/patients", map[string]any{"source": "access_line", "name": name})["patient"].(string)
	if id == "" {
		t.Fatal("referral answered no patient ID")
	}
	a.post(t, "/api/patients/"+id+"/intake", map[string]any{
		"phq9": 16, "gad7": 12, "recommendedLevel": recommended, "ageYears": 34, "primaryCare": true, "individualTherapy": true,
	})
	return id
}

// admitted refers, assesses and admits a person to program at level.
func (a *app) admitted(t *testing.T, name, program, level string) string {
	t.Helper()
	id := a.referred(t, name, level)
	a.post(t, "/api/patients/"+id+"/admit", map[string]any{"program": program, "level": level})
	return id
}

// residentialHistory gives a person five weeks of residential care to
// show: referral, intake and admission in the past, weekly PHQ-9 and GAD-7
// scores that improve, a group seat and its attendance. It answers the
// patient ID.
func (a *app) residentialHistory(t *testing.T, name string) string {
	t.Helper()
	day := func(n int) string { return testNow.AddDate(0, 0, n).Format(time.RFC3339) }
	id, _ := a.post(t, "/api/patients", map[string]any{"source": "emergency", "name": name, "dateOfBirth": "1988-04-02", "occurredAt": day(-38)})["patient"].(string)
	a.post(t, "/api/patients/"+id+"/intake", map[string]any{
		"phq9": 21, "gad7": 16, "recommendedLevel": "residential", "ageYears": 38, "primaryCare": true, "individualTherapy": true, "occurredAt": day(-37),
	})
	a.post(t, "/api/patients/"+id+"/admit", map[string]any{"program": "residential", "level": "residential", "occurredAt": day(-36)})
	a.post(t, "/api/groups/residential-process/join", map[string]any{"patient": id, "occurredAt": day(-35)})
	for week, scores := range [][2]int{{18, 15}, {15, 12}, {13, 10}, {10, 8}, {8, 6}} {
		at := -29 + 7*week
		a.post(t, "/api/patients/"+id+"/measures", map[string]any{"instrument": "phq9", "score": scores[0], "occurredAt": day(at)})
		a.post(t, "/api/patients/"+id+"/measures", map[string]any{"instrument": "gad7", "score": scores[1], "occurredAt": day(at)})
		session, _ := a.post(t, "/api/groups/residential-process/sessions", map[string]any{"occurredAt": day(at)})["session"].(string)
		status := "present"
		if week == 2 {
			status = "absent"
		}
		a.post(t, "/api/groups/residential-process/sessions/"+session+"/attendance", map[string]any{"patient": id, "status": status})
	}
	return id
}

// The browser is shared by the tests of the package: starting Chromium is
// the slowest part of a test, and each test gets a tab of its own.
var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserErr    error
	browserCancel = func() {}
)

func TestMain(m *testing.M) {
	code := m.Run()
	browserCancel()
	os.Exit(code)
}

func startBrowser() (context.Context, error) {
	browserOnce.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromiumPath),
			chromedp.NoSandbox,
			chromedp.Headless,
			// The machine has no network; without these Chromium keeps
			// trying to reach it.
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-quic", true),
			chromedp.WindowSize(1366, 900),
		)
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelBrowser := chromedp.NewContext(allocCtx)
		browserCancel = func() { cancelBrowser(); cancelAlloc() }
		browserCtx, browserErr = ctx, chromedp.Do(ctx)
	})
	return browserCtx, browserErr
}

// tab opens a browser tab for the test. It skips the test when Chromium is
// not installed, unless it runs in CI, where a missing browser is a
// failure. Uncaught exceptions and Content-Security-Policy violations on
// the page fail the test.
func tab(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI: %v (apt-get install -y chromium)", err)
		}
		t.Skipf("browser tests need Debian's chromium at %s (apt-get install -y chromium): %v", chromiumPath, err)
	}
	parent, err := startBrowser()
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancel := chromedp.NewContext(parent)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				problems = append(problems, m.String())
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("page console: %s", p)
		}
	})
	return ctx
}

// within runs steps with a deadline, failing the test with what was being
// waited for.
func within(t *testing.T, ctx context.Context, d time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("%s: %v\npage at %s:\n%s", what, err, pageURL(ctx), pageText(ctx))
	}
}

// pageText is what the page shows, for failure messages.
func pageText(ctx context.Context) string {
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(c, chromedp.Evaluate[string](`document.body.innerText.slice(0, 3000)`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// pageURL is the page's address, for failure messages.
func pageURL(ctx context.Context) string {
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(c, chromedp.Location())
	if err != nil {
		return "(unknown)"
	}
	return s
}

// until waits for a JavaScript condition on the page.
func until(t *testing.T, ctx context.Context, d time.Duration, what, condition string) {
	t.Helper()
	within(t, ctx, d, what, func(ctx context.Context, target *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](condition, chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(d))(ctx, target)
		return chromedp.Void{}, err
	})
}

// text reads an element's text content.
func text(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(c, chromedp.TextContent(chromedp.CSS(selector)))
	if err != nil {
		t.Fatalf("reading %s: %v", selector, err)
	}
	return strings.TrimSpace(s)
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// screenshot saves the whole page under the test's temp dir (and the
// artifacts directory when set) and fails if it is blank: a page that did
// not render is one colour, a rendered one has text, bars and charts.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// From the top, so the sticky header is where a person sees it.
	if _, err := chromedp.Run(c, chromedp.Evaluate[bool](`window.scrollTo(0, 0), true`)); err != nil {
		t.Fatalf("scrolling up for %s: %v", name, err)
	}
	shot, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dirs := []string{t.TempDir()}
	if d := os.Getenv(artifactsEnv); d != "" {
		dirs = append(dirs, d)
	}
	for _, dir := range dirs {
		if err := os.WriteFile(filepath.Join(dir, name+".png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	if n := distinctColours(img, 64); n < 64 {
		t.Errorf("screenshot %s looks blank: %d distinct colours", name, n)
	}
}

// distinctColours counts the colours of img, stopping at limit.
func distinctColours(img image.Image, limit int) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

func TestCensusBoardUpdatesLiveWithoutReload(t *testing.T) {
	a := startApp(t)
	ctx := a.signedInTab(t, directorUser)
	within(t, ctx, 15*time.Second, "opening the census",
		chromedp.Navigate(a.url+"/#/census"),
		chromedp.WaitVisible(chromedp.CSS("#census-level-residential")))
	until(t, ctx, 5*time.Second, "the live indicator says connected", `document.querySelector('#live-status').dataset.status === 'connected'`)
	if got := text(t, ctx, "#census-level-residential"); got != "0" {
		t.Fatalf("residential count before any admission: %q, want 0", got)
	}
	// A reload would drop this marker.
	within(t, ctx, 5*time.Second, "marking the page", func(ctx context.Context, target *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`window.__sameDocument = true`)(ctx, target)
		return chromedp.Void{}, err
	})

	const name = "Margarethe Okonkwo-Lindqvist"
	id := a.admitted(t, name, "residential", "residential")

	// The admission has been projected when the API answers (?wait=1);
	// from here the board must show it within a second, pushed over the
	// websocket.
	until(t, ctx, time.Second, "the residential count shows the admission", `document.querySelector('#census-level-residential').textContent === '1'`)
	until(t, ctx, time.Second, "today's admissions show it", `document.querySelector('#census-admissions-today').textContent === '1'`)
	until(t, ctx, time.Second, "the page was not reloaded", `window.__sameDocument === true`)
	if got := text(t, ctx, "#live-time"); !strings.HasPrefix(got, "Updated ") {
		t.Errorf("live indicator time %q, want the last update's time", got)
	}

	// The director's board never shows who: no name, no identifier.
	page := text(t, ctx, "body")
	for _, secret := range []string{"Margarethe", "Okonkwo", id} {
		if strings.Contains(page, secret) {
			t.Errorf("the census board shows %q", secret)
		}
	}
	screenshot(t, ctx, "census")

	// Wall mode on a 1080p board: large type, every level in one row.
	within(t, ctx, 5*time.Second, "switching to wall mode on a 1080p screen",
		chromedp.EmulateViewport(1920, 1080),
		chromedp.Click(chromedp.CSS("#wall-toggle")))
	until(t, ctx, 2*time.Second, "wall mode is on", `document.documentElement.classList.contains('wall') && document.querySelector('#wall-toggle').getAttribute('aria-pressed') === 'true'`)
	until(t, ctx, 2*time.Second, "the five levels share one row", `new Set([...document.querySelectorAll('.level-card')].map((c) => c.getBoundingClientRect().top)).size === 1`)
	screenshot(t, ctx, "census-wall")
	within(t, ctx, 5*time.Second, "switching wall mode off",
		chromedp.Click(chromedp.CSS("#wall-toggle")),
		chromedp.ResetViewport())
}

func TestCensusReconnectsWithoutLosingChanges(t *testing.T) {
	a := startApp(t)
	ctx := a.signedInTab(t, directorUser)
	within(t, ctx, 15*time.Second, "opening the census",
		chromedp.Navigate(a.url+"/#/census"),
		chromedp.WaitVisible(chromedp.CSS("#census-level-iop")))
	until(t, ctx, 5*time.Second, "the live indicator says connected", `document.querySelector('#live-status').dataset.status === 'connected'`)
	a.admitted(t, "Rosalind Achterberg", "iop-morning", "iop")
	until(t, ctx, time.Second, "the first admission shows", `document.querySelector('#census-level-iop').textContent === '1'`)

	a.ws.cut()
	until(t, ctx, 5*time.Second, "the indicator says reconnecting", `document.querySelector('#live-status').dataset.status === 'reconnecting' && document.querySelector('#live-text').textContent === 'Reconnecting…'`)
	// Changes made while the board is cut off must reach it on reconnect.
	a.admitted(t, "Casimir Oyelaran", "iop-evening", "iop")
	if got := text(t, ctx, "#census-level-iop"); got != "1" {
		t.Fatalf("the board changed while cut off: %q", got)
	}
	a.ws.restore()
	// The backoff starts at half a second and doubles per failed attempt.
	until(t, ctx, 10*time.Second, "the board reconnects", `document.querySelector('#live-status').dataset.status === 'connected'`)
	until(t, ctx, 2*time.Second, "the missed admission shows", `document.querySelector('#census-level-iop').textContent === '2'`)
}

func TestJourneyStepDownShowsOnTimeline(t *testing.T) {
	a := startApp(t)
	ctx := a.signedInTab(t, clinicianUser)
	const name = "Tomasz Abernathy-Reyes"
	id := a.residentialHistory(t, name)

	within(t, ctx, 15*time.Second, "opening the journey",
		chromedp.Navigate(a.url+"/#/patients/"+id),
		chromedp.WaitVisible(chromedp.CSS("svg.swimlanes")))
	until(t, ctx, 5*time.Second, "the journey shows the name", `document.querySelector('h1').textContent === `+jsString(name))
	until(t, ctx, 5*time.Second, "the journey shows the residential stay", `document.querySelectorAll('svg.swimlanes rect.segment.lvl-residential').length === 1`)
	until(t, ctx, 5*time.Second, "the measure chart shows the baseline and the scores", `document.querySelectorAll('svg.measure-chart circle.point-phq9').length === 6`)
	until(t, ctx, 5*time.Second, "the group lane shows the attendance", `document.querySelectorAll('svg.swimlanes circle.attendance').length === 5`)

	within(t, ctx, 10*time.Second, "filling in the step-down form",
		chromedp.Click(chromedp.CSS("#action-step-down")),
		chromedp.WaitVisible(chromedp.CSS("#form-step-down-program")),
		chromedp.SetValue(chromedp.CSS("#form-step-down-program"), "php"),
		chromedp.Click(chromedp.CSS(`#form-step-down button[type="submit"]`)))
	until(t, ctx, 5*time.Second, "the form confirms the step-down", `document.querySelector('#form-step-down-status').classList.contains('is-success')`)
	if got := text(t, ctx, "#form-step-down-status"); !strings.Contains(got, "Stepped down to PHP") {
		t.Errorf("step-down status %q, want it to say where to", got)
	}
	until(t, ctx, 2*time.Second, "the timeline lists the step-down", `!!document.querySelector('.timeline [data-type="SteppedDown"]')`)
	until(t, ctx, 2*time.Second, "the swimlanes show the PHP stay", `document.querySelectorAll('svg.swimlanes rect.segment.lvl-php').length === 1`)
	if got := text(t, ctx, `.timeline [data-type="SteppedDown"] .timeline-text`); !strings.Contains(got, "from Residential to PHP") {
		t.Errorf("timeline entry %q, want the levels named", got)
	}
	journey := a.get(t, "/api/patients/"+id)["journey"].(map[string]any)
	if journey["level"] != "php" {
		t.Errorf("the API shows level %v after the form's step-down, want php", journey["level"])
	}
	screenshot(t, ctx, "journey")
}

func TestRefusedCommandShowsTheDomainsMessage(t *testing.T) {
	a := startApp(t)
	ctx := a.signedInTab(t, clinicianUser)
	id := a.admitted(t, "Ilse Varga-Nakamura", "group-center", "outpatient")

	within(t, ctx, 15*time.Second, "opening the join form",
		chromedp.Navigate(a.url+"/#/patients/"+id),
		chromedp.WaitVisible(chromedp.CSS("#action-join")),
		chromedp.Click(chromedp.CSS("#action-join")),
		chromedp.WaitVisible(chromedp.CSS("#form-join-group")),
		chromedp.SetValue(chromedp.CSS("#form-join-group"), "cbt-anxiety"),
		chromedp.Click(chromedp.CSS(`#form-join button[type="submit"]`)))
	until(t, ctx, 5*time.Second, "the form shows the refusal", `document.querySelector('#form-join-status').classList.contains('is-error')`)
	got := text(t, ctx, "#form-join-status")
	// The same command sent directly: the page must show the API's own words.
	status, refusal := a.send(t, "/api/groups/cbt-anxiety/join", map[string]any{"patient": id, "waitlistIfFull": true})
	message, _ := refusal["error"].(map[string]any)["message"].(string)
	if status != http.StatusUnprocessableEntity || !strings.Contains(message, "admits new members only at the start of a module: next start 2026-11-24") {
		t.Fatalf("the API's refusal is %d %q, not the module-start rule this test is about", status, message)
	}
	if want := "Not recorded: " + message; got != want {
		t.Errorf("refusal shown as %q, want %q", got, want)
	}
	live, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#form-join-status"), "aria-live"))
	if err != nil || live.Value != "polite" {
		t.Errorf("the refusal's region is not a live region: aria-live %q, %v", live.Value, err)
	}
	journey := a.get(t, "/api/patients/"+id)["journey"].(map[string]any)
	if groups := journey["groups"].([]any); len(groups) != 0 {
		t.Errorf("a refused join left group facts: %v", groups)
	}
	screenshot(t, ctx, "refusal")
}

func TestClinicianPagesSearchRosterAndReferral(t *testing.T) {
	a := startApp(t)
	ctx := a.signedInTab(t, clinicianUser)
	searched := a.admitted(t, "Wilhelmina Castellanos", "group-center", "outpatient")
	other := a.admitted(t, "Bartholomew Quist", "group-center", "outpatient")
	for _, id := range []string{searched, other} {
		a.post(t, "/api/groups/psychodynamic-1/join", map[string]any{"patient": id})
	}

	t.Run("search finds by name and opens the journey", func(t *testing.T) {
		within(t, ctx, 15*time.Second, "opening the patient list",
			chromedp.Navigate(a.url+"/#/patients"),
			chromedp.WaitVisible(chromedp.CSS("#q")))
		until(t, ctx, 5*time.Second, "both people are listed", `document.querySelectorAll('table.patients tbody tr').length === 2`)
		within(t, ctx, 5*time.Second, "typing a name", chromedp.SendKeys(chromedp.CSS("#q"), "castell"))
		until(t, ctx, 5*time.Second, "the search keeps one person", `document.querySelectorAll('table.patients tbody tr').length === 1 && document.querySelector('table.patients tbody a').textContent === 'Wilhelmina Castellanos'`)
		screenshot(t, ctx, "patients")
		within(t, ctx, 5*time.Second, "opening the row", chromedp.Click(chromedp.CSS("table.patients tbody a")))
		until(t, ctx, 5*time.Second, "the journey opens", `location.hash === '#/patients/`+searched+`' && document.querySelector('h1').textContent === 'Wilhelmina Castellanos'`)
	})

	t.Run("roster records attendance for a new session", func(t *testing.T) {
		within(t, ctx, 15*time.Second, "opening the roster",
			chromedp.Navigate(a.url+"/#/groups/psychodynamic-1"),
			chromedp.WaitVisible(chromedp.CSS("#form-attendance")))
		until(t, ctx, 5*time.Second, "the roster lists both members", `document.querySelectorAll('table.roster tbody tr').length === 2`)
		within(t, ctx, 5*time.Second, "marking one member absent and saving",
			chromedp.Click(chromedp.CSS(`#form-attendance fieldset[data-patient="`+other+`"] input[value="absent"]`)),
			chromedp.Click(chromedp.CSS(`#form-attendance button[type="submit"]`)))
		until(t, ctx, 5*time.Second, "attendance is saved", `document.querySelector('#form-attendance-status').classList.contains('is-success')`)
		until(t, ctx, 5*time.Second, "the roster shows the attendance live", `[...document.querySelectorAll('table.roster tbody td')].some((td) => td.textContent.startsWith('0 % (0 present, 1 absent'))`)
		screenshot(t, ctx, "roster")
		roster := a.get(t, "/api/groups/psychodynamic-1")
		if roster["sessionsHeld"] != float64(1) {
			t.Errorf("sessions held %v after one attendance entry, want 1", roster["sessionsHeld"])
		}
	})

	t.Run("referral with intake opens the new journey", func(t *testing.T) {
		within(t, ctx, 15*time.Second, "filling in the referral",
			chromedp.Navigate(a.url+"/#/patients/new"),
			chromedp.WaitVisible(chromedp.CSS("#form-referral-name")),
			chromedp.SendKeys(chromedp.CSS("#form-referral-name"), "Oluwaseun Haraldsdottir"),
			chromedp.SetValue(chromedp.CSS("#form-referral-source"), "primary_care"),
			chromedp.SendKeys(chromedp.CSS("#form-referral-phq9"), "18"),
			chromedp.SendKeys(chromedp.CSS("#form-referral-gad7"), "13"),
			chromedp.SetValue(chromedp.CSS("#form-referral-recommendedLevel"), "iop"),
			chromedp.SendKeys(chromedp.CSS("#form-referral-ageYears"), "41"))
		screenshot(t, ctx, "referral")
		within(t, ctx, 5*time.Second, "submitting the referral", chromedp.Click(chromedp.CSS(`#form-referral button[type="submit"]`)))
		until(t, ctx, 5*time.Second, "the new journey opens", `location.hash.startsWith('#/patients/') && document.querySelector('h1').textContent === 'Oluwaseun Haraldsdottir'`)
		until(t, ctx, 5*time.Second, "the intake is on the timeline", `!!document.querySelector('.timeline [data-type="IntakeCompleted"]')`)
		until(t, ctx, 5*time.Second, "admission is offered", `!!document.querySelector('#action-admit')`)
	})

	t.Run("an address that is not an ID is no page", func(t *testing.T) {
		within(t, ctx, 15*time.Second, "opening a crafted address",
			chromedp.Navigate(a.url+"/#/patients/..%2Fgroups%2Fcbt-anxiety"),
			chromedp.WaitVisible(chromedp.CSS("h1")))
		until(t, ctx, 5*time.Second, "the page says not found", `document.querySelector('h1').textContent === 'Page not found'`)
	})

	t.Run("groups index links to rosters", func(t *testing.T) {
		within(t, ctx, 15*time.Second, "opening the groups",
			chromedp.Navigate(a.url+"/#/groups"),
			chromedp.WaitVisible(chromedp.CSS(`.group-bar[data-group="psychodynamic-1"] a`)))
		if got := text(t, ctx, `.group-bar[data-group="psychodynamic-1"] .group-seats`); got != "2/8" {
			t.Errorf("psychodynamic-1 seats %q, want 2/8", got)
		}
		screenshot(t, ctx, "groups")
	})
}
