// Package web is continuum's HTTP face: a JSON API with one route per
// domain command and one per read model, the websocket hub that pushes
// views live, health and readiness, the OpenAPI description of it all, and
// the mount point of the embedded UI.
//
// Privacy rules the package keeps: names are opened from their sealed form
// only when a response needs them and never logged; routes are logged by
// their pattern, never by their path or query (paths carry patient IDs,
// queries carry searched names); error messages come from the domain's
// typed errors, which name kinds and catalog slugs, not people.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/privacy"
	"github.com/continuum-care/continuum/projections"
)

// Projections is what the server reads: rendered views for the hub, the
// models for queries, and how far they have come. *projections.Runner
// implements it.
type Projections interface {
	Views
	// Read runs fn on the models under the read lock and returns the
	// position they are at.
	Read(fn func(m *projections.Models)) eventstore.Position
	Position() eventstore.Position
	Ready() bool
	Lag(ctx context.Context) (projections.Lag, error)
}

// KeyStore seals personal data at referral, opens it for responses and
// destroys a person's key to erase them; *privacy.KeyStore implements it.
type KeyStore interface {
	Seal(subject string, p privacy.Personal) (privacy.Sealed, error)
	Open(s privacy.Sealed) (privacy.Personal, error)
	Forget(subject string) error
	Forgotten(subject string) (bool, error)
}

// Config is what a Server is built from.
type Config struct {
	Commands    CommandService
	Projections Projections
	Keys        KeyStore
	// Users authenticates every request but a few public ones (see
	// routeGrants); Audit records every access to a person's data.
	Users Users
	Audit AuditLog
	// Clock is the time the census is rendered for and sessions are named
	// by; nil means time.Now.
	Clock func() time.Time
	// Location is the clinic's time zone, in which clinical times given
	// without one are read; nil means time.Local.
	Location *time.Location
	// Logger gets one line per request and every server-side failure; nil
	// means slog.Default().
	Logger *slog.Logger
	// AllowedOrigins are the origins, besides the server's own host, from
	// which browsers may open websockets (e.g. "https://board.example.org").
	AllowedOrigins []string
	// Hub tunes the websocket hub.
	Hub HubOptions
	// UI serves the embedded user interface at "/"; nil serves none.
	UI http.Handler
	// Registerer, when set, gets the server's metrics (requests, command
	// rejections, websocket clients and drops).
	Registerer prometheus.Registerer
	// Metrics, when set, is served at GET /metrics (the registry's handler).
	Metrics http.Handler
	// ReadinessChecks are conditions GET /readyz requires besides a
	// readable store and caught-up projections (a writable data directory
	// with room left).
	ReadinessChecks []ReadinessCheck
	// Backup, when set, is served at GET /api/admin/backup (see admin.go);
	// nil answers that the store is backed up by its own tools.
	Backup Backuper
	// Outcomes, when set, serves the analysts' outcomes replay at
	// GET /api/outcomes (projections/outcomes.Handler); nil answers 404.
	Outcomes http.Handler
	// WaitTimeout bounds how long a command asked to wait (?wait=1) waits
	// for the projections; 0 means 5 s.
	WaitTimeout time.Duration
}

// Server is the HTTP API and websocket hub. Build it with New, hand its
// ProjectionsChanged to the projections runner as a listener, and Close
// it on shutdown.
type Server struct {
	commands    CommandService
	projections Projections
	keys        KeyStore
	users       Users
	audit       AuditLog
	origins     map[string]bool
	signIns     throttle
	clock       func() time.Time
	location    *time.Location
	log         *slog.Logger
	waitTimeout time.Duration

	hub      *Hub
	progress *progress
	metrics  *metrics
	handler  http.Handler

	checks   []ReadinessCheck
	backup   Backuper
	analysis http.Handler
}

