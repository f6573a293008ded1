package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/continuum-care/continuum/eventstore"
)

// wsClient is one websocket connection. send is written only by the hub
// (and closed by it); topics maps each followed topic to the last view
// sent, and is touched only by the hub goroutine.
type wsClient struct {
	conn   *websocket.Conn
	send   chan *websocket.PreparedMessage
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
	c := &wsClient{conn: conn, send: make(chan *websocket.PreparedMessage, h.opts.SendBuffer), topics: map[string]sentView{}, session: session}
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

// writePump writes queued frames and pings. It exits when the hub closes
// the send channel (saying goodbye first) or a write fails.
func (h *Hub) writePump(c *wsClient) {
	ticker := time.NewTicker(h.opts.PingInterval)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case frame, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(h.opts.WriteWait))
			if !ok {
				goodbye := websocket.FormatCloseMessage(websocket.CloseGoingAway, "")
				if c.ended {
					goodbye = websocket.FormatCloseMessage(websocket.ClosePolicyViolation, sessionEndedReason)
				}
				c.conn.WriteMessage(websocket.CloseMessage, goodbye)
				return
			}
			if err := c.conn.WritePreparedMessage(frame); err != nil {
				h.leave(c)
				return
			}
		case <-ticker.C:
			if c.session.check != nil && errors.Is(c.session.check(), errSessionEnded) {
				c.conn.SetWriteDeadline(time.Now().Add(h.opts.WriteWait))
				c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, sessionEndedReason))
				h.leave(c)
				return
			}
			c.conn.SetWriteDeadline(time.Now().Add(h.opts.WriteWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				h.leave(c)
				return
			}
		}
	}
}
