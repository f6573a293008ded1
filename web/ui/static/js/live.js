// The websocket to /ws: one connection carries every topic a screen
// follows. Each topic remembers the position of the last view received, so
// a reconnect asks only for what changed since and loses nothing.

import { toSignIn } from './session.js';

// The close code the server ends a connection with when its sign-in ended
// (signed out, revoked): reconnecting would only be refused.
const SESSION_ENDED = 1008;

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30000;

/**
 * LiveConnection follows topics ("census", "group:<id>", "patient:<id>")
 * and reconnects on its own with exponential backoff. Listeners get
 * (data, frame) for every snapshot and update of their topic.
 */
export class LiveConnection {
  constructor(url) {
    this.url = url;
    this.topics = new Map(); // topic → {position, listeners:Set, errorListeners:Set}
    this.statusListeners = new Set();
    this.socket = null;
    this.attempt = 0;
    this.retryTimer = 0;
    this.state = { status: 'connecting', lastUpdate: null, retryAt: null };
    this.connect();
  }

  /** onStatus calls fn now and on every change of the connection's state. */
  onStatus(fn) {
    this.statusListeners.add(fn);
    fn(this.state);
    return () => this.statusListeners.delete(fn);
  }

  /**
   * subscribe follows a topic; onError gets the server's refusal of it
   * ({code, message}). It returns the function that stops following.
   */
  subscribe(topic, onData, onError) {
    let entry = this.topics.get(topic);
    const fresh = !entry;
    if (fresh) {
      entry = { position: null, data: undefined, listeners: new Set(), errorListeners: new Set() };
      this.topics.set(topic, entry);
    }
    entry.listeners.add(onData);
    if (onError) entry.errorListeners.add(onError);
    if (fresh) {
      this.send({ subscribe: topic, after: null });
    } else if (entry.data !== undefined) {
      // Another view follows this topic already: hand over what it has.
      queueMicrotask(() => onData(entry.data, { type: 'snapshot', topic, position: entry.position }));
    }
    return () => {
      entry.listeners.delete(onData);
      if (onError) entry.errorListeners.delete(onError);
      if (entry.listeners.size === 0 && this.topics.get(topic) === entry) {
        this.topics.delete(topic);
        this.send({ unsubscribe: topic });
      }
    };
  }

  /** resubscribe asks for a topic again, e.g. after the server did not know it yet. */
  resubscribe(topic) {
    const entry = this.topics.get(topic);
    if (entry) this.send({ subscribe: topic, after: entry.position });
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  setState(change) {
    this.state = { ...this.state, ...change };
    for (const fn of this.statusListeners) fn(this.state);
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.setState({ status: this.attempt === 0 ? 'connecting' : 'reconnecting', retryAt: null });
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.attempt = 0;
      this.setState({ status: 'connected', retryAt: null });
      for (const [topic, entry] of this.topics) {
        socket.send(JSON.stringify({ subscribe: topic, after: entry.position }));
      }
    });
    socket.addEventListener('message', (event) => this.receive(event.data));
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === SESSION_ENDED) {
        this.setState({ status: 'signed-out', retryAt: null });
        toSignIn();
        return;
      }
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    this.attempt += 1;
    const ceiling = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (this.attempt - 1));
    // Jitter spreads the reconnects of many boards after a server restart.
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.setState({ status: 'reconnecting', retryAt: Date.now() + delay });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** reconnectNow skips the wait of the backoff (a person pressed "Retry"). */
  reconnectNow() {
    if (this.state.status === 'reconnecting' && !this.socket) this.connect();
  }

  receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    const entry = this.topics.get(frame.topic);
    if (!entry) return;
    if (frame.type === 'error') {
      for (const fn of entry.errorListeners) fn(frame.error || {});
      return;
    }
    if (frame.type !== 'snapshot' && frame.type !== 'update') return;
    entry.position = frame.position;
    entry.data = frame.data;
    this.setState({ lastUpdate: new Date() });
    for (const fn of entry.listeners) fn(frame.data, frame);
  }
}

/** liveURL is the websocket address of the page's own server. */
export function liveURL() {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/ws`;
}
