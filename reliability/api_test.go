package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/web"
)

// requestTimeout is the deadline of every request a test makes: an answer
// that takes longer is a hang, which the tests treat as a failure.
const requestTimeout = 15 * time.Second

// apiClient speaks continuum's HTTP API to one server.
type apiClient struct {
	base string
	http *http.Client
	// auth and admin hold the clinician's and the admin's credentials (see
	// credentials); nil until the server is ready. Requests go out as the
	// clinician unless they say otherwise.
	auth, admin http.Header
}

func newAPIClient(base string) *apiClient {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	return &apiClient{base: base, http: &http.Client{Transport: transport, Timeout: requestTimeout}}
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// apiError is the body of every refusal.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// refusal decodes the error body of a non-2xx answer; ok is false when
// the body is not the API's error JSON.
func (r response) refusal() (e apiError, ok bool) {
	var body struct {
		Error *apiError `json:"error"`
	}
	if json.Unmarshal(r.body, &body) != nil || body.Error == nil {
		return apiError{}, false
	}
	return *body.Error, true
}

// do sends one request with the client's credentials and the given headers.
func (c *apiClient) do(ctx context.Context, method, path string, body []byte, header http.Header) (response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	for k, v := range c.auth {
		req.Header[k] = v
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// commandAnswer is the body of an accepted command.
type commandAnswer struct {
	Stream    string   `json:"stream"`
	Position  string   `json:"position"`
	Revision  uint64   `json:"revision"`
	Events    []string `json:"events"`
	Duplicate bool     `json:"duplicate"`
	Patient   string   `json:"patient"`
	Projected bool     `json:"projected"`
}

// command posts a command body as the clinician with a fresh idempotency
// key. The answer is decoded only for a 2xx status.
func (c *apiClient) command(ctx context.Context, path string, body any) (response, commandAnswer, error) {
	return c.commandAs(ctx, nil, path, body)
}

// commandAs is command with other credentials (c.admin); nil means the
// clinician's.
func (c *apiClient) commandAs(ctx context.Context, auth http.Header, path string, body any) (response, commandAnswer, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return response{}, commandAnswer{}, err
	}
	header := http.Header{
		"Content-Type":        {"application/json"},
		web.IdempotencyHeader: {uuid.NewString()},
	}
	for k, v := range auth {
		header[k] = v
	}
	r, err := c.do(ctx, http.MethodPost, path, b, header)
	if err != nil || r.status/100 != 2 {
		return r, commandAnswer{}, err
	}
	var a commandAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		return r, commandAnswer{}, fmt.Errorf("command answer: %w", err)
	}
	return r, a, nil
}

// readiness asks /readyz, returning its status and, when not ready, why.
func (c *apiClient) readiness() (status int, reason string, err error) {
	r, err := c.do(context.Background(), http.MethodGet, "/readyz", nil, nil)
	if err != nil {
		return 0, "", err
	}
	e, _ := r.refusal()
	return r.status, e.Message, nil
}

// census fetches the census board's JSON and the position it reflects.
func (c *apiClient) census(t testing.TB) ([]byte, eventstore.Position) {
	t.Helper()
	r, err := c.do(context.Background(), http.MethodGet, "/api/census", nil, nil)
	if err != nil {
		t.Fatalf("GET /api/census: %v", err)
	}
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/census: status %d: %s", r.status, r.body)
	}
	pos, err := web.ParsePosition(r.header.Get(web.PositionHeader))
	if err != nil {
		t.Fatalf("GET /api/census: position header: %v", err)
	}
	return bytes.TrimSpace(r.body), pos
}