// New builds a server and starts its hub.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Commands == nil:
		return nil, errors.New("web: Config.Commands is required")
	case cfg.Projections == nil:
		return nil, errors.New("web: Config.Projections is required")
	case cfg.Keys == nil:
		return nil, errors.New("web: Config.Keys is required")
	case cfg.Users == nil || cfg.Audit == nil:
		return nil, errors.New("web: Config.Users and Config.Audit are required: every request is authenticated and patient data reads are audited")
	}
	s := &Server{
		commands:    scopedCommands{CommandService: cfg.Commands, projections: cfg.Projections},
		projections: cfg.Projections,
		keys:        cfg.Keys,
		users:       cfg.Users,
		audit:       cfg.Audit,
		origins:     allowedOrigins(cfg.AllowedOrigins),
		clock:       cfg.Clock,
		location:    cfg.Location,
		log:         cfg.Logger,
		waitTimeout: cfg.WaitTimeout,
		checks:      cfg.ReadinessChecks,
		backup:      cfg.Backup,
		analysis:    cfg.Outcomes,
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.location == nil {
		s.location = time.Local
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.waitTimeout <= 0 {
		s.waitTimeout = 5 * time.Second
	}
	s.progress = newProgress(cfg.Projections.Position)
	s.hub = NewHub(cfg.Projections, s.log, cfg.Hub)
	m, err := newMetrics(cfg.Registerer, s)
	if err != nil {
		s.hub.Close()
		return nil, fmt.Errorf("web: registering metrics: %w", err)
	}
	s.metrics = m
	upgrader := newUpgrader(s.origins, s.log)
	routes := s.routes(func(w http.ResponseWriter, r *http.Request) { s.hub.serveWS(upgrader, w, r, s.wsSession(r)) })
	if cfg.Metrics != nil {
		routes = append(routes, route{"GET", metricsPath, cfg.Metrics})
	}
	routes = append(routes, route{"GET", BackupPath, http.HandlerFunc(s.serveBackup)})
	mux := http.NewServeMux()
	for _, rt := range routes {
		h, err := s.guard(rt.method+" "+rt.pattern, rt.handler)
		if err != nil {
			s.hub.Close()
			return nil, err
		}
		mux.Handle(rt.method+" "+rt.pattern, h)
	}
	s.handler = s.middleware(s.dispatch(mux, cfg.UI))
	return s, nil
}

// metricsPath serves the Prometheus metrics when a handler is configured;
// it is for scrapers, not API clients, so the OpenAPI document leaves it out.
const metricsPath = "/metrics"

// route is one registered route. The table is also what the OpenAPI test
// compares the document against.
type route struct {
	method, pattern string
	handler         http.Handler
}

// routes lists every route of the API. ws serves the websocket endpoint.
func (s *Server) routes(ws http.HandlerFunc) []route {
	const created, ok = true, false
	return []route{
		{"POST", "/api/patients", s.command(created, s.refer)},
		{"POST", "/api/patients/{id}/intake", s.command(ok, s.intake)},
		{"POST", "/api/patients/{id}/admit", s.command(ok, s.admit(false))},
		{"POST", "/api/patients/{id}/readmit", s.command(ok, s.admit(true))},
		{"POST", "/api/patients/{id}/measures", s.command(created, s.measure)},
		{"POST", "/api/patients/{id}/step-down", s.command(ok, s.changeLevel(false))},
		{"POST", "/api/patients/{id}/step-up", s.command(ok, s.changeLevel(true))},
		{"POST", "/api/patients/{id}/discharge", s.command(ok, s.discharge)},
		{"POST", "/api/groups", s.command(created, s.defineGroup(true))},
		{"PUT", "/api/groups/{id}", s.command(ok, s.defineGroup(false))},
		{"POST", "/api/groups/{id}/join", s.command(ok, s.join)},
		{"POST", "/api/groups/{id}/leave", s.command(ok, s.leave)},
		{"POST", "/api/groups/{id}/sessions", s.command(created, s.holdSession)},
		{"POST", "/api/groups/{id}/sessions/{sid}/attendance", s.command(ok, s.attendance)},
		{"POST", "/api/groups/{id}/modules/{n}/complete", s.command(ok, s.completeModule)},
		{"POST", "/api/groups/{id}/complete", s.command(ok, s.completeGroup)},
		{"POST", "/api/programs", s.command(created, s.defineProgram(true))},
		{"PUT", "/api/programs/{id}", s.command(ok, s.defineProgram(false))},

		{"GET", "/api/census", http.HandlerFunc(s.census)},
		{"GET", "/api/patients", http.HandlerFunc(s.patients)},
		{"GET", "/api/patients/{id}", http.HandlerFunc(s.patient)},
		{"GET", "/api/groups", http.HandlerFunc(s.groups)},
		{"GET", "/api/groups/{id}", http.HandlerFunc(s.roster)},
		{"GET", "/api/programs", http.HandlerFunc(s.programs)},
		{"GET", "/api/catalog", http.HandlerFunc(s.catalog)},
		{"GET", "/api/outcomes", s.outcomes()},
		{"GET", "/api/openapi.json", http.HandlerFunc(serveOpenAPI)},
		{"GET", "/ws", ws},
		{"GET", "/healthz", http.HandlerFunc(s.healthz)},
		{"GET", "/readyz", http.HandlerFunc(s.readyz)},

		{"POST", "/api/auth/signin", http.HandlerFunc(s.signIn)},
		{"POST", "/api/auth/signout", http.HandlerFunc(s.signOut)},
		{"GET", "/api/auth/session", http.HandlerFunc(s.session)},
		{"GET", "/api/users", http.HandlerFunc(s.listUsers)},
		{"POST", "/api/users", http.HandlerFunc(s.addUser)},
		{"PUT", "/api/users/{name}", http.HandlerFunc(s.changeUser)},
		{"POST", "/api/users/{name}/tokens", http.HandlerFunc(s.issueToken)},
		{"DELETE", "/api/users/{name}/tokens/{token}", http.HandlerFunc(s.revokeToken)},
		{"GET", "/api/audit", http.HandlerFunc(s.auditEntries)},
		{"POST", "/api/patients/{id}/erase", http.HandlerFunc(s.erase)},
	}
}

// outcomes is the configured outcomes handler, or a JSON 404 without one.
func (s *Server) outcomes() http.Handler {
	if s.analysis != nil {
		return s.analysis
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, &requestError{kind: errNoRoute, code: "not_found", message: "outcomes are not served by this server"})
	})
}

