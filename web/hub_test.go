package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/projections"
)

// frame is a message the hub sends.
type frame struct {
	Type     string          `json:"type"`
	Topic    string          `json:"topic"`
	Position string          `json:"position"`
	Data     json.RawMessage `json:"data"`
	Error    errorDetail     `json:"error"`
}

// frameWait bounds every wait for a frame, so a missing frame fails the
// test instead of hanging it; it is not a performance assertion.
const frameWait = 10 * time.Second

// dialWS opens a websocket to a test server with the given headers; to
// a stack, without headers, as its unrestricted clinician.
func dialWS(t *testing.T, serverURL string, header http.Header) *websocket.Conn {
	t.Helper()
	if auth, ok := stacksByURL.Load(serverURL); ok && header == nil {
		header = http.Header{"Authorization": {auth.(*stackAuth).bearer(clinicianUser)}}
	}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(serverURL, "http")+"/ws", header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// send writes one client message.
func send(t *testing.T, conn *websocket.Conn, msg string) {
	t.Helper()
	if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// subscribe follows topic from after ("" for none).
func subscribe(t *testing.T, conn *websocket.Conn, topic, after string) {
	t.Helper()
	a := "null"
	if after != "" {
		a = `"` + after + `"`
	}
	send(t, conn, `{"subscribe":"`+topic+`","after":`+a+`}`)
}

// next reads the next frame.
func next(t *testing.T, conn *websocket.Conn) frame {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(frameWait))
	_, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	var f frame
	if err := json.Unmarshal(msg, &f); err != nil {
		t.Fatalf("frame is not JSON: %v: %s", err, msg)
	}
	return f
}

// expect reads the next frame and checks its type and topic.
func expect(t *testing.T, conn *websocket.Conn, typ, topic string) frame {
	t.Helper()
	f := next(t, conn)
	if f.Type != typ || f.Topic != topic {
		t.Fatalf("got %s %s (%s %s), want %s %s", f.Type, f.Topic, f.Error.Code, f.Error.Message, typ, topic)
	}
	return f
}

// peopleAt reads a census frame's head count at a level.
func peopleAt(t *testing.T, f frame, level string) int {
	t.Helper()
	var census struct {
		Levels []struct {
			Level  string
			People int
		}
	}
	if err := json.Unmarshal(f.Data, &census); err != nil {
		t.Fatal(err)
	}
	for _, l := range census.Levels {
		if l.Level == level {
			return l.People
		}
	}
	t.Fatalf("no level %s in %s", level, f.Data)
	return 0
}

// laterThan reports whether position token a is after b.
func laterThan(t *testing.T, a, b string) bool {
	t.Helper()
	pa, err := ParsePosition(a)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := ParsePosition(b)
	if err != nil {
		t.Fatal(err)
	}
	return pb.Less(pa)
}

func TestSnapshotThenUpdate(t *testing.T) {
	st := newStack(t)
	conn := dialWS(t, st.http.URL, nil)
	subscribe(t, conn, "census", "")
	snap := expect(t, conn, "snapshot", "census")
	if got := peopleAt(t, snap, "php"); got != 0 {
		t.Fatalf("php census %d before any admission", got)
	}
	id := st.admitted(t, "Una Update")
	// The referral and intake change the census's pipeline too: read
	// updates until the admission shows.
	var last frame
	for last.Data == nil || peopleAt(t, last, "php") != 1 {
		last = expect(t, conn, "update", "census")
	}
	if !laterThan(t, last.Position, snap.Position) {
		t.Errorf("update at %s is not after the snapshot at %s", last.Position, snap.Position)
	}
	for _, secret := range []string{"Una", id} {
		if bytes.Contains(last.Data, []byte(secret)) {
			t.Errorf("a census frame shows %q", secret)
		}
	}
}

func TestPatientAndGroupTopics(t *testing.T) {
	st := newStack(t)
	id := joined(t, st, "psychodynamic-1", "Tom Topic")
	conn := dialWS(t, st.http.URL, nil)
	subscribe(t, conn, "patient:"+strings.ToUpper(id), "")
	snap := expect(t, conn, "snapshot", "patient:"+id)
	subscribe(t, conn, "group:psychodynamic-1", "")
	expect(t, conn, "snapshot", "group:psychodynamic-1")

	st.mustPost(t, "/api/patients/"+id+"/measures", map[string]any{"instrument": "phq9", "score": 4})
	up := expect(t, conn, "update", "patient:"+id)
	if !laterThan(t, up.Position, snap.Position) || !bytes.Contains(up.Data, []byte(`"score":4`)) {
		t.Errorf("patient update at %s: %s", up.Position, up.Data)
	}
	st.mustPost(t, "/api/groups/psychodynamic-1/leave", map[string]any{"patient": id, "reason": "withdrew"})
	// Leaving changes both the roster and the journey, in either order.
	got := map[string]bool{}
	for len(got) < 2 {
		f := next(t, conn)
		if f.Type != "update" {
			t.Fatalf("got %s %s", f.Type, f.Topic)
		}
		got[f.Topic] = true
	}
	if !got["group:psychodynamic-1"] || !got["patient:"+id] {
		t.Errorf("updates for %v", got)
	}

	send(t, conn, `{"unsubscribe":"patient:`+id+`"}`)
	// A connection's messages are handled in order: once a later
	// subscription is answered, the unsubscription has taken effect.
	subscribe(t, conn, "group:psychodynamic-2", "")
	expect(t, conn, "snapshot", "group:psychodynamic-2")
	st.mustPost(t, "/api/patients/"+id+"/measures", map[string]any{"instrument": "phq9", "score": 3})
	// The unsubscribed topic sends nothing: the next frame is the answer
	// to a later subscription.
	subscribe(t, conn, "group:psychodynamic-3", "")
	expect(t, conn, "snapshot", "group:psychodynamic-3")
}

func TestReconnectLosesNothing(t *testing.T) {
	st := newStack(t)
	id := st.admitted(t, "Rex Reconnect")
	topic := "patient:" + id

	first := dialWS(t, st.http.URL, nil)
	subscribe(t, first, topic, "")
	seen := expect(t, first, "snapshot", topic)
	first.Close()

	t.Run("changed while away: a snapshot with the change", func(t *testing.T) {
		st.mustPost(t, "/api/patients/"+id+"/step-down", map[string]any{"to": "iop", "program": "iop-morning"})
		conn := dialWS(t, st.http.URL, nil)
		subscribe(t, conn, topic, seen.Position)
		snap := expect(t, conn, "snapshot", topic)
		if !laterThan(t, snap.Position, seen.Position) || !bytes.Contains(snap.Data, []byte("SteppedDown")) {
			t.Fatalf("snapshot at %s lacks the step-down: %s", snap.Position, snap.Data)
		}
		seen = snap
	})
	t.Run("unchanged: nothing until the next change", func(t *testing.T) {
		// Following a person appends an audit entry; the projections skip
		// audit streams, so a reconnect finds the position it left.
		const group = "group:psychodynamic-3"
		st.settle(t)
		held := dialWS(t, st.http.URL, nil)
		subscribe(t, held, group, "")
		seen := expect(t, held, "snapshot", group)
		held.Close()
		conn := dialWS(t, st.http.URL, nil)
		subscribe(t, conn, group, seen.Position)
		// Frames of one connection keep the order of its requests, so had
		// the first subscription sent anything, it would come first.
		subscribe(t, conn, "census", "")
		expect(t, conn, "snapshot", "census")
		st.mustPost(t, "/api/groups/psychodynamic-3/sessions", map[string]any{})
		for {
			f := next(t, conn)
			if f.Topic == group {
				if f.Type != "update" || !laterThan(t, f.Position, seen.Position) {
					t.Fatalf("got %s at %s after %s", f.Type, f.Position, seen.Position)
				}
				return
			}
		}
	})
	t.Run("a position from elsewhere gets a snapshot", func(t *testing.T) {
		conn := dialWS(t, st.http.URL, nil)
		subscribe(t, conn, topic, "999999/999999")
		expect(t, conn, "snapshot", topic)
	})
}

func TestClientMessageErrors(t *testing.T) {
	st := newStack(t)
	tests := []struct {
		name string
		msg  string
		code string
		// topic is the topic the refusal names, so the client can route it.
		topic string
	}{
		{name: "unknown topic", msg: `{"subscribe":"everything"}`, code: "invalid_input", topic: "everything"},
		{name: "bad patient ID", msg: `{"subscribe":"patient:bob"}`, code: "invalid_input", topic: "patient:bob"},
		{name: "unknown patient", msg: `{"subscribe":"patient:6F1E1C52-7a35-4c3e-9a7d-0d1c2b3a4f5e"}`, code: "not_found",
			topic: "patient:6f1e1c52-7a35-4c3e-9a7d-0d1c2b3a4f5e"},
		{name: "unknown member", msg: `{"subscribe":"census","since":1}`, code: "unknown_field"},
		{name: "bad position", msg: `{"subscribe":"census","after":"yesterday"}`, code: "invalid_input", topic: "census"},
		{name: "neither subscribe nor unsubscribe", msg: `{}`, code: "malformed_message"},
		{name: "not JSON", msg: `subscribe census`, code: "malformed_json"},
	}
	conn := dialWS(t, st.http.URL, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			send(t, conn, tc.msg)
			f := next(t, conn)
			if f.Type != "error" || f.Error.Code != tc.code || f.Error.Message == "" || f.Topic != tc.topic {
				t.Fatalf("got %+v, want an error %s about %q", f, tc.code, tc.topic)
			}
		})
	}
	t.Run("binary frame", func(t *testing.T) {
		if err := conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2}); err != nil {
			t.Fatal(err)
		}
		if f := next(t, conn); f.Type != "error" || f.Error.Code != "malformed_message" {
			t.Fatalf("got %+v", f)
		}
	})
	t.Run("still serves after errors", func(t *testing.T) {
		subscribe(t, conn, "census", "")
		expect(t, conn, "snapshot", "census")
	})
}

