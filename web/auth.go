package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/domain"
)

// Users is the user directory requests are authenticated against;
// *access.Directory implements it.
type Users interface {
	SignIn(ctx context.Context, name, password string) (access.Identity, string, error)
	Authenticate(ctx context.Context, credential string, kind access.CredentialKind) (access.Identity, error)
	IssueToken(ctx context.Context, by, name, label string, ttl time.Duration) (access.Identity, string, error)
	Revoke(ctx context.Context, by, name, id string) error
	AddUser(ctx context.Context, by string, nu access.NewUser) error
	ChangeUser(ctx context.Context, by, name string, ch access.UserChange) error
	SetPassword(ctx context.Context, by, name, password string) error
	Users() []access.UserInfo
	User(name string) (access.UserInfo, bool)
}

// Names of the session cookie and the headers of authentication.
const (
	// SessionCookie carries a browser's session: HttpOnly, so no script
	// reads it; SameSite=Strict, so no other site's page sends it; Secure
	// whenever the request came over TLS.
	SessionCookie = "continuum_session"
	// CSRFHeader must echo the session's CSRF token (GET /api/auth/session
	// answers it) on every state-changing request made with the cookie.
	CSRFHeader = "X-CSRF-Token"
)

// Refusals of authentication, answered before any route runs.
var (
	// errUnauthenticated: no credential, or one that is unknown, expired
	// or revoked.
	errUnauthenticated = errors.New("unauthenticated")
	// errTooManyRequests: too many failed sign-ins from one address.
	errTooManyRequests = errors.New("too many requests")
)

// notSignedIn is the one answer to a missing or bad credential: it does
// not say which, so a probe learns nothing.
var notSignedIn = &requestError{kind: errUnauthenticated, code: "unauthenticated",
	message: "sign in first (or the sign-in has expired): a session cookie from /api/auth/signin, or Authorization: Bearer <token>"}

// identityKey carries the request's identity in its context.
type identityKey struct{}

// identityOf returns the identity the guard established for the request.
func identityOf(ctx context.Context) (access.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(access.Identity)
	return id, ok
}

