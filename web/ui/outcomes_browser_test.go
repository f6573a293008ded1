package ui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/projections/outcomes"
	"github.com/continuum-care/continuum/web/ui"
)

// analystApp serves the UI and GET /api/outcomes over a store holding a
// small history recorded through the command service: four people, one of
// them readmitted, one still in care. It answers the server's URL and the
// patient IDs, which the analyst page must never show.
func analystApp(t *testing.T) (string, []domain.PatientID) {
	t.Helper()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	svc := commands.New(store, commands.WithClock(func() time.Time { return testNow }))
	day := func(n int) time.Time { return testNow.AddDate(0, 0, n) }
	var ids []domain.PatientID
	do := func(c domain.PatientCommand) {
		t.Helper()
		if _, err := svc.Patient(context.Background(), commands.Meta{IdempotencyKey: uuid.NewString()}, c); err != nil {
			t.Fatalf("%T: %v", c, err)
		}
	}
	for i, stay := range []struct {
		level  domain.Level
		phq9   int
		reason domain.DischargeReason
		days   int
	}{
		{domain.PHP, 18, domain.DischargeCompleted, 40},
		{domain.IOP, 12, domain.DischargeDroppedOut, 12},
		{domain.Residential, 22, domain.DischargeCompleted, 30},
		{domain.IOP, 9, 0, 0},
	} {
		id := domain.PatientID(uuid.NewString())
		ids = append(ids, id)
		start := -120 + 10*i
		do(domain.Refer{Patient: id, Source: domain.SourceSelf, At: day(start - 2)})
		do(domain.CompleteIntake{Patient: id, PHQ9: stay.phq9, GAD7: 10, RecommendedLevel: stay.level, AgeYears: 30, At: day(start - 1)})
		do(domain.Admit{Patient: id, Program: "day-program", Level: stay.level, At: day(start)})
		if stay.reason == 0 {
			continue // still in care
		}
		if stay.level == domain.PHP {
			do(domain.StepDown{Patient: id, To: domain.IOP, Program: "day-program", At: day(start + 20)})
		}
		do(domain.RecordMeasure{Patient: id, Instrument: domain.PHQ9, Score: stay.phq9 / 3, At: day(start + stay.days - 1)})
		do(domain.Discharge{Patient: id, Reason: stay.reason, At: day(start + stay.days)})
	}
	do(domain.Readmit{Patient: ids[1], Program: "day-program", Level: domain.PHP, At: day(-80)})

	mux := http.NewServeMux()
	mux.Handle("GET /api/outcomes", outcomes.Handler(store, time.UTC))
	mux.Handle("/", ui.Handler())
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)
	return server.URL, ids
}

func TestAnalystPageShowsOutcomes(t *testing.T) {
	url, ids := analystApp(t)
	ctx := tab(t)
	within(t, ctx, 15*time.Second, "opening the analyst page from the navigation",
		chromedp.Navigate(url+"/#/census"),
		chromedp.Click(chromedp.CSS(`a[data-nav="outcomes"]`)),
		chromedp.WaitVisible(chromedp.CSS(".kpis")))
	until(t, ctx, 2*time.Second, "the navigation marks the page", `document.querySelector('a[data-nav="outcomes"]').getAttribute('aria-current') === 'page'`)
	// Five episodes (one readmission), one of each still open.
	if got := text(t, ctx, ".kpi:first-child .kpi-value"); got != "5" {
		t.Errorf("episodes %q, want 5", got)
	}
	for _, chart := range []string{
		`svg[aria-label^="Transitions between levels"]`,
		`svg[aria-label^="Length of stay at PHP"]`,
		`svg[aria-label^="Mean scores by week since admission"]`,
	} {
		until(t, ctx, time.Second, "the page draws "+chart, `document.querySelector(`+jsString(chart)+`) !== null`)
	}
	page := text(t, ctx, "body")
	for _, id := range ids {
		if strings.Contains(page, string(id)) {
			t.Errorf("the analyst page shows a patient ID")
		}
	}
	screenshot(t, ctx, "outcomes")

	// As of a date before the last two admissions: the page replays again
	// and says so.
	asOf := testNow.AddDate(0, 0, -95).Format(time.DateOnly)
	within(t, ctx, 5*time.Second, "replaying as of an earlier date",
		chromedp.SetValue(chromedp.CSS("#outcomes-as_of"), asOf),
		chromedp.Click(chromedp.CSS(`.outcome-filters button[type="submit"]`)))
	until(t, ctx, 5*time.Second, "the page shows the as-of replay", `document.querySelector('.outcome-meta')?.textContent.includes('as known on')`)
	if got := text(t, ctx, ".kpi:first-child .kpi-value"); got != "3" {
		t.Errorf("episodes as of %s: %q, want 3", asOf, got)
	}
	if loc := pageURL(ctx); !strings.Contains(loc, "#/outcomes?as_of="+asOf) {
		t.Errorf("address %s, want the as-of date in the route so it can be shared", loc)
	}
}