// uiPattern names UI requests in logs.
const uiPattern = "GET /{ui...}"

// dispatch sends a request to its API route; anything else goes to the
// UI if it is a page request outside /api/, and is otherwise answered with
// the API's JSON errors (404, or 405 with the Allow header when the path
// exists with other methods) instead of the mux's plain text.
func (s *Server) dispatch(api *http.ServeMux, ui http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := api.Handler(r)
		if pattern != "" {
			api.ServeHTTP(w, r)
			return
		}
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeError(w, r, s.log, &requestError{kind: errMethodNotAllowed, code: "method_not_allowed",
				message: "this route does not take " + r.Method + "; it takes " + probe.header.Get("Allow")})
			return
		}
		if ui != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) && !strings.HasPrefix(r.URL.Path, "/api/") {
			r.Pattern = uiPattern
			ui.ServeHTTP(w, r)
			return
		}
		writeError(w, r, s.log, &requestError{kind: errNoRoute, code: "not_found", message: "no such route"})
	})
}

// headerProbe records the status and headers the mux's fallback handler
// would send, and discards its body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) WriteHeader(status int)      { p.status = status }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }

// ServeHTTP serves the API, the websocket and the UI.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// ProjectionsChanged is the projections runner's listener: it hands the
// changed topics to the hub and wakes commands waiting for their effect.
// It never blocks.
func (s *Server) ProjectionsChanged(u projections.Update) {
	if u.Reset {
		s.hub.Reset()
	} else {
		s.hub.Changed(u.Topics...)
	}
	s.progress.advanced()
}

// HubStats returns the websocket hub's counters.
func (s *Server) HubStats() HubStats { return s.hub.Stats() }

// Close disconnects every websocket client and stops the hub. HTTP
// requests in flight are the http.Server's to drain (Shutdown).
func (s *Server) Close() { s.hub.Close() }

// healthz answers liveness: the process serves requests.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
