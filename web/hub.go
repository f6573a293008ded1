package web

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/maphash"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/projections"
)

// Views renders the current view of a topic ("census", "group:<id>",
// "patient:<id>") as JSON together with the $all position it reflects,
// atomically, so a subscriber can be told "this is the state at P". The
// projections runner implements it.
type Views interface {
	View(topic string) ([]byte, eventstore.Position, error)
}

// parseTopic validates a topic and returns it in canonical form (patient
// IDs in lowercase), so two spellings of one topic share one subscriber set.
func parseTopic(s string) (string, error) {
	t, err := projections.ParseTopic(s)
	if err != nil {
		return "", badRequest(invalidInput, "subscribe", reasonOf(err))
	}
	return t.String(), nil
}

// FormatPosition writes a $all position as the API's opaque position
// token "<commit>/<prepare>": a string, because commit positions can
// exceed what a JavaScript number holds exactly.
func FormatPosition(p eventstore.Position) string {
	return strconv.FormatUint(p.Commit, 10) + "/" + strconv.FormatUint(p.Prepare, 10)
}

// ParsePosition reads a position token written by FormatPosition.
func ParsePosition(s string) (eventstore.Position, error) {
	bad := errors.New(`position must be "<commit>/<prepare>" as the server sent it`)
	c, p, ok := strings.Cut(s, "/")
	if !ok {
		return eventstore.Position{}, bad
	}
	commit, err1 := strconv.ParseUint(c, 10, 64)
	prepare, err2 := strconv.ParseUint(p, 10, 64)
	if err1 != nil || err2 != nil {
		return eventstore.Position{}, bad
	}
	return eventstore.Position{Commit: commit, Prepare: prepare}, nil
}

// HubOptions tune the websocket hub. The zero value gives the defaults.
type HubOptions struct {
	// SendBuffer is how many frames may wait for one connection's writer;
	// a connection whose buffer is full is dropped, never waited for.
	// 0 means 64.
	SendBuffer int
	// PingInterval is how often the writer pings; PongWait how long the
	// reader waits for any frame (pongs included) before giving up on the
	// peer; WriteWait bounds one write. 0 means 25 s, 60 s and 10 s.
	PingInterval, PongWait, WriteWait time.Duration
	// MaxTopics bounds the topics one connection may follow. 0 means 64.
	MaxTopics int
}

