package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/continuum-care/continuum/access"
	cmds "github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain/catalog"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/eventstore/esdb"
	"github.com/continuum-care/continuum/ops"
	"github.com/continuum-care/continuum/privacy"
	"github.com/continuum-care/continuum/projections"
	"github.com/continuum-care/continuum/projections/outcomes"
	"github.com/continuum-care/continuum/web"
	"github.com/continuum-care/continuum/web/ui"
)

// Files serve keeps in the data directory besides the embedded store's.
const (
	keysFile         = "keys.db"
	seatReleaserFile = "seat-releaser.json"
)

// runServe parses serve's flags and runs the application until ctx ends.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	m := &Main{Stdout: stdout}
	fs.StringVar(&m.DataDir, "data", "./continuum-data", "data directory (embedded store, keys, projection snapshot)")
	fs.StringVar(&m.ListenAddr, "addr", "127.0.0.1:8080", "address to listen on, HOST:PORT")
	fs.StringVar(&m.StoreURL, "store", "", "EventStoreDB/KurrentDB connection string (esdb://…); empty uses the embedded store in --data")
	fs.BoolVar(&m.Demo, "demo", false, "fill an empty store with a few months of simulated history and keep simulating live")
	fs.StringVar(&m.TLSCertFile, "tls-cert", "", "TLS certificate file (PEM); with --tls-key, serve HTTPS")
	fs.StringVar(&m.TLSKeyFile, "tls-key", "", "TLS private key file (PEM)")
	fs.BoolVar(&m.Insecure, "insecure", false, "allow plain HTTP on a non-loopback address")
	origins := fs.String("allowed-origins", "", "comma-separated origins besides the server's own that may open websockets")
	tz := fs.String("tz", "", "the clinic's time zone (IANA name, e.g. America/Chicago); empty uses the machine's")
	fs.Uint64Var(&m.MinFreeBytes, "min-free-bytes", ops.DefaultMinFreeBytes, "free space on the data directory's disk below which /readyz answers not ready")
	fs.StringVar(&m.AdminPasswordFile, "admin-password-file", "", "on a store without any admin, create one with the password on this file's first line")
	fs.StringVar(&m.AdminName, "admin-name", defaultAdminName, "the name of the admin --admin-password-file creates")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *origins != "" {
		m.AllowedOrigins = strings.Split(*origins, ",")
	}
	if *tz != "" {
		loc, err := time.LoadLocation(*tz)
		if err != nil {
			return fmt.Errorf("%w: --tz: %v", errUsage, err)
		}
		m.Location = loc
	}
	m.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	return m.Run(ctx)
}

// Main wires the application: store, key store, command service, catalog,
// projections, web server. End-to-end tests run it on port 0 with a temp
// data directory.
type Main struct {
	// ListenAddr is HOST:PORT to listen on; port 0 picks a free port (see Addr).
	ListenAddr string
	// DataDir holds the embedded store, the key store, the projections'
	// snapshot and the seat releaser's checkpoint.
	DataDir string
	// StoreURL, when set, runs on an EventStoreDB-protocol server instead
	// of the embedded store.
	StoreURL string
	// Demo fills an empty store with simulated history and keeps simulating.
	Demo bool
	// TLSCertFile and TLSKeyFile, when both set, serve HTTPS.
	TLSCertFile, TLSKeyFile string
	// Insecure allows plain HTTP on an address other than loopback.
	Insecure bool
	// AllowedOrigins may open websockets besides the server's own origin.
	AllowedOrigins []string
	// Location is the clinic's time zone; nil means time.Local.
	Location *time.Location
	// Logger gets the application's log lines; nil means slog.Default().
	Logger *slog.Logger
	// Stdout gets the line with the address to open; nil means io.Discard.
	Stdout io.Writer
	// ShutdownTimeout bounds the wait for requests in flight on shutdown;
	// 0 means 5 s.
	ShutdownTimeout time.Duration
	// MinFreeBytes is the free space on the data directory's disk below
	// which the server reports not ready; 0 means ops.DefaultMinFreeBytes.
	MinFreeBytes uint64
	// AdminPasswordFile, on a store without any admin, creates the admin
	// AdminName (default "admin") with the password on the file's first
	// line. Without an admin, and without it, serve refuses to start.
	AdminPasswordFile, AdminName string

	mu        sync.Mutex
	addr      net.Addr
	listening chan struct{}
}