func TestOriginCheck(t *testing.T) {
	st := newStack(t, func(c *Config) { c.AllowedOrigins = []string{"https://board.example.org"} })
	host := strings.TrimPrefix(st.http.URL, "http://")
	tests := []struct {
		name   string
		origin string
		ok     bool
	}{
		{name: "no origin (not a browser)", origin: "", ok: true},
		{name: "same host", origin: "http://" + host, ok: true},
		{name: "allowed origin", origin: "https://board.example.org", ok: true},
		{name: "foreign origin", origin: "https://evil.example", ok: false},
		{name: "same host name, other port", origin: "http://127.0.0.1:1", ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := http.Header{"Authorization": {st.auth.bearer(clinicianUser)}}
			if tc.origin != "" {
				header.Set("Origin", tc.origin)
			}
			conn, resp, err := websocket.DefaultDialer.Dial("ws://"+host+"/ws", header)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				conn.Close()
				return
			}
			if err == nil {
				conn.Close()
				t.Fatal("a foreign origin was accepted")
			}
			if !errors.Is(err, websocket.ErrBadHandshake) || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("err %v, status %v; want a 403 handshake refusal", err, resp)
			}
		})
	}
}

// memoryViews is an in-memory Views whose topics change when the test
// says so: a real implementation of the port, for driving the hub with
// views of any size and positions in any order.
type memoryViews struct {
	mu    sync.Mutex
	data  []byte
	pos   eventstore.Position
	calls int
}

