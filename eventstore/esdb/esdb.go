// Package esdb is the eventstore.Store adapter to KurrentDB (EventStoreDB)
// through the official Go client, EventStore-Client-Go v4. It maps the
// port's revisions, positions, filters and errors onto the client's, and adds
// what the client lacks: catch-up subscriptions that survive a dropped
// connection, filtered $all reads, and recovery from the client's habit of
// shutting itself down for good when a rediscovery fails.
//
// The same adapter runs against a real KurrentDB node or cluster and against
// continuum's own wire server (eventstore/wire), which serves any Store with
// the EventStoreDB protocol.
package esdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/continuum-care/continuum/eventstore"
)

// closeGrace bounds how long Close waits for the calls in flight to return
// once it has cancelled them. Only a call waiting for a rediscovery in
// progress, which the client cannot interrupt, takes longer; it returns on
// its own when the rediscovery ends, and its client is closed then.
const closeGrace = 2 * time.Second

// Default bounds of the delay between two attempts to resume a dropped
// subscription (see WithResumeBackoff).
const (
	DefaultResumeBackoffMin = 100 * time.Millisecond
	DefaultResumeBackoffMax = 10 * time.Second
)

// DefaultMaxConnections is how many calls may be in flight at once, each on
// its own connection, unless WithMaxConnections says otherwise.
const DefaultMaxConnections = 64

// Store is an eventstore.Store backed by a KurrentDB server. It is safe for
// concurrent use. Open it with Open and release it with Close.
type Store struct {
	pool    *pool
	logger  *slog.Logger
	backoff backoff

	// ctx ends when the store is closed; every call and subscription runs
	// under it, so Close interrupts them.
	ctx    context.Context
	cancel context.CancelFunc
}

var _ eventstore.Store = (*Store)(nil)

type options struct {
	logger         *slog.Logger
	backoffMin     time.Duration
	backoffMax     time.Duration
	maxConnections int
}

// Option configures Open.
type Option func(*options)

// WithLogger sends the client library's log lines (at debug level) and the
// adapter's reports of dropped and resumed subscriptions to logger. By
// default nothing is logged: the client would otherwise print every handled
// error to the standard logger.
func WithLogger(logger *slog.Logger) Option {
	return func(o *options) { o.logger = logger }
}

// WithResumeBackoff bounds the delay between attempts to resume a dropped
// subscription: the first waits about min, each next one twice as long, up
// to max, each jittered so that many subscribers do not reconnect in step.
func WithResumeBackoff(min, max time.Duration) Option {
	return func(o *options) { o.backoffMin, o.backoffMax = min, max }
}

// WithMaxConnections bounds the connections to the server. A call uses one
// connection at a time (see pool), so this also bounds the calls in flight;
// more wait for a free connection. Subscriptions share the connections and
// do not count.
func WithMaxConnections(n int) Option {
	return func(o *options) { o.maxConnections = n }
}

// Open returns a store for the server the connection string names:
// esdb://host:port for one node, esdb://host1,host2,host3 or
// esdb+discover://cluster-dns for a cluster, with credentials as
// esdb://user:password@host and settings as query parameters (tls=false,
// tlsCAFile=..., tlsVerifyCert=false, nodePreference=leader, ...), all as the
// v4 client reads them. Open does not connect: the first call does, so a
// server that is down at start-up only makes calls fail with ErrUnavailable
// until it is back.
func Open(connectionString string, opts ...Option) (*Store, error) {
	o := options{backoffMin: DefaultResumeBackoffMin, backoffMax: DefaultResumeBackoffMax, maxConnections: DefaultMaxConnections}
	for _, opt := range opts {
		opt(&o)
	}
	if o.backoffMin <= 0 || o.backoffMax < o.backoffMin {
		return nil, fmt.Errorf("%w: esdb: resume backoff needs 0 < min <= max, got %s and %s",
			eventstore.ErrInvalidArgument, o.backoffMin, o.backoffMax)
	}
	if o.maxConnections < 1 {
		return nil, fmt.Errorf("%w: esdb: max connections must be positive, got %d", eventstore.ErrInvalidArgument, o.maxConnections)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}

	config, err := esdbclient.ParseConnectionString(connectionString)
	if err == nil {
		err = config.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: esdb: connection string: %s",
			eventstore.ErrInvalidArgument, redactSecrets(describeParseError(err), connectionString))
	}
	config.Logger = clientLogger(o.logger)

	ctx, cancel := context.WithCancel(context.Background())
	return &Store{
		pool:    newPool(*config, o.maxConnections),
		logger:  o.logger,
		backoff: backoff{min: o.backoffMin, max: o.backoffMax},
		ctx:     ctx,
		cancel:  cancel,
	}, nil
}

// describeParseError drops the URL that net/url quotes in its errors: it
// carries the password. What remains may still hold a fragment of it (a
// password with a bad character can be mistaken for a port), which
// redactSecrets removes.
func describeParseError(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err.Error()
	}
	return err.Error()
}

// minRedactable is the shortest fragment of a password that redactSecrets
// replaces in place. A shorter one found in a message withholds the whole
// message instead: replacing it everywhere would garble the text, and
// leaving it would leak part of the password.
const minRedactable = 4

// withheldDetail stands for a parse error that cannot be shown safely.
const withheldDetail = "it cannot be parsed (details withheld: they would show part of the password)"

