package outcomes

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// Handler serves the outcomes of a replay of store, for GET /api/outcomes
// and the analyst page. Query parameters mirror the command line: as_of,
// from, to (YYYY-MM-DD), cohort (month or quarter) and format (json, the
// default, or html). loc decides clinical days; nil means UTC.
//
// Every request replays the log, so the answer is what the log says now;
// replays run one at a time, because each may take seconds and a
// gigabyte on a long history, and the server must stay up for clinicians.
// Responses carry pseudonyms only, never an identifier, and are not cached.
func Handler(store eventstore.Store, loc *time.Location) http.Handler {
	return &handler{store: store, loc: loc, turn: make(chan struct{}, 1)}
}

type handler struct {
	store eventstore.Store
	loc   *time.Location
	// turn holds a token while a replay runs.
	turn chan struct{}
}

// ServeHTTP answers GET with a report, anything else with 405.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "", "use GET")
		return
	}
	opts, format, err := h.options(r)
	if err != nil {
		var bad *paramError
		if errors.As(err, &bad) {
			writeError(w, http.StatusBadRequest, "bad_request", bad.param, bad.Error())
		} else {
			writeError(w, http.StatusBadRequest, "bad_request", "", err.Error())
		}
		return
	}
	select {
	case h.turn <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	report, err := Replay(r.Context(), h.store, opts, nil)
	<-h.turn
	if err != nil {
		if r.Context().Err() != nil {
			return // the client left
		}
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", "", "the event log could not be replayed; try again")
		return
	}
	var body bytes.Buffer
	contentType := "application/json"
	if format == "html" {
		contentType = "text/html; charset=utf-8"
		err = report.WriteHTML(&body)
	} else {
		err = report.WriteJSON(&body)
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "", "the report could not be written")
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(body.Bytes())
}

// options reads the query; a bad parameter is named in the error.
func (h *handler) options(r *http.Request) (Options, string, error) {
	q := r.URL.Query()
	opts := Options{Location: h.loc}
	for _, d := range []struct {
		name string
		into *domain.Date
	}{{"as_of", &opts.AsOf}, {"from", &opts.From}, {"to", &opts.To}} {
		if s := q.Get(d.name); s != "" {
			date, err := domain.ParseDate(s)
			if err != nil {
				return opts, "", &paramError{d.name, "must be a date YYYY-MM-DD"}
			}
			*d.into = date
		}
	}
	if s := q.Get("cohort"); s != "" {
		period, err := ParseCohortPeriod(s)
		if err != nil {
			return opts, "", &paramError{"cohort", "must be month or quarter"}
		}
		opts.Cohort = period
	}
	format := q.Get("format")
	switch format {
	case "", "json":
		format = "json"
	case "html":
	default:
		return opts, "", &paramError{"format", "must be json or html (CSV tables come from `continuum outcomes --format csv`)"}
	}
	return opts, format, opts.Validate()
}

// paramError names a query parameter and what is wrong with it.
type paramError struct{ param, message string }

func (e *paramError) Error() string { return e.param + " " + e.message }

// writeError answers in the API's error shape:
// {"error": {"code", "message", "field"}}.
func writeError(w http.ResponseWriter, status int, code, field, message string) {
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error detail `json:"error"`
	}{detail{Code: code, Message: message, Field: field}})
}