func (v *memoryViews) View(topic string) ([]byte, eventstore.Position, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	if topic != projections.CensusTopic {
		return nil, eventstore.Position{}, projections.ErrNotFound
	}
	return v.data, v.pos, nil
}

// set changes the view and its position.
func (v *memoryViews) set(data []byte, pos uint64) {
	v.mu.Lock()
	v.data, v.pos = data, eventstore.Position{Commit: pos, Prepare: pos}
	v.mu.Unlock()
}

// hubServer serves a bare hub over HTTP.
func hubServer(t *testing.T, views Views, opts HubOptions) (*Hub, *httptest.Server) {
	t.Helper()
	hub := NewHub(views, discardLogger(), opts)
	upgrader := newUpgrader(allowedOrigins(nil), discardLogger())
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.serveWS(upgrader, w, r, wsSession{gate: allowAllTopics})
	}))
	t.Cleanup(func() {
		ts.Close()
		hub.Close()
	})
	return hub, ts
}

// eventually polls cond until it holds, failing after frameWait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(frameWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSlowClientIsDropped(t *testing.T) {
	views := &memoryViews{}
	big := []byte(`"` + strings.Repeat("x", 1<<20) + `"`)
	views.set(big, 1)
	hub, ts := hubServer(t, views, HubOptions{SendBuffer: 2})

	slow := dialWS(t, ts.URL, nil)
	subscribe(t, slow, "census", "")
	fast := dialWS(t, ts.URL, nil)
	subscribe(t, fast, "census", "")
	expect(t, fast, "snapshot", "census")
	eventually(t, "both subscriptions", func() bool { return hub.Stats().Subscriptions == 2 })

	// The slow client never reads: the socket fills, its writer blocks, its
	// buffer fills, and the hub drops it rather than wait. The fast client
	// reads every update and stays.
	var pos uint64 = 1
	for hub.Stats().Dropped == 0 {
		pos++
		views.set(big, pos)
		hub.Changed(projections.CensusTopic)
		f := expect(t, fast, "update", "census")
		if f.Position != FormatPosition(eventstore.Position{Commit: pos, Prepare: pos}) {
			t.Fatalf("fast client got %s, want update %d", f.Position, pos)
		}
		if pos > 1000 {
			t.Fatal("the slow client was never dropped")
		}
	}
	if s := hub.Stats(); s.Dropped != 1 || s.Clients != 1 || s.Subscriptions != 1 {
		t.Errorf("stats after the drop: %+v", s)
	}
	slow.SetReadDeadline(time.Now().Add(frameWait))
	for {
		if _, _, err := slow.ReadMessage(); err != nil {
			break // the server closed the connection
		}
	}
	pos++
	views.set([]byte(`{"after":"drop"}`), pos)
	hub.Changed(projections.CensusTopic)
	if f := expect(t, fast, "update", "census"); string(f.Data) != `{"after":"drop"}` {
		t.Errorf("fast client after the drop got %s", f.Data)
	}
}

