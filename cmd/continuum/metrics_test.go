package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Files of the deployment kit the metrics test checks against the code.
const (
	dashboardFile  = "../../ops/deploy/grafana/provisioning/dashboards/continuum.json"
	alertRulesFile = "../../ops/deploy/alerts.yml"
)

// postCommand sends a command with a fresh idempotency key, waiting for
// the projections, and returns the status and decoded answer.
func postCommand(t *testing.T, base, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path+"?wait=1", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", uuid.NewString())
	authorize(t, req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return resp.StatusCode, answer
}

// refer refers a person through the API and returns their patient ID.
func refer(t *testing.T, base, name string) string {
	t.Helper()
	status, answer := postCommand(t, base, "/api/patients", `{"source":"self","name":"`+name+`"}`)
	id, _ := answer["patient"].(string)
	if status != http.StatusCreated || id == "" {
		t.Fatalf("referral: status %d: %v", status, answer)
	}
	return id
}

// scrape fetches /metrics and returns its text and parsed families.
func scrape(t *testing.T, base string) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d, %v", resp.StatusCode, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return string(raw), families
}

// sample finds the series of a family whose labels include want, and
// returns its value (a histogram's sample count).
func sample(families map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := families[name]
	if !ok {
		return 0, false
	}
series:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue series
			}
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetricsEndpoint runs the application, uses it (a referral, a refused
// command, a query, a websocket), then scrapes /metrics as Prometheus
// would: the series are there with closed-set labels, nothing in the
// output identifies the person, and every metric the dashboard and the
// alert rules query is one the application exports.
func TestMetricsEndpoint(t *testing.T) {
	base, _, _ := startMain(t, t.TempDir())
	waitReady(t, base)
	const name = "Marisol Metricsworth"
	id := refer(t, base, name)
	if status, answer := postCommand(t, base, "/api/patients/"+id+"/admit", `{"program":"php","level":"php"}`); status != http.StatusUnprocessableEntity {
		t.Fatalf("admission without intake: status %d: %v", status, answer)
	}
	if status := getJSON(t, base+"/api/patients/"+id, nil); status != http.StatusOK {
		t.Fatalf("patient page: status %d", status)
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws",
		http.Header{"Authorization": {"Bearer " + credentialsFor(t, base).clinicianToken}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitReady(t, base)

	raw, families := scrape(t, base)
	tests := []struct {
		name    string
		metric  string
		labels  map[string]string
		atLeast float64
	}{
		{name: "requests by route pattern and status", metric: "continuum_http_requests_total", labels: map[string]string{"route": "POST /api/patients", "code": "201"}, atLeast: 1},
		{name: "patient reads by pattern, not path", metric: "continuum_http_requests_total", labels: map[string]string{"route": "GET /api/patients/{id}", "code": "200"}, atLeast: 1},
		{name: "request duration by route", metric: "continuum_http_request_duration_seconds", labels: map[string]string{"route": "POST /api/patients/{id}/admit"}, atLeast: 1},
		{name: "rejection by rule", metric: "continuum_command_rejections_total", labels: map[string]string{"code": "intake_required"}, atLeast: 1},
		{name: "appends by event type", metric: "continuum_store_appended_events_total", labels: map[string]string{"type": "Referred"}, atLeast: 1},
		{name: "append latency", metric: "continuum_store_append_seconds", atLeast: 1},
		{name: "group commit batch size", metric: "continuum_store_commit_batch_events", atLeast: 1},
		{name: "websocket clients", metric: "continuum_ws_clients", atLeast: 1},
		{name: "websocket drops", metric: "continuum_ws_dropped_clients_total"},
		{name: "ready", metric: "continuum_ready", atLeast: 1},
		{name: "store up", metric: "continuum_store_up", atLeast: 1},
		{name: "projection lag in events", metric: "continuum_projection_lag_events"},
		{name: "projection lag in seconds", metric: "continuum_projection_lag_seconds"},
		{name: "projection events applied", metric: "continuum_projection_events_total", labels: map[string]string{"outcome": "applied"}, atLeast: 1},
		{name: "data directory free bytes", metric: "continuum_data_dir_free_bytes", atLeast: 1},
		{name: "data directory writable", metric: "continuum_data_dir_writable", atLeast: 1},
		{name: "Go runtime", metric: "go_goroutines", atLeast: 1},
		{name: "process", metric: "process_resident_memory_bytes", atLeast: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := sample(families, tc.metric, tc.labels)
			if !ok || got < tc.atLeast {
				t.Errorf("%s%v = %v (found %v), want at least %v", tc.metric, tc.labels, got, ok, tc.atLeast)
			}
		})
	}
	t.Run("no personal data or identifiers", func(t *testing.T) {
		for _, secret := range append([]string{id, "/api/patients/" + id}, strings.Fields(name)...) {
			if strings.Contains(raw, secret) {
				t.Errorf("/metrics contains %q", secret)
			}
		}
	})
	t.Run("the dashboard queries exported metrics", func(t *testing.T) {
		exprs := dashboardExprs(t)
		if len(exprs) < 20 {
			t.Fatalf("the dashboard has %d queries; it should chart every metric above", len(exprs))
		}
		checkReferences(t, exprs, families)
	})
	t.Run("the alert rules query exported metrics", func(t *testing.T) {
		exprs := alertExprs(t)
		if len(exprs) < 8 {
			t.Fatalf("found %d alert expressions in %s", len(exprs), alertRulesFile)
		}
		checkReferences(t, exprs, families)
	})
}

// metricName matches the names of the series continuum exports (its own,
// and the Go and process collectors'); PromQL functions, label names and
// Grafana variables do not match.
var metricName = regexp.MustCompile(`\b(?:continuum|go|process)_[a-zA-Z0-9_]+`)

// scrapeSeries are made by Prometheus, not exported by the application.
var scrapeSeries = regexp.MustCompile(`\bup\{`)

// checkReferences fails for an expression that queries a metric the
// application does not export, or that queries none at all.
func checkReferences(t *testing.T, exprs []string, families map[string]*dto.MetricFamily) {
	t.Helper()
	for _, expr := range exprs {
		names := metricName.FindAllString(expr, -1)
		if len(names) == 0 && !scrapeSeries.MatchString(expr) {
			t.Errorf("%q queries no continuum metric", expr)
		}
		for _, n := range names {
			if !exported(families, n) {
				t.Errorf("%q queries %s, which continuum does not export", expr, n)
			}
		}
	}
}

// exported reports whether name is a family, or a histogram's (or
// summary's) _bucket, _sum or _count series.
func exported(families map[string]*dto.MetricFamily, name string) bool {
	if _, ok := families[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, found := strings.CutSuffix(name, suffix)
		if !found {
			continue
		}
		if f, ok := families[base]; ok && (f.GetType() == dto.MetricType_HISTOGRAM || (suffix != "_bucket" && f.GetType() == dto.MetricType_SUMMARY)) {
			return true
		}
	}
	return false
}

// dashboardExprs returns every query of the Grafana dashboard: panel
// targets and template variables. It fails unless the JSON parses, every
// panel but rows has a target, and panel IDs are unique.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dash.UID == "" {
		t.Error("the dashboard has no uid: provisioning would duplicate it on every change")
	}
	var exprs []string
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			exprs = append(exprs, target.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(string); ok && v.Type == "query" {
			exprs = append(exprs, q)
		}
	}
	return exprs
}

// alertExprs returns the expr of every rule in the alert rules file: a
// one-line value, or a block (`expr: |`) of the lines indented under it.
func alertExprs(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(alertRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var exprs []string
	var block []string
	blockIndent := -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if blockIndent >= 0 {
			if trimmed == "" || indent > blockIndent {
				block = append(block, trimmed)
				continue
			}
			exprs = append(exprs, strings.Join(block, " "))
			block, blockIndent = nil, -1
		}
		value, ok := strings.CutPrefix(trimmed, "expr:")
		if !ok {
			continue
		}
		if value = strings.TrimSpace(value); value == "|" || value == ">" {
			blockIndent = indent
			continue
		}
		exprs = append(exprs, value)
	}
	if blockIndent >= 0 {
		exprs = append(exprs, strings.Join(block, " "))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return exprs
}
