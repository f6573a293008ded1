package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/continuum-care/continuum/web"
)

// Shape of the websocket load test.
const (
	loadClients       = 1000
	loadClientsShort  = 200
	loadDuration      = 6 * time.Second
	loadDurationShort = 2 * time.Second
	loadWriters       = 4
	// dialers bounds the handshakes in flight while the clients connect.
	dialers = 50
	// settleTimeout bounds the wait, after the writers stop, for every
	// client to hold the census the server serves.
	settleTimeout = 30 * time.Second
)

// censusFrame is a websocket frame of the census topic.
type censusFrame struct {
	Type     string          `json:"type"`
	Topic    string          `json:"topic"`
	Position string          `json:"position"`
	Data     json.RawMessage `json:"data"`
}

// censusClient is one websocket subscriber to the census. It keeps only
// the raw bytes of the last frame (parsing a thousand clients' every frame
// would measure the test, not the server) and reconnects, resubscribing
// after the position it holds, if the server drops it.
type censusClient struct {
	url    string
	header http.Header
	dialer *websocket.Dialer

	mu         sync.Mutex
	conn       *websocket.Conn
	last       []byte
	frames     int
	reconnects int
	snapshot   chan struct{} // closed at the first frame
}

// connect opens the connection and subscribes to the census after the
// position of the last frame held, if any.
func (c *censusClient) connect(ctx context.Context) error {
	conn, _, err := c.dialer.DialContext(ctx, c.url, c.header)
	if err != nil {
		return err
	}
	after := "null"
	if f, _, err := c.lastFrame(); err == nil && f.Position != "" {
		after = strconv.Quote(f.Position)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"subscribe":"census","after":`+after+`}`)); err != nil {
		conn.Close()
		return err
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	return nil
}

// read receives frames until ctx ends, reconnecting when dropped.
func (c *censusClient) read(ctx context.Context) {
	for ctx.Err() == nil {
		c.mu.Lock()
		conn := c.conn
		c.mu.Unlock()
		_, msg, err := conn.ReadMessage()
		if err == nil {
			c.mu.Lock()
			c.last = msg
			c.frames++
			if c.frames == 1 {
				close(c.snapshot)
			}
			c.mu.Unlock()
			continue
		}
		conn.Close()
		for ctx.Err() == nil {
			if err := c.connect(ctx); err == nil {
				c.mu.Lock()
				c.reconnects++
				c.mu.Unlock()
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// close ends the connection, which ends read once ctx is done.
func (c *censusClient) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		c.conn.Close()
	}
}

// lastFrame parses the last frame received, also returned raw.
func (c *censusClient) lastFrame() (censusFrame, []byte, error) {
	c.mu.Lock()
	raw := c.last
	c.mu.Unlock()
	var f censusFrame
	if raw == nil {
		return f, nil, errors.New("no frame yet")
	}
	err := json.Unmarshal(raw, &f)
	return f, raw, err
}

// holds reports whether the client's last frame is the census served at
// position pos with these bytes, or says what it holds instead.
func (c *censusClient) holds(served []byte, pos string) (bool, string) {
	f, raw, err := c.lastFrame()
	switch {
	case err != nil:
		return false, err.Error()
	case f.Type != "snapshot" && f.Type != "update", f.Topic != "census":
		return false, fmt.Sprintf("a %s frame on %q: %.200s", f.Type, f.Topic, raw)
	case f.Position != pos:
		return false, "position " + f.Position + ", served " + pos
	case !bytes.Equal(f.Data, served):
		return false, "different bytes at the same position " + pos
	}
	return true, ""
}

// TestWebsocketLoad connects a thousand census subscribers to the real
// server and runs command writers for a fixed time; once the writers stop,
// every client's last census must equal the one GET /api/census serves,
// byte for byte and at the same position, within a settle deadline.
func TestWebsocketLoad(t *testing.T) {
	clients, duration := loadClients, loadDuration
	if testing.Short() {
		clients, duration = loadClientsShort, loadDurationShort
	}
	srv := startServer(t, serverOptions{dataDir: t.TempDir()})
	srv.waitReady()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(srv.base, "http") + "/ws"
	dialer := &websocket.Dialer{HandshakeTimeout: requestTimeout}
	subscribers := make([]*censusClient, clients)
	var readers sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		for _, c := range subscribers {
			if c != nil {
				c.close()
			}
		}
		readers.Wait()
	})
	connecting := time.Now()
	slots := make(chan struct{}, dialers)
	failures := make(chan error, clients)
	var dialing sync.WaitGroup
	for i := range subscribers {
		c := &censusClient{url: wsURL, header: srv.api.auth, dialer: dialer, snapshot: make(chan struct{})}
		subscribers[i] = c
		dialing.Add(1)
		slots <- struct{}{}
		go func() {
			defer dialing.Done()
			defer func() { <-slots }()
			if err := c.connect(ctx); err != nil {
				failures <- err
				return
			}
			readers.Add(1)
			go func() {
				defer readers.Done()
				c.read(ctx)
			}()
			select {
			case <-c.snapshot:
			case <-time.After(requestTimeout):
				failures <- fmt.Errorf("no census snapshot within %s of subscribing", requestTimeout)
			}
		}()
	}
	dialing.Wait()
	close(failures)
	for err := range failures {
		t.Fatalf("connecting %d census subscribers: %v", clients, err)
	}
	connected := time.Since(connecting)

	writing, stopWriting := context.WithCancel(ctx)
	load := startWorkload(writing, srv.api, loadWriters)
	time.Sleep(duration)
	stopWriting()
	acked := load.stop(t)
	if n := load.unanswered(); n > 0 {
		t.Errorf("%d writer requests got no answer within %s", n, requestTimeout)
	}

	settling := time.Now()
	var served []byte
	var pos string
	behind := clients
	lastWhy := ""
	for time.Since(settling) < settleTimeout {
		data, at := srv.api.census(t)
		served, pos = data, web.FormatPosition(at)
		behind = 0
		for _, c := range subscribers {
			if ok, why := c.holds(served, pos); !ok {
				behind++
				lastWhy = why
			}
		}
		if behind == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if behind > 0 {
		t.Fatalf("%d of %d clients do not hold the served census %s after %s (one holds: %s)", behind, clients, pos, settleTimeout, lastWhy)
	}
	settled := time.Since(settling)

	frames, reconnects, dropped := 0, 0, 0
	for _, c := range subscribers {
		c.mu.Lock()
		frames += c.frames
		reconnects += c.reconnects
		if c.reconnects > 0 {
			dropped++
		}
		c.mu.Unlock()
	}
	t.Logf("outcomes: %s", load.summary())
	t.Logf("%d clients held (connected in %s; %d were dropped and reconnected, %d reconnections); %d writers acknowledged %d commands in %s; %d census frames delivered (%.0f/s); every client holds the served census at %s, settled %s after the writers stopped",
		clients, connected.Round(time.Millisecond), dropped, reconnects, loadWriters, len(acked), duration,
		frames, float64(frames)/duration.Seconds(), pos, settled.Round(time.Millisecond))
}