// redactSecrets removes from message every form of the credentials the
// connection string carries: the user information, the password, and the
// pieces a URL parser cuts a password into when it holds a delimiter; raw,
// unescaped and quoted.
func redactSecrets(message, connectionString string) string {
	_, rest, found := strings.Cut(connectionString, "://")
	if !found {
		return message
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return message
	}
	userinfo := rest[:at]
	secrets := []string{userinfo}
	if _, password, ok := strings.Cut(userinfo, ":"); ok {
		secrets = append(secrets, password)
		secrets = append(secrets, strings.FieldsFunc(password, func(r rune) bool { return strings.ContainsRune(":/?#@", r) })...)
	}
	for _, s := range secrets[:len(secrets):len(secrets)] {
		if unescaped, err := url.PathUnescape(s); err == nil {
			secrets = append(secrets, unescaped)
		}
	}
	for _, s := range secrets[:len(secrets):len(secrets)] {
		secrets = append(secrets, strings.Trim(strconv.Quote(s), `"`))
	}
	// Longest first, so that a piece does not break up a longer form.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if s == "" || !strings.Contains(message, s) {
			continue
		}
		if len(s) < minRedactable {
			return withheldDetail
		}
		message = strings.ReplaceAll(message, s, "****")
	}
	return message
}

// clientLogger routes the client library's log lines to logger at debug
// level: it logs every error it handles, most of which the adapter turns into
// ordinary results (a missing stream, a conflict).
func clientLogger(logger *slog.Logger) esdbclient.LoggingFunc {
	return func(level esdbclient.LogLevel, format string, args ...any) {
		if !logger.Enabled(context.Background(), slog.LevelDebug) {
			return
		}
		logger.Debug("esdb client: "+fmt.Sprintf(format, args...), "level", level)
	}
}

// Close implements eventstore.Store: calls in flight end with ErrClosed,
// subscriptions' Recv returns ErrClosed, and the connections are closed.
// Closing twice is harmless.
func (s *Store) Close() error {
	s.cancel()
	s.pool.close()
	timer := time.NewTimer(closeGrace)
	defer timer.Stop()
	select {
	case <-s.pool.drained:
	case <-timer.C:
		s.logger.Warn("esdb: closed while calls still wait for a rediscovery; their connections close when it ends")
	}
	return nil
}

// bind returns a context that ends with ctx or when the store closes.
func (s *Store) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	bound, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	return bound, func() {
		stop()
		cancel()
	}
}

// outcome is what an operation on the client returned.
type outcome[T any] struct {
	value T
	err   error
}

// run calls op with a client leased from the pool and translates its error
// to the port's. op runs on its own goroutine so that the caller can leave
// when ctx ends even if the client does not (its connection goroutine
// ignores contexts). A lost connection retires the client. A client that had
// already shut itself down is replaced and op retried once, which is safe
// because such a client fails before sending anything.
//
// If keep is set, a successful result outlives the call (a subscription):
// the client stays pinned, and the caller unpins it when done with the
// value. If the caller left before op returned, keep disposes of the value
// instead. The context op receives ends with the call, so such a value must
// run under a context of its own.
func run[T any](s *Store, ctx context.Context, op func(context.Context, *esdbclient.Client) (T, error), keep func(T)) (T, *pooled, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		callCtx, cancel := s.bind(ctx)
		c, err := s.pool.lease(callCtx)
		if err != nil {
			cancel()
			if ctx.Err() != nil || s.ctx.Err() != nil {
				return zero, nil, s.interrupted(ctx)
			}
			return zero, nil, err
		}
		result := make(chan outcome[T], 1)
		var handoff sync.Mutex
		abandoned := false
		go func() {
			value, err := protect(func() (T, error) { return op(callCtx, c.client) })
			if err != nil && (connectionLost(err) || clientShutDown(err) || errors.Is(err, errClientFailed)) {
				s.pool.retire(c)
			}
			kept := err == nil && keep != nil
			handoff.Lock()
			defer handoff.Unlock()
			if abandoned {
				if kept {
					keep(value)
				}
				s.pool.giveBack(c, false)
				return
			}
			s.pool.giveBack(c, kept)
			result <- outcome[T]{value, err}
		}()

		var out outcome[T]
		select {
		case out = <-result:
		case <-callCtx.Done():
			handoff.Lock()
			select {
			case out = <-result:
			default:
				abandoned = true
			}
			handoff.Unlock()
			if abandoned {
				cancel()
				return zero, nil, s.interrupted(ctx)
			}
		}
		cancel()
		if out.err == nil {
			if keep == nil {
				return out.value, nil, nil
			}
			return out.value, c, nil
		}
		if ctx.Err() != nil || s.ctx.Err() != nil {
			return zero, nil, s.interrupted(ctx)
		}
		if clientShutDown(out.err) && attempt == 0 {
			continue
		}
		return zero, nil, translate(out.err)
	}
}

// errClientFailed marks a panic of the client turned into an error.
var errClientFailed = errors.New("esdb: the client failed")

// protect turns a panic of the client into ErrUnavailable: the v4 client
// panics on read replies it does not expect, and a misbehaving server must
// not take the process down.
func protect[T any](op func() (T, error)) (value T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %w: %v", eventstore.ErrUnavailable, errClientFailed, r)
		}
	}()
	return op()
}

// interrupted is the error of a call cut short by its context or by Close.
// A deadline counts as unavailability (the server did not answer in time)
// and still matches context.DeadlineExceeded.
func (s *Store) interrupted(ctx context.Context) error {
	if s.ctx.Err() != nil {
		return eventstore.ErrClosed
	}
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", eventstore.ErrUnavailable, err)
	}
	if err == nil {
		return eventstore.ErrClosed
	}
	return err
}