// Addr is the address the server listens on, nil before it listens.
func (m *Main) Addr() net.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addr
}

// Listening is closed once the server listens (Addr is then set).
func (m *Main) Listening() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.listening == nil {
		m.listening = make(chan struct{})
	}
	return m.listening
}

func (m *Main) setAddr(a net.Addr) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addr = a
	if m.listening == nil {
		m.listening = make(chan struct{})
	}
	close(m.listening)
}

// DemoEnv is what the simulator gets to work with in serve --demo.
type DemoEnv struct {
	Commands *cmds.Service
	Keys     *privacy.KeyStore
	Store    eventstore.Store
	Location *time.Location
	Logger   *slog.Logger
}

// demoRunner is the simulator's part in serve --demo. The simulator's file
// (simulate.go) assigns demo in an init function, which keeps serve free of
// the simulator's API.
type demoRunner struct {
	// History fills an empty store with a few months of history through
	// env.Commands. Serve calls it only on a store without events, before
	// seeding the default catalog (so the simulator may create the catalog
	// at its own clinical start date; serve's seeding then finds it) and
	// before it listens.
	History func(ctx context.Context, env DemoEnv) error
	// Live keeps simulating at a pace a person can watch until ctx ends.
	Live func(ctx context.Context, env DemoEnv) error
}

// demo is set by the simulator; its zero value means this build has none.
var demo demoRunner

