package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/continuum-care/continuum/eventstore"
)

// wsClient is one websocket connection. send is written only by the hub
// (and closed by it); topics maps each followed topic to the last view
// sent, and is touched only by the hub goroutine.
type wsClient struct {
	conn *websocket.Conn
	// raw reaches the socket under conn for the hub's non-blocking
	// writes; nil when the connection is not a plain socket.
	raw syscall.RawConn
	// send queues encoded frames (or the rest of one the socket took in
	// part) for the writer goroutine.
	send chan *wireFrame
	// queued counts frames handed to send and not yet written: the hub
	// adds, the writer subtracts once the frame is on the wire, under wmu.
	queued atomic.Int32
	// wmu is held by whoever writes to the connection, so frames never
	// interleave: the writer goroutine, the hub writing directly (only
	// when nothing is queued), or the reader answering a ping.
	wmu sync.Mutex
	// owed is a pong that could not be written at once because frames
	// were queued; the writer sends it after the next one. Guarded by wmu.
	owed   []byte
	topics map[string]sentView
	// session is the connection's sign-in: its gate decides whether the
	// user may follow a topic (run on the reader goroutine, so its audit
	// append never holds up the hub), and its check re-validates the
	// credential at every ping.
	session wsSession
	// ended is set by the hub before it closes send when the session
	// ended (sign-out, revocation): the writer then closes the connection
	// with a policy-violation code instead of "going away".
	ended bool
}

// wsSession ties a connection to the credential it was opened with.
type wsSession struct {
	// credentialID names the credential, so a sign-out can close the
	// connections it opened.
	credentialID string
	gate         func(topic string) error
	// check answers errSessionEnded once the credential is no longer
	// valid (revoked elsewhere, user disabled, expired); other failures
	// (the store unreachable) keep the connection.
	check func() error
}

// errSessionEnded is a session check's answer for a credential no longer valid.
var errSessionEnded = errors.New("session ended")

// sessionEndedReason is the close frame's reason when a session ends.
const sessionEndedReason = "signed out"

// sentView is the last view a client received for a topic: its position
// and a checksum of its data (viewSum), which is 0 when the client vouched
// for the view with its "after" position instead, in which case only the
// position is compared.
type sentView struct {
	pos eventstore.Position
	sum uint64
}

// maxClientMessage bounds a client's message: a subscription is a topic
// and a position, well under this.
const maxClientMessage = 1024

// clientMessage is what a client sends: {"subscribe":"census","after":
// "12/12"} to follow a topic (after is the position it already holds, or
// null), {"unsubscribe":"census"} to stop.
type clientMessage struct {
	Subscribe   string  `json:"subscribe"`
	Unsubscribe string  `json:"unsubscribe"`
	After       *string `json:"after"`
}

// writeBuffers are shared by all connections' writers, so an idle
// connection holds no write buffer.
var writeBuffers = &sync.Pool{}

// newUpgrader accepts websocket handshakes from the same host, or from one
// of allowed (exact origins such as "https://board.example.org", as
// normalised by allowedOrigins).
func newUpgrader(allowed map[string]bool, log *slog.Logger) *websocket.Upgrader {
	return &websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   maxClientMessage,
		WriteBufferSize:  16 << 10,
		WriteBufferPool:  writeBuffers,
		// Without an Origin the client is not a browser: origin checks
		// protect browsers' ambient credentials, which others do not carry.
		CheckOrigin: func(r *http.Request) bool { return originAllowed(allowed, r) },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			err := badRequest("bad_handshake", "", "websocket handshake refused")
			if status == http.StatusForbidden {
				err = &requestError{kind: errForbidden, code: "origin_not_allowed", message: "this origin may not open a websocket here"}
			}
			writeError(w, r, log, err)
		},
	}
}

// serveWS upgrades the request and runs the connection in two goroutines
// of its own, a reader and a writer, then returns: the request's
// goroutine, deep in the HTTP server's and the middleware's frames, is not
// kept for the life of the connection (a large share of an idle
// connection's memory). gate decides which topics the connection may follow.
func (h *Hub) serveWS(upgrader *websocket.Upgrader, w http.ResponseWriter, r *http.Request, session wsSession) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &wsClient{conn: conn, send: make(chan *wireFrame, h.opts.SendBuffer), topics: map[string]sentView{}, session: session}
	if sc, ok := conn.NetConn().(syscall.Conn); ok && canWriteNow {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
		}
	}
	select {
	case h.register <- c:
	case <-h.done:
		conn.Close()
		return
	}
	go h.writePump(c)
	go h.readPump(c)
}

// leave asks the hub to forget c, unless the hub is gone already.
func (h *Hub) leave(c *wsClient) {
	select {
	case h.unregister <- c:
	case <-h.done:
	}
}