func (o HubOptions) withDefaults() HubOptions {
	if o.SendBuffer <= 0 {
		o.SendBuffer = 64
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PongWait <= 0 {
		o.PongWait = 60 * time.Second
	}
	if o.WriteWait <= 0 {
		o.WriteWait = 10 * time.Second
	}
	if o.MaxTopics <= 0 {
		o.MaxTopics = 64
	}
	return o
}

// HubStats are the hub's counters, for metrics and tests.
type HubStats struct {
	// Clients and Subscriptions are the connections and (connection, topic)
	// pairs now open.
	Clients, Subscriptions int64
	// Dropped counts connections dropped because their send buffer was full.
	Dropped uint64
	// Renders counts views rendered; Frames counts frames sent to
	// connections; Queued counts those of them the socket did not take at
	// once, which went (whole or in part) through the connection's writer.
	Renders, Frames, Queued uint64
}

// Hub pushes views to websocket subscribers. One goroutine owns every
// subscriber and every subscription (the gorilla chat pattern), so no lock
// guards them; connections talk to it over channels, and it never waits for
// a connection: a frame that does not fit a connection's buffer drops it.
type Hub struct {
	views Views
	log   *slog.Logger
	opts  HubOptions

	register   chan *wsClient
	unregister chan *wsClient
	requests   chan hubRequest
	// ended carries credential IDs whose sessions ended.
	ended    chan string
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	// pending collects changed topics between wake-ups, so a burst of
	// changes to one topic renders it once; resetAll asks for every
	// followed topic (the read models were rebuilt).
	mu       sync.Mutex
	pending  map[string]struct{}
	resetAll bool

	clients, subscriptions      atomic.Int64
	dropped, renders, frameSent atomic.Uint64
	frameQueued                 atomic.Uint64

	// Owned by the run goroutine.
	direct      *directWriter
	members     map[*wsClient]struct{}
	subscribers map[string]map[*wsClient]struct{}
}

// hubRequest is a connection's subscribe, unsubscribe or refusal, handled
// by the hub goroutine because only it may touch subscriptions and send.
type hubRequest struct {
	client *wsClient
	// topic is canonical, or as the client sent it for a refused message
	// (empty when the message named none).
	topic       string
	unsubscribe bool
	// after is the position the client already has, nil for none.
	after *eventstore.Position
	// err, when set, is answered with an error frame.
	err error
}

// NewHub starts a hub rendering views from views. Close stops it.
func NewHub(views Views, log *slog.Logger, opts HubOptions) *Hub {
	h := &Hub{
		views:       views,
		log:         log,
		opts:        opts.withDefaults(),
		register:    make(chan *wsClient),
		unregister:  make(chan *wsClient),
		requests:    make(chan hubRequest, 64),
		ended:       make(chan string),
		wake:        make(chan struct{}, 1),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
		pending:     map[string]struct{}{},
		direct:      newDirectWriter(),
		members:     map[*wsClient]struct{}{},
		subscribers: map[string]map[*wsClient]struct{}{},
	}
	go h.run()
	return h
}

// Changed tells the hub that topics changed. It never blocks (the
// projections runner calls it on its own goroutine): topics are merged
// into a pending set and the hub is woken if it is not already.
func (h *Hub) Changed(topics ...string) {
	if len(topics) == 0 {
		return
	}
	h.mu.Lock()
	for _, t := range topics {
		h.pending[t] = struct{}{}
	}
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// EndSession closes, with a policy-violation close frame, every
// connection opened with the credential (a sign-out). It waits only for
// the hub to take the request.
func (h *Hub) EndSession(credentialID string) {
	if credentialID == "" {
		return
	}
	select {
	case h.ended <- credentialID:
	case <-h.done:
	}
}

// Reset tells the hub that every view may have changed (the read models
// are being rebuilt), so every subscriber gets the topic's view again.
// Like Changed, it never blocks.
func (h *Hub) Reset() {
	h.mu.Lock()
	h.resetAll = true
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Stats returns the hub's counters.
func (h *Hub) Stats() HubStats {
	return HubStats{
		Clients:       h.clients.Load(),
		Subscriptions: h.subscriptions.Load(),
		Dropped:       h.dropped.Load(),
		Renders:       h.renders.Load(),
		Frames:        h.frameSent.Load(),
		Queued:        h.frameQueued.Load(),
	}
}

// Close disconnects every client and stops the hub.
func (h *Hub) Close() {
	h.stopOnce.Do(func() { close(h.stop) })
	<-h.done
}

func (h *Hub) run() {
	defer close(h.done)
	for {
		select {
		case c := <-h.register:
			h.members[c] = struct{}{}
			h.clients.Add(1)
		case c := <-h.unregister:
			h.remove(c)
		case req := <-h.requests:
			h.handle(req)
		case credentialID := <-h.ended:
			for c := range h.members {
				if c.session.credentialID == credentialID {
					c.ended = true
					h.remove(c)
				}
			}
		case <-h.wake:
			h.flush()
		case <-h.stop:
			for c := range h.members {
				h.remove(c)
			}
			return
		}
	}
}

// remove forgets a client and closes its send channel, which tells its
// writer to say goodbye and close the connection. Removing twice is a no-op.
func (h *Hub) remove(c *wsClient) {
	if _, ok := h.members[c]; !ok {
		return
	}
	delete(h.members, c)
	for topic := range c.topics {
		h.unsubscribe(c, topic)
	}
	close(c.send)
	h.clients.Add(-1)
}

// drop removes a client that cannot keep up and closes its connection at
// once, which also unblocks a writer stuck on a full socket.
func (h *Hub) drop(c *wsClient) {
	h.remove(c)
	c.conn.Close()
	h.dropped.Add(1)
}

// deliver sends a frame to a client without waiting. When nothing is
// queued for the client, the hub writes the frame to the socket itself, in
// one non-blocking system call: a broadcast then costs one write per
// client and no goroutine wake-ups, and runs on one core, leaving the
// others to the rest of the server. What the socket does not take at once
// (the client is slow, or the connection is not a plain socket) goes to
// the client's writer goroutine, whose queue keeps the frames in order; a
// client whose queue is full is dropped, never waited for.
func (h *Hub) deliver(c *wsClient, frame *wireFrame) {
	if frame == nil {
		return
	}
	h.frameSent.Add(1)
	if c.queued.Load() == 0 && c.raw != nil && c.wmu.TryLock() {
		written, err := h.direct.write(c.raw, frame.bytes)
		c.wmu.Unlock()
		if err != nil {
			// The peer is gone: its reader will notice too; forget it now.
			h.remove(c)
			c.conn.Close()
			return
		}
		if written == len(frame.bytes) {
			return
		}
		if written > 0 {
			// The rest of the frame must be the next bytes on the wire:
			// it is the first thing queued, and the writer sends it
			// before anything else.
			frame = &wireFrame{bytes: frame.bytes[written:]}
		}
	}
	h.frameQueued.Add(1)
	c.queued.Add(1)
	select {
	case c.send <- frame:
	default:
		h.drop(c)
	}
}

func (h *Hub) unsubscribe(c *wsClient, topic string) {
	if _, ok := c.topics[topic]; !ok {
		return
	}
	delete(c.topics, topic)
	subs := h.subscribers[topic]
	delete(subs, c)
	if len(subs) == 0 {
		delete(h.subscribers, topic)
	}
	h.subscriptions.Add(-1)
}

func (h *Hub) handle(req hubRequest) {
	c := req.client
	if _, ok := h.members[c]; !ok {
		return // dropped or gone while the request waited
	}
	switch {
	case req.err != nil:
		h.deliver(c, errorFrame(req.topic, req.err))
	case req.unsubscribe:
		h.unsubscribe(c, req.topic)
	default:
		h.subscribe(c, req.topic, req.after)
	}
}

// subscribe renders the topic and sends it as a snapshot tagged with its
// position, unless the client already holds exactly that position. From
// then on the client gets every change after it; since renders and sends
// both happen here, nothing can slip between the snapshot and the first
// update. The census always gets its snapshot: its figures also move with
// the clock, so a position alone cannot vouch for it.
func (h *Hub) subscribe(c *wsClient, topic string, after *eventstore.Position) {
	if _, already := c.topics[topic]; !already && len(c.topics) >= h.opts.MaxTopics {
		h.deliver(c, errorFrame(topic, badRequest("too_many_topics", "subscribe",
			"a connection may follow at most "+strconv.Itoa(h.opts.MaxTopics)+" topics")))
		return
	}
	data, pos, err := h.render(topic)
	if err != nil {
		h.deliver(c, errorFrame(topic, err))
		return
	}
	if _, already := c.topics[topic]; !already {
		subs := h.subscribers[topic]
		if subs == nil {
			subs = map[*wsClient]struct{}{}
			h.subscribers[topic] = subs
		}
		subs[c] = struct{}{}
		h.subscriptions.Add(1)
	}
	// Only an exact match means "nothing new": a position the server never
	// produced (another store, a rebuild) must not silence the topic.
	if after != nil && *after == pos && topic != projections.CensusTopic {
		c.topics[topic] = sentView{pos: pos}
		return
	}
	c.topics[topic] = sentView{pos: pos, sum: viewSum(data)}
	h.deliver(c, viewFrame("snapshot", topic, pos, data))
}

func (h *Hub) render(topic string) ([]byte, eventstore.Position, error) {
	h.renders.Add(1)
	return h.views.View(topic)
}

// flush renders each changed topic that has subscribers once and fans
// the same bytes out to every subscriber that does not hold this very view
// already. A view is new to a subscriber if its position differs from the
// last one sent (usually later; earlier after a rebuild) or, at the same
// position, if its bytes differ (the census at midnight).
func (h *Hub) flush() {
	h.mu.Lock()
	changed, resetAll := h.pending, h.resetAll
	h.pending, h.resetAll = make(map[string]struct{}, len(changed)), false
	h.mu.Unlock()
	if resetAll {
		for topic := range h.subscribers {
			changed[topic] = struct{}{}
		}
	}
	for topic := range changed {
		subs := h.subscribers[topic]
		if len(subs) == 0 {
			continue
		}
		data, pos, err := h.render(topic)
		if err != nil {
			h.log.Warn("websocket view failed", slog.String("topic_kind", topicKind(topic)), slog.String("error", err.Error()))
			continue
		}
		var frame *wireFrame
		sum := viewSum(data)
		for c := range subs {
			if last := c.topics[topic]; last.pos == pos && (last.sum == 0 || last.sum == sum) {
				continue
			}
			if frame == nil {
				frame = viewFrame("update", topic, pos, data)
			}
			c.topics[topic] = sentView{pos: pos, sum: sum}
			h.deliver(c, frame)
		}
	}
}

// viewSeed keys the view checksums of this process.
var viewSeed = maphash.MakeSeed()

// viewSum is a checksum of view data, so the hub remembers what each
// subscriber last got in 8 bytes instead of a copy of the view. It is
// never 0, which marks a view vouched for by position alone.
func viewSum(data []byte) uint64 {
	return maphash.Bytes(viewSeed, data) | 1
}

// topicKind names a topic's kind for logs without the ID it carries.
func topicKind(topic string) string {
	kind, _, _ := strings.Cut(topic, ":")
	return kind
}

// viewFrame builds a snapshot or update frame around already-rendered view
// data. It is encoded once (JSON and websocket framing) however many
// subscribers receive it, and each connection writes the same bytes.
func viewFrame(kind, topic string, pos eventstore.Position, data []byte) *wireFrame {
	return textFrame(viewJSON(kind, topic, pos, data))
}

// viewJSON wraps view data in the frame's JSON. Topics are canonical
// slugs and UUIDs, so they need no escaping.
func viewJSON(kind, topic string, pos eventstore.Position, data []byte) []byte {
	b := make([]byte, 0, len(data)+len(topic)+80)
	b = append(b, `{"type":"`...)
	b = append(b, kind...)
	b = append(b, `","topic":"`...)
	b = append(b, topic...)
	b = append(b, `","position":"`...)
	b = append(b, FormatPosition(pos)...)
	b = append(b, `","data":`...)
	b = append(b, data...)
	b = append(b, '}')
	return b
}

// wireFrame is an encoded websocket frame, shared by every connection it
// goes to (a pointer, so a connection's queue holds 8 bytes a frame).
type wireFrame struct{ bytes []byte }

// textFrame encodes msg as one websocket text frame, ready to be written
// to any connection as is.
func textFrame(msg []byte) *wireFrame {
	return &wireFrame{bytes: encodeFrame(websocket.TextMessage, msg)}
}

// encodeFrame encodes one websocket frame from a server (RFC 6455 section
// 5.2: final, unmasked, uncompressed; the upgrader offers no compression)
// of the given opcode.
func encodeFrame(opcode int, msg []byte) []byte {
	fin := 0x80 | byte(opcode)
	n := len(msg)
	var b []byte
	switch {
	case n < 126:
		b = make([]byte, 2, 2+n)
		b[0], b[1] = fin, byte(n)
	case n <= 0xffff:
		b = make([]byte, 4, 4+n)
		b[0], b[1] = fin, 126
		binary.BigEndian.PutUint16(b[2:], uint16(n))
	default:
		b = make([]byte, 10, 10+n)
		b[0], b[1] = fin, 127
		binary.BigEndian.PutUint64(b[2:], uint64(n))
	}
	return append(b, msg...)
}

// errorFrame tells a client why its message or subscription was refused,
// with the same code and message the HTTP API would give.
func errorFrame(topic string, err error) *wireFrame {
	_, detail := describeError(err)
	b, _ := json.Marshal(struct {
		Type  string      `json:"type"`
		Topic string      `json:"topic,omitempty"`
		Error errorDetail `json:"error"`
	}{Type: "error", Topic: topic, Error: detail})
	return textFrame(b)
}