// Run opens everything, serves until ctx ends, then shuts down in order:
// stop taking requests, disconnect websockets, stop the background work,
// write the projections' snapshot, close the stores.
func (m *Main) Run(ctx context.Context) (err error) {
	log := m.Logger
	if log == nil {
		log = slog.Default()
	}
	loc := m.Location
	if loc == nil {
		loc = time.Local
	}
	stdout := m.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	useTLS := m.TLSCertFile != "" || m.TLSKeyFile != ""
	if useTLS && (m.TLSCertFile == "" || m.TLSKeyFile == "") {
		return fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	if err := checkListen(m.ListenAddr, useTLS, m.Insecure); err != nil {
		return err
	}
	if m.Demo && (demo.History == nil || demo.Live == nil) {
		return errors.New("--demo: this build has no simulator")
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	dataDir := ops.NewDataDir(m.DataDir, m.MinFreeBytes)
	if err := dataDir.Register(registry); err != nil {
		return err
	}
	store, err := m.openStore(registry)
	if err != nil {
		return err
	}
	defer closeInto(&err, "event store", store.Close)
	keys, err := privacy.OpenKeyStore(filepath.Join(m.DataDir, keysFile))
	if err != nil {
		return err
	}
	defer closeInto(&err, "key store", keys.Close)
	svc := cmds.New(store)
	users, err := access.OpenDirectory(ctx, store, access.Options{Logger: log})
	if err != nil {
		return err
	}
	defer users.Close()
	if !m.Demo {
		if err := m.ensureAdmin(ctx, users, log); err != nil {
			return err
		}
	}

	if m.Demo {
		empty, err := storeIsEmpty(ctx, store)
		if err != nil {
			return err
		}
		if empty {
			log.Info("demo: simulating a few months of history")
			if err := demo.History(ctx, DemoEnv{Commands: svc, Keys: keys, Store: store, Location: loc, Logger: log}); err != nil {
				if ctx.Err() != nil {
					return nil // interrupted while filling: not a failure
				}
				return fmt.Errorf("demo history: %w", err)
			}
		}
	}
	if err := seedCatalog(ctx, svc, log); err != nil {
		return err
	}
	if m.Demo {
		if err := demoUsers(ctx, users, stdout); err != nil {
			return err
		}
	}

	runner, err := projections.New(projections.Options{Store: store, Dir: m.DataDir, Location: loc, Logger: log})
	if err != nil {
		return err
	}
	server, err := web.New(web.Config{
		Commands: svc, Projections: runner, Keys: keys, Location: loc, Logger: log,
		Users: users, Audit: access.NewAudit(store, nil),
		AllowedOrigins:  m.AllowedOrigins,
		UI:              ui.Handler(),
		Registerer:      registry,
		Metrics:         promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}),
		ReadinessChecks: []web.ReadinessCheck{dataDir.Check},
		Backup:          backupOf(store),
		Outcomes:        outcomes.Handler(store, loc),
	})
	if err != nil {
		return err
	}
	defer server.Close()
	defer runner.Listen(server.ProjectionsChanged)()

	work, stopWork := context.WithCancel(ctx)
	defer stopWork()
	if err := runner.Start(work); err != nil {
		return err
	}
	defer closeInto(&err, "projections", runner.Stop)

	ln, err := net.Listen("tcp", m.ListenAddr)
	if err != nil {
		return err
	}
	httpServer := &http.Server{
		Handler:           server,
		ReadHeaderTimeout: 10 * time.Second,
		// Bounds on reading a request and writing its answer (a waited
		// command waits at most 5 s); websockets clear them on upgrade.
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 30 * time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	m.setAddr(ln.Addr())
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "continuum: serving on %s://%s/\n", scheme, ln.Addr())

	var background sync.WaitGroup
	failed := make(chan error, 3)
	goBackground := func(name string, fn func() error) {
		background.Add(1)
		go func() {
			defer background.Done()
			if err := fn(); err != nil && work.Err() == nil {
				failed <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	goBackground("http server", func() error {
		var err error
		if useTLS {
			err = httpServer.ServeTLS(ln, m.TLSCertFile, m.TLSKeyFile)
		} else {
			err = httpServer.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	})
	releaser := cmds.NewSeatReleaser(svc, filepath.Join(m.DataDir, seatReleaserFile), log)
	goBackground("seat releaser", func() error { return releaser.Run(work) })
	if m.Demo {
		goBackground("demo", func() error {
			return demo.Live(work, DemoEnv{Commands: svc, Keys: keys, Store: store, Location: loc, Logger: log})
		})
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-failed:
	}
	log.Info("shutting down")
	timeout := m.ShutdownTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		httpServer.Close()
	}
	server.Close()
	stopWork()
	background.Wait()
	return runErr
}

// openStore opens the embedded store in the data directory, with its
// metrics on reg, or the EventStoreDB-protocol server the connection
// string names.
func (m *Main) openStore(reg prometheus.Registerer) (eventstore.Store, error) {
	if m.StoreURL != "" {
		return esdb.Open(m.StoreURL)
	}
	return bolt.Open(m.DataDir, bolt.Options{Observer: ops.NewStoreMetrics(reg)})
}

// storeIsEmpty reports whether the store holds no events but system ones.
func storeIsEmpty(ctx context.Context, store eventstore.Store) (bool, error) {
	events, err := store.ReadAll(ctx, eventstore.ReadAllOptions{From: eventstore.Start, Max: 1, Filter: eventstore.ExcludeSystemEvents()})
	if err != nil {
		return false, fmt.Errorf("reading the store: %w", err)
	}
	return len(events) == 0, nil
}

// seedCatalog creates the default catalog's programs and groups that do
// not exist yet: everything on the first start, nothing afterwards.
func seedCatalog(ctx context.Context, svc *cmds.Service, log *slog.Logger) error {
	cat, err := catalog.Default()
	if err != nil {
		return err
	}
	programs, groups := cat.Commands(svc.Now())
	created, err := svc.SeedCatalog(ctx, programs, groups)
	if err != nil {
		return fmt.Errorf("seeding the default catalog: %w", err)
	}
	if created > 0 {
		log.Info("seeded the default catalog", "created", created)
	}
	return nil
}

// closeInto runs a deferred close and keeps its error if none came before.
func closeInto(err *error, what string, close func() error) {
	if cerr := close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("closing the %s: %w", what, cerr)
	}
}