// readPump reads the client's messages until the connection fails or goes
// quiet for longer than PongWait, handing each to the hub.
func (h *Hub) readPump(c *wsClient) {
	defer func() {
		h.leave(c)
		c.conn.Close()
	}()
	c.conn.SetReadLimit(maxClientMessage)
	extend := func() { c.conn.SetReadDeadline(time.Now().Add(h.opts.PongWait)) }
	extend()
	c.conn.SetPongHandler(func(string) error { extend(); return nil })
	// Pongs and close replies go out between frames, never inside one.
	c.conn.SetPingHandler(func(data string) error {
		return c.control(websocket.PongMessage, []byte(data), h.opts.WriteWait)
	})
	c.conn.SetCloseHandler(func(code int, _ string) error {
		c.control(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), h.opts.WriteWait)
		return nil
	})
	for {
		kind, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		extend()
		req := parseClientMessage(kind, msg)
		req.client = c
		if req.err == nil && !req.unsubscribe {
			req.err = c.session.gate(req.topic)
		}
		select {
		case h.requests <- req:
		case <-h.done:
			return
		}
	}
}

// parseClientMessage validates one message into a hub request; a refusal
// becomes a request carrying the error, answered with an error frame.
func parseClientMessage(kind int, msg []byte) hubRequest {
	if kind != websocket.TextMessage {
		return hubRequest{err: badRequest("malformed_message", "", "send text frames holding JSON")}
	}
	var m clientMessage
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return hubRequest{err: jsonError(err)}
	}
	switch {
	case (m.Subscribe == "") == (m.Unsubscribe == ""):
		return hubRequest{err: badRequest("malformed_message", "", `send {"subscribe":"<topic>","after":<position or null>} or {"unsubscribe":"<topic>"}`)}
	case m.Unsubscribe != "":
		topic, err := parseTopic(m.Unsubscribe)
		if err != nil {
			// The topic is echoed as sent, so the client can tell which
			// of its subscriptions was refused.
			return hubRequest{topic: m.Unsubscribe, err: err}
		}
		return hubRequest{topic: topic, unsubscribe: true}
	}
	topic, err := parseTopic(m.Subscribe)
	if err != nil {
		return hubRequest{topic: m.Subscribe, err: err}
	}
	req := hubRequest{topic: topic}
	if m.After != nil {
		pos, err := ParsePosition(*m.After)
		if err != nil {
			return hubRequest{topic: topic, err: badRequest(invalidInput, "after", err.Error())}
		}
		req.after = &pos
	}
	return req
}

// control writes a control frame now or, if frames are queued (one may
// be part written), has the writer send a pong after the next one; a
// close reply is then left to the writer's goodbye, which follows the
// frames queued once the reader gives up on the connection.
func (c *wsClient) control(kind int, data []byte, wait time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.queued.Load() > 0 {
		if kind == websocket.PongMessage {
			c.owed = encodeFrame(kind, data)
		}
		return nil
	}
	err := c.conn.WriteControl(kind, data, time.Now().Add(wait))
	if errors.Is(err, websocket.ErrCloseSent) {
		return nil
	}
	return err
}

// writeQueued writes a queued frame (or the rest of one) to the socket,
// then any control frame owed, waiting at most wait. The caller holds wmu.
func (c *wsClient) writeQueued(frame *wireFrame, wait time.Duration) error {
	nc := c.conn.NetConn()
	nc.SetWriteDeadline(time.Now().Add(wait))
	if _, err := nc.Write(frame.bytes); err != nil {
		return err
	}
	if c.owed != nil {
		owed := c.owed
		c.owed = nil
		if _, err := nc.Write(owed); err != nil {
			return err
		}
	}
	return nil
}

// writePump writes the frames the hub queued and pings. It exits when the
// hub closes the send channel (saying goodbye first) or a write fails.
func (h *Hub) writePump(c *wsClient) {
	ticker := time.NewTicker(h.opts.PingInterval)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	// pingDue is a ping put off because a frame was part written.
	pingDue := false
	for {
		select {
		case frame, ok := <-c.send:
			c.wmu.Lock()
			if !ok {
				goodbye := websocket.FormatCloseMessage(websocket.CloseGoingAway, "")
				if c.ended {
					goodbye = websocket.FormatCloseMessage(websocket.ClosePolicyViolation, sessionEndedReason)
				}
				c.conn.WriteControl(websocket.CloseMessage, goodbye, time.Now().Add(h.opts.WriteWait))
				c.wmu.Unlock()
				return
			}
			err := c.writeQueued(frame, h.opts.WriteWait)
			c.queued.Add(-1)
			if err == nil && pingDue {
				pingDue = false
				err = c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.opts.WriteWait))
			}
			c.wmu.Unlock()
			if err != nil {
				h.leave(c)
				return
			}
		case <-ticker.C:
			if c.session.check != nil && errors.Is(c.session.check(), errSessionEnded) {
				// The close frame goes out unless frames are queued (then
				// the connection just closes).
				c.control(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, sessionEndedReason), h.opts.WriteWait)
				h.leave(c)
				return
			}
			c.wmu.Lock()
			var err error
			if c.queued.Load() > 0 {
				pingDue = true
			} else {
				err = c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.opts.WriteWait))
			}
			c.wmu.Unlock()
			if err != nil {
				h.leave(c)
				return
			}
		}
	}
}
