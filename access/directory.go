package access

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// Options configure a Directory.
type Options struct {
	// Clock is the time credentials are issued and checked at; nil means time.Now.
	Clock func() time.Time
	// Password are argon2id's costs for new passwords; zero means
	// DefaultPasswordParams (tests choose cheaper ones).
	Password PasswordParams
	// SessionTTL is how long a browser sign-in lasts; 0 means DefaultSessionTTL.
	SessionTTL time.Duration
	// Logger gets the feed's failures; nil means slog.Default().
	Logger *slog.Logger
}

// Directory is every user, folded from their streams and kept current by a
// subscription, so a change made by another server replica (or by the
// command line against a shared store) applies here within moments. It is
// safe for concurrent use.
type Directory struct {
	store      eventstore.Store
	clock      func() time.Time
	hasher     *hasher
	sessionTTL time.Duration
	log        *slog.Logger

	mu    sync.RWMutex
	users map[string]*user
	// secrets finds a credential by the hash of its secret.
	secrets map[string]secretRef
	// position is the last $all position the feed has considered.
	position eventstore.Position

	cancel context.CancelFunc
	done   chan struct{}
}

// secretRef is where a credential lives.
type secretRef struct{ user, id string }

// userFilter keeps the events of user streams.
func userFilter() *eventstore.Filter {
	return &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{UserStreamPrefix}}
}

// loadPage is how many user events one read of the initial load takes.
const loadPage = 1024

