package web

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/google/uuid"
)

// routeOf names the request by its route pattern ("POST
// /api/patients/{id}/admit"), never by its path or query: paths carry
// patient IDs and queries carry searched names, neither of which belongs
// in a log line or a metric label.
func routeOf(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return "unmatched"
}

// correlationKey carries the request's correlation ID in its context.
type correlationKey struct{}

// CorrelationHeader is the request header a caller may set to tie its
// request to events and log lines; the response echoes the ID used.
const CorrelationHeader = "X-Correlation-ID"

// correlationID returns the request's correlation ID, set by the middleware.
func correlationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}

// validToken accepts a caller-given ID (correlation or idempotency) only
// if it is short printable ASCII, so it cannot forge log lines or bloat
// the events that carry it.
func validToken(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// maxTokenLen bounds correlation IDs and idempotency keys.
const maxTokenLen = 128

// statusRecorder remembers the status a handler wrote, for the access log
// and for the recover middleware (which must not write a second header).
// It passes Hijack through, which the websocket upgrade needs.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Hijack hands the connection to the websocket upgrader; the status is
// recorded as 101 since the handshake is written on the raw connection.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("web: connection cannot be hijacked")
	}
	conn, rw, err := h.Hijack()
	if err == nil && s.status == 0 {
		s.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// middleware wraps the router: correlation ID, security headers, panic
// recovery and one access-log line per request, in that order, so a panic
// is still logged with its route and correlation ID.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(CorrelationHeader)
		if !validToken(id, maxTokenLen) {
			id = uuid.NewString()
		}
		ctx := context.WithValue(r.Context(), correlationKey{}, id)
		r = r.WithContext(ctx)
		h := w.Header()
		h.Set(CorrelationHeader, id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.LogAttrs(ctx, slog.LevelError, "panic serving request",
					slog.String("route", routeOf(r)), slog.String("correlation", id),
					slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				if rec.status == 0 {
					writeError(rec, r, s.log, errInternal)
				}
			}
			took := time.Since(start)
			s.metrics.observe(routeOf(r), rec.status, took)
			s.log.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("route", routeOf(r)), slog.Int("status", rec.status),
				slog.Duration("took", took), slog.String("correlation", id))
		}()
		next.ServeHTTP(rec, r)
	})
}

// errInternal stands for a recovered panic: a bug, answered 500.
var errInternal = errors.New("internal error")