func TestUpdatesAreRenderedOncePerChange(t *testing.T) {
	views := &memoryViews{}
	views.set([]byte(`{"n":1}`), 1)
	hub, ts := hubServer(t, views, HubOptions{})
	const clients = 5
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		conns[i] = dialWS(t, ts.URL, nil)
		subscribe(t, conns[i], "census", "")
		expect(t, conns[i], "snapshot", "census")
	}
	before := hub.Stats().Renders
	views.set([]byte(`{"n":2}`), 2)
	hub.Changed(projections.CensusTopic, projections.CensusTopic)
	for _, c := range conns {
		if f := expect(t, c, "update", "census"); string(f.Data) != `{"n":2}` {
			t.Fatalf("update %s", f.Data)
		}
	}
	if renders := hub.Stats().Renders - before; renders != 1 {
		t.Errorf("%d renders for one change and %d subscribers, want 1", renders, clients)
	}
}

func TestSamePositionNewBytesAndRebuild(t *testing.T) {
	views := &memoryViews{}
	views.set([]byte(`{"today":"2026-11-10"}`), 5)
	hub, ts := hubServer(t, views, HubOptions{})
	conn := dialWS(t, ts.URL, nil)
	subscribe(t, conn, "census", "")
	expect(t, conn, "snapshot", "census")

	// Midnight: no event, same position, new figures.
	views.set([]byte(`{"today":"2026-11-11"}`), 5)
	hub.Changed(projections.CensusTopic)
	if f := expect(t, conn, "update", "census"); string(f.Data) != `{"today":"2026-11-11"}` {
		t.Fatalf("midnight update %s", f.Data)
	}
	// A rebuild starts over from the beginning of the log: positions go back.
	views.set([]byte(`{"today":"2026-11-11","rebuilding":true}`), 0)
	hub.Reset()
	if f := expect(t, conn, "update", "census"); f.Position != "0/0" {
		t.Fatalf("rebuild update at %s", f.Position)
	}
	// A notification that changes nothing sends nothing: the next frame
	// is the one after a real change.
	hub.Changed(projections.CensusTopic)
	views.set([]byte(`{"n":3}`), 1)
	hub.Changed(projections.CensusTopic)
	if f := expect(t, conn, "update", "census"); string(f.Data) != `{"n":3}` {
		t.Fatalf("got %s", f.Data)
	}
}

