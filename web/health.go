package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/continuum-care/continuum/projections"
)

// ReadinessCheck is a condition GET /readyz requires besides a reachable
// store and caught-up projections, such as a writable data directory with
// room left (ops.DataDir's Check). It returns nil when met, else an error
// whose text says why in words safe to show: no personal data, no paths.
type ReadinessCheck func(ctx context.Context) error

// readinessTimeout bounds one evaluation (the store read and the checks),
// so a hung store answers "not ready" instead of hanging the prober.
const readinessTimeout = time.Second

// readiness is the outcome of one evaluation, shared by /readyz and the
// metrics so the alert and the load balancer never disagree.
type readiness struct {
	ready bool
	// reason says why not, for an operator: safe to show.
	reason string
	// storeUp reports whether the store answered a read of its head.
	storeUp bool
	// lag is how far the projections are behind; meaningful when storeUp.
	lag projections.Lag
}

// readiness asks, in order: can the store be read, do the checks pass
// (disk room, writable directory), have the projections caught up? The
// first failure is the reason: a full disk matters more than the lag it
// causes.
func (s *Server) readiness(ctx context.Context) readiness {
	ctx, cancel := context.WithTimeout(ctx, readinessTimeout)
	defer cancel()
	lag, err := s.projections.Lag(ctx)
	if err != nil {
		return readiness{reason: "the event store cannot be reached"}
	}
	r := readiness{storeUp: true, lag: lag}
	for _, check := range s.checks {
		if err := check(ctx); err != nil {
			r.reason = err.Error()
			return r
		}
	}
	if !s.projections.Ready() {
		r.reason = "the projections are catching up with the event store"
		if lag.Events > 0 {
			behind := strconv.Itoa(lag.Events) + " events"
			if lag.AtLeast {
				behind = "at least " + behind
			}
			r.reason += ": " + behind + " behind"
		}
		return r
	}
	r.ready = true
	return r
}

// readyAnswer is the body of a ready answer.
type readyAnswer struct {
	Status   string          `json:"status"`
	Position string          `json:"position"`
	Lag      projections.Lag `json:"lag"`
}

// readyz answers 200 only when the store can be read and written and the
// projections have caught up with it, so a load balancer sends clinicians
// only to a server that can record what they do and whose screens are
// current; otherwise 503 says why.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	pos := FormatPosition(s.projections.Position())
	rd := s.readiness(r.Context())
	if rd.ready {
		writeJSON(w, http.StatusOK, readyAnswer{Status: "ready", Position: pos, Lag: rd.lag})
		return
	}
	writeError(w, r, s.log, &requestError{kind: errNotReady, code: "not_ready", message: rd.reason})
}