// guard wraps a route's handler with its grant from routeGrants:
// authentication, the CSRF and origin checks, the role check and, for
// exports, the audit entry. It fails for a route without a grant.
func (s *Server) guard(pattern string, h http.Handler) (http.Handler, error) {
	g, ok := routeGrants[pattern]
	if !ok {
		return nil, fmt.Errorf("web: route %q has no grant in routeGrants", pattern)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkOrigin(r); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if g.public {
			h.ServeHTTP(w, r)
			return
		}
		id, err := s.authenticate(r)
		if err != nil {
			if errors.Is(err, errUnauthenticated) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="continuum"`)
			}
			writeError(w, r, s.log, err)
			return
		}
		if !g.allows(id.Role) {
			writeError(w, r, s.log, &requestError{kind: errForbidden, code: "forbidden_for_role",
				message: "the " + id.Role.String() + " role may not use this route"})
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), identityKey{}, id))
		if g.export {
			if err := s.recordAccess(r, access.Exported, nil, exportFormat(r)); err != nil {
				writeError(w, r, s.log, err)
				return
			}
		}
		h.ServeHTTP(w, r)
	}), nil
}

// presented answers the credential a request carries: a bearer token,
// or else the session cookie.
func presented(r *http.Request) (string, access.CredentialKind, bool) {
	if header := r.Header.Get("Authorization"); header != "" {
		token, ok := strings.CutPrefix(header, "Bearer ")
		return strings.TrimSpace(token), access.Token, ok
	}
	if cookie, err := r.Cookie(SessionCookie); err == nil {
		return cookie.Value, access.Session, true
	}
	return "", "", false
}

// exportFormat names an export's format for the audit: the format
// parameter when it is a plain word, else nothing (the audit records no
// free text a client chose).
func exportFormat(r *http.Request) string {
	f := r.URL.Query().Get("format")
	if len(f) > 10 || strings.IndexFunc(f, func(c rune) bool { return c < 'a' || c > 'z' }) >= 0 {
		return ""
	}
	return f
}

// authenticate establishes who makes the request. A session cookie on a
// state-changing request must come with the session's CSRF token.
func (s *Server) authenticate(r *http.Request) (access.Identity, error) {
	credential, kind, ok := presented(r)
	if !ok {
		return access.Identity{}, notSignedIn
	}
	id, err := s.checkCredential(r.Context(), credential, kind)
	if err != nil {
		return access.Identity{}, err
	}
	if kind == access.Session && !safeMethod(r.Method) {
		want := access.CSRFToken(credential)
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(want)) != 1 {
			return access.Identity{}, &requestError{kind: errForbidden, code: "csrf_token_invalid",
				message: "a request made with the session cookie must carry its " + CSRFHeader + " header (from GET /api/auth/session)"}
		}
	}
	return id, nil
}

// checkCredential maps the directory's refusal to the one answer.
func (s *Server) checkCredential(ctx context.Context, credential string, kind access.CredentialKind) (access.Identity, error) {
	id, err := s.users.Authenticate(ctx, credential, kind)
	if errors.Is(err, access.ErrUnauthenticated) {
		return access.Identity{}, notSignedIn
	}
	return id, err
}

// safeMethod reports whether a method only reads.
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// checkOrigin refuses a state-changing request that a browser sent from
// another site's page. Browsers always send Origin on such requests;
// other clients usually send none and carry no ambient credentials.
func (s *Server) checkOrigin(r *http.Request) error {
	if safeMethod(r.Method) || r.Header.Get("Origin") == "" || originAllowed(s.origins, r) {
		return nil
	}
	return &requestError{kind: errForbidden, code: "origin_not_allowed", message: "requests from this origin are not accepted here"}
}

// allowedOrigins normalises the origins, besides the server's own host,
// whose pages may call the API and open websockets.
func allowedOrigins(origins []string) map[string]bool {
	m := make(map[string]bool, len(origins))
	for _, o := range origins {
		m[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	return m
}

// originAllowed reports whether the request's Origin is the server's own
// host or one of allowed; a request without Origin is not a browser's.
func originAllowed(allowed map[string]bool, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || allowed[strings.ToLower(origin)] {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// secureRequest reports whether the client reached the server over TLS,
// directly or through a proxy that says so; the session cookie is then
// marked Secure.
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// remoteOf is where a request came from: the peer's IP, and what a proxy
// claims in X-Forwarded-For, kept to address characters.
func remoteOf(r *http.Request) (ip, forwarded string) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = ""
	}
	fwd := r.Header.Get("X-Forwarded-For")
	b := make([]byte, 0, min(len(fwd), 200))
	for i := 0; i < len(fwd) && len(b) < 200; i++ {
		c := fwd[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':' || c == ',' || c == ' ' {
			b = append(b, c)
		}
	}
	return ip, string(b)
}

// signInRequest is the body of a sign-in.
type signInRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// sessionResponse describes who is signed in. CSRFToken is set for a
// browser session: the UI echoes it in CSRFHeader.
type sessionResponse struct {
	User      string             `json:"user"`
	Role      access.Role        `json:"role"`
	Programs  []domain.ProgramID `json:"programs"`
	Kind      string             `json:"kind"`
	ExpiresAt time.Time          `json:"expiresAt"`
	CSRFToken string             `json:"csrfToken,omitempty"`
}

func newSessionResponse(id access.Identity, credential string) sessionResponse {
	out := sessionResponse{User: id.User, Role: id.Role, Programs: id.Programs, Kind: string(id.Kind), ExpiresAt: id.ExpiresAt}
	if out.Programs == nil {
		out.Programs = []domain.ProgramID{}
	}
	if id.Kind == access.Session {
		out.CSRFToken = access.CSRFToken(credential)
	}
	return out
}

// Sign-in throttling: after signInFailures failures for one user name
// from one address within signInWindow, or addressFailures for any names
// from one address, further attempts are refused until the oldest failure
// leaves the window. Password hashing already makes each guess cost; this
// bounds how many one address gets. Counting per name as well keeps one
// person's typos behind a shared proxy address from locking out everyone.
const (
	signInFailures  = 10
	addressFailures = 100
	signInWindow    = 15 * time.Minute
)

// throttle counts recent failures per key.
type throttle struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

// blocked reports whether key has used up its limit of failures, and
// for how long.
func (t *throttle) blocked(key string, limit int, now time.Time) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	recent := t.recentLocked(key, now)
	if len(recent) < limit {
		return false, 0
	}
	return true, recent[len(recent)-limit].Add(signInWindow).Sub(now)
}

// failed counts a failure of key.
func (t *throttle) failed(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failures == nil {
		t.failures = map[string][]time.Time{}
	}
	t.failures[key] = append(t.recentLocked(key, now), now)
	if len(t.failures) > 10000 {
		for k := range t.failures {
			if len(t.recentLocked(k, now)) == 0 {
				delete(t.failures, k)
			}
		}
	}
}

// recentLocked drops key's failures older than the window and answers the rest.
func (t *throttle) recentLocked(key string, now time.Time) []time.Time {
	all := t.failures[key]
	i := 0
	for i < len(all) && now.Sub(all[i]) >= signInWindow {
		i++
	}
	if i == len(all) {
		delete(t.failures, key)
		return nil
	}
	t.failures[key] = all[i:]
	return all[i:]
}

// signIn checks a name and password and answers a session cookie. Every
// attempt is audited, failed ones with the reason (the name only if it
// belongs to a user, so a password typed in the wrong field is never
// recorded); the client learns only that it failed.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	var req signInRequest
	if err := decodeCommand(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	ip, _ := remoteOf(r)
	now := s.clock()
	name := req.Name
	if access.ParseUserName(name) != nil {
		name = "?" // not a user's: one bucket, so junk names cannot grow the map
	}
	nameKey := ip + " " + name
	blocked, wait := s.signIns.blocked(nameKey, signInFailures, now)
	if !blocked {
		blocked, wait = s.signIns.blocked(ip, addressFailures, now)
	}
	if blocked {
		if err := s.recordSignIn(r, req.Name, access.Identity{}, "throttled"); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		writeError(w, r, s.log, &requestError{kind: errTooManyRequests, code: "too_many_attempts",
			message: "too many failed sign-ins from this address; try again in " + wait.Round(time.Minute).String()})
		return
	}
	id, credential, err := s.users.SignIn(r.Context(), req.Name, req.Password)
	var failed *access.SignInError
	if errors.As(err, &failed) {
		s.signIns.failed(nameKey, now)
		s.signIns.failed(ip, now)
		if err := s.recordSignIn(r, req.Name, access.Identity{}, failed.Reason); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		writeError(w, r, s.log, &requestError{kind: errUnauthenticated, code: "signin_failed", message: access.ErrBadCredentials.Error()})
		return
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.recordSignIn(r, req.Name, id, ""); err != nil {
		// An unrecorded sign-in must not be usable.
		if rerr := s.users.Revoke(context.WithoutCancel(r.Context()), id.User, id.User, id.Credential); rerr != nil {
			s.log.Error("revoking an unaudited session failed", "error", rerr.Error())
		}
		writeError(w, r, s.log, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: credential, Path: "/",
		Expires: id.ExpiresAt, MaxAge: int(id.ExpiresAt.Sub(s.clock()).Seconds()),
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteStrictMode,
	})
	writeJSON(w, http.StatusOK, newSessionResponse(id, credential))
}

// recordSignIn audits a sign-in attempt. The name tried is recorded only
// when it is a user's (outcome other than unknown_user).
func (s *Server) recordSignIn(r *http.Request, tried string, id access.Identity, outcome string) error {
	entry := access.Entry{Action: access.SignedIn, User: id.User, Role: id.Role, Outcome: outcome}
	if outcome != "" {
		entry.Action = access.SignInFailed
		if _, known := s.users.User(tried); known {
			entry.User = tried
		}
	}
	return s.record(r, entry)
}

// signOut ends the credential the request was made with.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	id, _ := identityOf(r.Context())
	if err := s.users.Revoke(r.Context(), id.User, id.User, id.Credential); err != nil && !errors.Is(err, access.ErrCredentialNotFound) {
		writeError(w, r, s.log, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteStrictMode})
	s.hub.EndSession(id.Credential)
	if err := s.recordAccess(r, access.SignedOut, nil, ""); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"signedOut": true})
}

// session answers who is signed in, and the CSRF token of a browser session.
func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	id, _ := identityOf(r.Context())
	credential, _, _ := presented(r)
	writeJSON(w, http.StatusOK, newSessionResponse(id, credential))
}