func TestSilentPeerIsDisconnected(t *testing.T) {
	views := &memoryViews{}
	views.set([]byte(`{}`), 1)
	const pongWait = 500 * time.Millisecond
	hub, ts := hubServer(t, views, HubOptions{PingInterval: pongWait / 10, PongWait: pongWait})
	// A peer that never reads never answers pings.
	dialWS(t, ts.URL, nil)
	eventually(t, "connection registered", func() bool { return hub.Stats().Clients == 1 })
	eventually(t, "silent peer dropped", func() bool { return hub.Stats().Clients == 0 })
	if hub.Stats().Dropped != 0 {
		t.Error("a silent peer was counted as a slow one")
	}
	// A peer that reads answers pings and stays, however long it idles:
	// wait for pings spanning twice the pong wait.
	alive := dialWS(t, ts.URL, nil)
	var mu sync.Mutex
	var first, last time.Time
	alive.SetPingHandler(func(data string) error {
		mu.Lock()
		if first.IsZero() {
			first = time.Now()
		}
		last = time.Now()
		mu.Unlock()
		return alive.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		for {
			if _, _, err := alive.ReadMessage(); err != nil {
				return
			}
		}
	}()
	eventually(t, "pings over two pong waits", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !first.IsZero() && last.Sub(first) > 2*pongWait
	})
	if c := hub.Stats().Clients; c != 1 {
		t.Errorf("%d clients, want the reading peer still connected", c)
	}
}

// A client that stops reading leaves a frame part written by the hub: the
// rest of it, and every frame after it, go through the connection's
// writer and arrive whole and in order, a pong owed meanwhile goes out
// between two frames, and once the client has caught up frames are
// written at once again.
func TestPartWrittenFramesArriveWholeAndInOrder(t *testing.T) {
	views := &memoryViews{}
	views.set([]byte(`{"n":0}`), 1)
	hub, ts := hubServer(t, views, HubOptions{SendBuffer: 16})
	conn := dialWS(t, ts.URL, nil)
	subscribe(t, conn, "census", "")
	expect(t, conn, "snapshot", "census")
	var pongs atomic.Int32
	conn.SetPongHandler(func(string) error { pongs.Add(1); return nil })

	// The client does not read: views of a megabyte soon fill the socket
	// buffers of both ends, and one is part written.
	pad := strings.Repeat("x", 1<<20)
	updates := 0
	update := func() {
		updates++
		views.set([]byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, updates, pad)), uint64(updates+1))
		hub.Changed(projections.CensusTopic)
		eventually(t, "the update sent", func() bool { return hub.Stats().Frames == uint64(updates+1) })
	}
	for hub.Stats().Queued == 0 {
		if updates == 64 {
			t.Fatal("64 MiB sent to a client that does not read, and no frame was part written")
		}
		update()
	}
	// The server answers this ping while a frame is part written.
	if err := conn.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(frameWait)); err != nil {
		t.Fatal(err)
	}
	queuedBefore := hub.Stats().Queued
	for range 3 {
		update()
	}
	if q := hub.Stats().Queued - queuedBefore; q != 3 {
		t.Fatalf("%d of 3 frames after a part-written one went through the writer", q)
	}
	for n := 1; n <= updates; n++ {
		f := expect(t, conn, "update", "census")
		var view struct {
			N   int
			Pad string
		}
		if err := json.Unmarshal(f.Data, &view); err != nil {
			t.Fatal(err)
		}
		if view.N != n || view.Pad != pad {
			t.Fatalf("update %d: got n=%d and %d bytes of padding", n, view.N, len(view.Pad))
		}
	}
	// Caught up: the next frame does not wait in the queue.
	queued := hub.Stats().Queued
	views.set([]byte(`{"n":"last"}`), uint64(updates+2))
	hub.Changed(projections.CensusTopic)
	if f := expect(t, conn, "update", "census"); string(f.Data) != `{"n":"last"}` {
		t.Fatalf("last update %s", f.Data)
	}
	if canWriteNow && hub.Stats().Queued != queued {
		t.Errorf("a frame to a client that had caught up was queued")
	}
	// The pong came between two frames (or the client would have failed
	// reading), by the time the last one did.
	if p := pongs.Load(); p != 1 {
		t.Errorf("%d pongs, want 1", p)
	}
}