// OpenDirectory reads every user from store and follows their streams
// until Close.
func OpenDirectory(ctx context.Context, store eventstore.Store, opts Options) (*Directory, error) {
	params := opts.Password
	if params == (PasswordParams{}) {
		params = DefaultPasswordParams
	}
	h, err := newHasher(params)
	if err != nil {
		return nil, err
	}
	d := &Directory{
		store: store, clock: opts.Clock, hasher: h, sessionTTL: opts.SessionTTL, log: opts.Logger,
		users: map[string]*user{}, secrets: map[string]secretRef{}, done: make(chan struct{}),
	}
	if d.clock == nil {
		d.clock = time.Now
	}
	if d.sessionTTL <= 0 {
		d.sessionTTL = DefaultSessionTTL
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if err := d.load(ctx); err != nil {
		return nil, fmt.Errorf("reading the users: %w", err)
	}
	follow, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go d.follow(follow)
	return d, nil
}

// Close stops following the users' streams.
func (d *Directory) Close() {
	d.cancel()
	<-d.done
}

// load folds every user event in the store.
func (d *Directory) load(ctx context.Context) error {
	from, seen := eventstore.Start, false
	for {
		evs, err := d.store.ReadAll(ctx, eventstore.ReadAllOptions{From: from, Max: loadPage, Filter: userFilter()})
		if err != nil {
			return err
		}
		full := len(evs) == loadPage
		// Reads include their start, which the previous page ended on.
		if seen && len(evs) > 0 && evs[0].Position == from {
			evs = evs[1:]
		}
		for i := range evs {
			d.apply(ctx, &evs[i])
		}
		if len(evs) == 0 || !full {
			return nil
		}
		from, seen = evs[len(evs)-1].Position, true
	}
}

// follow applies user events written after the load until ctx ends,
// resubscribing when the store drops the subscription.
func (d *Directory) follow(ctx context.Context) {
	defer close(d.done)
	backoff := 100 * time.Millisecond
	for {
		err := d.followOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		d.log.Warn("access: the users' feed ended, resubscribing", "error", err, "retryIn", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (d *Directory) followOnce(ctx context.Context) error {
	d.mu.RLock()
	from := d.position
	d.mu.RUnlock()
	sub, err := d.store.SubscribeAll(ctx, eventstore.SubscribeAllOptions{From: from, Filter: userFilter()})
	if err != nil {
		return err
	}
	defer sub.Close()
	for {
		msg, err := sub.Recv()
		if err != nil {
			return err
		}
		switch {
		case msg.Event != nil:
			d.apply(ctx, msg.Event)
		case msg.Checkpoint != nil:
			d.mu.Lock()
			if d.position.Less(*msg.Checkpoint) {
				d.position = *msg.Checkpoint
			}
			d.mu.Unlock()
		}
	}
}

// apply folds one event from $all. An event beyond the next expected
// revision means some were missed (they arrived before the feed
// started): the stream is read again from where the state stands.
func (d *Directory) apply(ctx context.Context, rec *eventstore.RecordedEvent) {
	name, ok := strings.CutPrefix(rec.Stream, UserStreamPrefix)
	if !ok {
		return
	}
	d.mu.Lock()
	gap := d.applyLocked(name, rec)
	if d.position.Less(rec.Position) {
		d.position = rec.Position
	}
	d.mu.Unlock()
	if gap {
		if err := d.refresh(ctx, name); err != nil {
			d.log.Warn("access: reading a user's stream failed", "error", err)
		}
	}
}

// applyLocked folds rec into its user if it is the next revision, and
// reports a gap if it lies beyond. Called with d.mu held.
func (d *Directory) applyLocked(name string, rec *eventstore.RecordedEvent) (gap bool) {
	u := d.users[name]
	var next uint64
	if u != nil {
		next = u.revision + 1
	}
	switch {
	case rec.Revision < next:
		return false // folded already
	case rec.Revision > next:
		return true
	}
	e, err := decodeUserEvent(rec.Type, rec.Data)
	if err != nil {
		// The revision still counts, or every later event would look
		// like a gap; the event's content is not logged.
		d.log.Error("access: skipping a user event that does not decode", "type", rec.Type, "position", rec.Position.String())
	}
	if u == nil {
		u = &user{name: name, credentials: map[string]credential{}}
		d.users[name] = u
	}
	before := u.credentials
	u.credentials = make(map[string]credential, len(before)+1)
	for id, c := range before {
		u.credentials[id] = c
	}
	if e != nil {
		u.evolve(e, d.clock())
	}
	u.revision = rec.Revision
	for id, c := range before {
		if _, kept := u.credentials[id]; !kept {
			delete(d.secrets, c.hash)
		}
	}
	for id, c := range u.credentials {
		d.secrets[c.hash] = secretRef{user: name, id: id}
	}
	return false
}

// refresh folds what the user's stream holds beyond the state.
func (d *Directory) refresh(ctx context.Context, name string) error {
	from := eventstore.StreamStart
	d.mu.RLock()
	if u := d.users[name]; u != nil {
		from = eventstore.At(u.revision + 1)
	}
	d.mu.RUnlock()
	evs, err := d.store.ReadStream(ctx, userStream(name), eventstore.ReadStreamOptions{From: from})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range evs {
		d.applyLocked(name, &evs[i])
	}
	return nil
}

// maxAttempts bounds the retries of a change on concurrent updates.
const maxAttempts = 4

// change appends what decide answers for the user's current state (nil
// for a user that does not exist), expecting the revision it decided on,
// and deciding again if the stream moved meanwhile.
func (d *Directory) change(ctx context.Context, name string, decide func(u *user) ([]any, error)) error {
	for range maxAttempts {
		if err := d.refresh(ctx, name); err != nil {
			return err
		}
		d.mu.RLock()
		u := d.users[name]
		expected := eventstore.NoStream
		if u != nil {
			expected = eventstore.Exact(u.revision)
		}
		events, err := decide(u)
		d.mu.RUnlock()
		if err != nil || len(events) == 0 {
			return err
		}
		data := make([]eventstore.EventData, len(events))
		for i, e := range events {
			typ, body, err := encodeUserEvent(e)
			if err != nil {
				return err
			}
			data[i] = eventstore.EventData{ID: uuid.New(), Type: typ, ContentType: eventstore.ContentTypeJSON, Data: body}
		}
		_, err = d.store.Append(ctx, userStream(name), expected, data...)
		if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			continue
		}
		if err != nil {
			return err
		}
		return d.refresh(ctx, name)
	}
	return ErrConflict
}

// NewUser is a user to add.
type NewUser struct {
	Name     string
	Role     Role
	Programs []domain.ProgramID
	Password string
}

// checkPrograms validates a user's programs: only clinicians are limited
// to programs, and each must be a valid program ID.
func checkPrograms(role Role, programs []domain.ProgramID) error {
	if len(programs) > 0 && role != Clinician {
		return &InputError{Field: "programs", Reason: "only clinicians are limited to programs"}
	}
	for _, p := range programs {
		if _, err := domain.ParseProgramID(string(p)); err != nil {
			return &InputError{Field: "programs", Reason: "a program ID is not valid"}
		}
	}
	return nil
}

// AddUser adds a user; by is who adds them, for the record.
func (d *Directory) AddUser(ctx context.Context, by string, nu NewUser) error {
	if err := ParseUserName(nu.Name); err != nil {
		return &InputError{Field: "name", Reason: err.Error()}
	}
	if !nu.Role.Valid() {
		return &InputError{Field: "role", Reason: "role must be director, clinician, analyst or admin"}
	}
	if err := checkPrograms(nu.Role, nu.Programs); err != nil {
		return err
	}
	if err := checkPassword(nu.Password); err != nil {
		return &InputError{Field: "password", Reason: err.Error()}
	}
	hash, err := d.hasher.hash(nu.Password)
	if err != nil {
		return err
	}
	programs := slices.Clone(nu.Programs)
	slices.Sort(programs)
	programs = slices.Compact(programs)
	return d.change(ctx, nu.Name, func(u *user) ([]any, error) {
		if u != nil {
			return nil, ErrUserExists
		}
		return []any{userAdded{Name: nu.Name, Role: nu.Role, Programs: programs, PasswordHash: hash, By: by, At: d.clock().UTC()}}, nil
	})
}

// UserChange is a change of a user's standing; nil fields stay as they are.
type UserChange struct {
	Role     *Role
	Programs *[]domain.ProgramID
	Disabled *bool
}

// ChangeUser changes a user's role, programs or disabled flag. The last
// enabled admin can be neither disabled nor given another role.
func (d *Directory) ChangeUser(ctx context.Context, by, name string, ch UserChange) error {
	if ch.Role != nil && !ch.Role.Valid() {
		return &InputError{Field: "role", Reason: "role must be director, clinician, analyst or admin"}
	}
	return d.change(ctx, name, func(u *user) ([]any, error) {
		if u == nil || !u.role.Valid() {
			return nil, ErrUserNotFound
		}
		next := userChanged{Role: u.role, Programs: slices.Clone(u.programs), Disabled: u.disabled, By: by, At: d.clock().UTC()}
		if ch.Role != nil {
			next.Role = *ch.Role
		}
		if ch.Programs != nil {
			next.Programs = slices.Clone(*ch.Programs)
			slices.Sort(next.Programs)
			next.Programs = slices.Compact(next.Programs)
		}
		if ch.Role != nil && *ch.Role != Clinician && ch.Programs == nil {
			next.Programs = nil // programs only ever limit clinicians
		}
		if ch.Disabled != nil {
			next.Disabled = *ch.Disabled
		}
		if err := checkPrograms(next.Role, next.Programs); err != nil {
			return nil, err
		}
		if next.Role == u.role && next.Disabled == u.disabled && slices.Equal(next.Programs, u.programs) {
			return nil, nil
		}
		wasAdmin := u.role == Admin && !u.disabled
		staysAdmin := next.Role == Admin && !next.Disabled
		if wasAdmin && !staysAdmin && d.enabledAdminsLocked() == 1 {
			return nil, ErrLastAdmin
		}
		return []any{next}, nil
	})
}

// enabledAdminsLocked counts the enabled admins. Called with d.mu held.
func (d *Directory) enabledAdminsLocked() int {
	n := 0
	for _, u := range d.users {
		if u.role == Admin && !u.disabled {
			n++
		}
	}
	return n
}

// SetPassword replaces a user's password.
func (d *Directory) SetPassword(ctx context.Context, by, name, password string) error {
	if err := checkPassword(password); err != nil {
		return &InputError{Field: "password", Reason: err.Error()}
	}
	hash, err := d.hasher.hash(password)
	if err != nil {
		return err
	}
	return d.change(ctx, name, func(u *user) ([]any, error) {
		if u == nil || !u.role.Valid() {
			return nil, ErrUserNotFound
		}
		return []any{passwordChanged{PasswordHash: hash, By: by, At: d.clock().UTC()}}, nil
	})
}

// SignIn checks a user's password and issues a browser session. It
// answers the identity and the session's credential (for the cookie). A
// failure is a *SignInError; it takes about as long whatever the reason.
func (d *Directory) SignIn(ctx context.Context, name, password string) (Identity, string, error) {
	if ParseUserName(name) != nil {
		d.hasher.verify("", password)
		return Identity{}, "", &SignInError{Reason: ReasonUnknownUser}
	}
	// Another replica may have added the user a moment ago.
	if err := d.refresh(ctx, name); err != nil {
		return Identity{}, "", err
	}
	d.mu.RLock()
	var hash string
	var disabled, exists bool
	if u := d.users[name]; u != nil && u.role.Valid() {
		hash, disabled, exists = u.passwordHash, u.disabled, true
	}
	d.mu.RUnlock()
	ok := d.hasher.verify(hash, password)
	switch {
	case !exists:
		return Identity{}, "", &SignInError{Reason: ReasonUnknownUser}
	case !ok:
		return Identity{}, "", &SignInError{Reason: ReasonWrongPassword}
	case disabled:
		return Identity{}, "", &SignInError{Reason: ReasonDisabled}
	}
	return d.issue(ctx, name, name, Session, "", d.sessionTTL)
}

// maxLabelLen bounds a token's label.
const maxLabelLen = 64

// IssueToken issues an API token for user, valid for ttl (0 means
// DefaultTokenTTL). The token is answered once; only its hash is kept.
func (d *Directory) IssueToken(ctx context.Context, by, name, label string, ttl time.Duration) (Identity, string, error) {
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < time.Minute || ttl > MaxTokenTTL {
		return Identity{}, "", &InputError{Field: "ttl", Reason: fmt.Sprintf("a token lasts from a minute to %d days", MaxTokenTTL/(24*time.Hour))}
	}
	if len(label) > maxLabelLen || strings.ContainsFunc(label, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return Identity{}, "", &InputError{Field: "label", Reason: fmt.Sprintf("a label is at most %d printable characters", maxLabelLen)}
	}
	return d.issue(ctx, by, name, Token, label, ttl)
}

// issue records a new credential of kind for the user and answers it.
func (d *Directory) issue(ctx context.Context, by, name string, kind CredentialKind, label string, ttl time.Duration) (Identity, string, error) {
	secret, hash, err := newSecret(name)
	if err != nil {
		return Identity{}, "", err
	}
	id, err := newCredentialID()
	if err != nil {
		return Identity{}, "", err
	}
	now := d.clock().UTC()
	issued := credentialIssued{ID: id, Kind: kind, Label: label, SecretHash: hash, IssuedAt: now, ExpiresAt: now.Add(ttl), By: by}
	err = d.change(ctx, name, func(u *user) ([]any, error) {
		switch {
		case u == nil || !u.role.Valid():
			return nil, ErrUserNotFound
		case u.disabled:
			return nil, ErrUserDisabled
		}
		return []any{issued}, nil
	})
	if err != nil {
		return Identity{}, "", err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	u := d.users[name]
	c, ok := u.credentials[id]
	if !ok {
		return Identity{}, "", ErrConflict
	}
	return u.identity(c), secret, nil
}

// Revoke ends one of a user's credentials by its public ID.
func (d *Directory) Revoke(ctx context.Context, by, name, id string) error {
	return d.change(ctx, name, func(u *user) ([]any, error) {
		if u == nil || !u.role.Valid() {
			return nil, ErrUserNotFound
		}
		if _, ok := u.credentials[id]; !ok {
			return nil, ErrCredentialNotFound
		}
		return []any{credentialRevoked{ID: id, By: by, At: d.clock().UTC()}}, nil
	})
}

// Authenticate answers who presents credential, which must be of kind:
// sessions are only accepted from the cookie and tokens only as bearer
// tokens, so a token cannot stand in for a session and skip its CSRF
// check. Any failure is ErrUnauthenticated.
func (d *Directory) Authenticate(ctx context.Context, credential string, kind CredentialKind) (Identity, error) {
	name, hash, err := splitCredential(credential)
	if err != nil {
		return Identity{}, err
	}
	id, found := d.lookup(name, hash, kind)
	if !found {
		// Another replica may have issued it a moment ago.
		if err := d.refresh(ctx, name); err != nil {
			return Identity{}, err
		}
		id, found = d.lookup(name, hash, kind)
	}
	if !found {
		return Identity{}, ErrUnauthenticated
	}
	return id, nil
}

// lookup finds a live credential of kind by its hash.
func (d *Directory) lookup(name, hash string, kind CredentialKind) (Identity, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	ref, ok := d.secrets[hash]
	if !ok || ref.user != name {
		return Identity{}, false
	}
	u := d.users[name]
	c := u.credentials[ref.id]
	if u.disabled || c.kind != kind || !c.expiresAt.After(d.clock()) {
		return Identity{}, false
	}
	return u.identity(c), true
}

// Users lists every user by name.
func (d *Directory) Users() []UserInfo {
	now := d.clock()
	d.mu.RLock()
	out := make([]UserInfo, 0, len(d.users))
	for _, u := range d.users {
		if u.role.Valid() {
			out = append(out, u.info(now))
		}
	}
	d.mu.RUnlock()
	slices.SortFunc(out, func(a, b UserInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// User describes one user.
func (d *Directory) User(name string) (UserInfo, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	u := d.users[name]
	if u == nil || !u.role.Valid() {
		return UserInfo{}, false
	}
	return u.info(d.clock()), true
}

// HasAdmin reports whether any enabled admin exists; serve refuses to
// start without one.
func (d *Directory) HasAdmin() bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.enabledAdminsLocked() > 0
}