// Frames of every length form of RFC 6455 section 5.2 (7-bit, 16-bit and
// 64-bit lengths), at the edges, reach a real client whole.
func TestFrameLengthForms(t *testing.T) {
	views := &memoryViews{}
	views.set([]byte(`{}`), 1)
	hub, ts := hubServer(t, views, HubOptions{})
	conn := dialWS(t, ts.URL, nil)
	subscribe(t, conn, "census", "")
	expect(t, conn, "snapshot", "census")
	for i, size := range []int{125, 126, 127, 0xffff, 0x10000} {
		pos := eventstore.Position{Commit: uint64(i + 2), Prepare: uint64(i + 2)}
		overhead := len(viewJSON("update", projections.CensusTopic, pos, nil))
		data := []byte(`"` + strings.Repeat("y", size-overhead-2) + `"`)
		if n := len(viewJSON("update", projections.CensusTopic, pos, data)); n != size {
			t.Fatalf("message of %d bytes, want %d", n, size)
		}
		views.set(data, pos.Commit)
		hub.Changed(projections.CensusTopic)
		conn.SetReadDeadline(time.Now().Add(frameWait))
		_, msg, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if len(msg) != size || !bytes.HasSuffix(msg, append(data, '}')) {
			t.Fatalf("%d bytes: read %d", size, len(msg))
		}
	}
}

// A pong the reader owes while a frame is queued (perhaps part written)
// goes out after that frame, never inside it: control defers it and
// writeQueued sends it once the frame is whole.
func TestOwedPongFollowsTheQueuedFrame(t *testing.T) {
	accepted := make(chan *websocket.Conn, 1)
	upgrader := newUpgrader(allowedOrigins(nil), discardLogger())
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		accepted <- conn
	}))
	t.Cleanup(ts.Close)
	client := dialWS(t, ts.URL, http.Header{})
	server := <-accepted
	t.Cleanup(func() { server.Close() })
	var pongs atomic.Int32
	client.SetPongHandler(func(string) error { pongs.Add(1); return nil })

	c := &wsClient{conn: server}
	c.queued.Store(1) // a frame is queued: the pong must wait for it
	if err := c.control(websocket.PongMessage, []byte("p"), frameWait); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"a", "b"} {
		c.wmu.Lock()
		err := c.writeQueued(textFrame([]byte(text)), frameWait)
		c.wmu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
	read := func(want string, wantPongs int32) {
		t.Helper()
		client.SetReadDeadline(time.Now().Add(frameWait))
		_, msg, err := client.ReadMessage()
		if err != nil || string(msg) != want {
			t.Fatalf("read %q, %v; want %q", msg, err, want)
		}
		if p := pongs.Load(); p != wantPongs {
			t.Fatalf("after %q: %d pongs, want %d", want, p, wantPongs)
		}
	}
	read("a", 0) // the pong was not written ahead of the queued frame
	read("b", 1) // it came right after it
}
