/**
 * The WebSocket to `/ws` speaking docs/PROTOCOL.md: join, keep the resume token and the highest
 * `seq`, acknowledge it with `ping`, and after a drop reconnect with backoff and `resume`.
 * Callers see room events and a status string; they never see sockets.
 */

const RETRY_DELAYS_MS = [500, 1000, 2000, 4000];
const STEADY_RETRY_MS = 5000;
const UNREACHABLE_AFTER_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
const PING_EVERY_MS = 10_000;
// A ping with no frame at all back by the next tick: the socket is dead without knowing it.
// Measured from the ping, so timers throttled in a background tab do not look like silence.
const PONG_TIMEOUT_MS = 8000;
// Peer messages written while the socket is down wait here and go out after `resumed`.
const MAX_QUEUED_MESSAGES = 256;
// Codes the server follows with close 1008 that keep the session resumable: slow_consumer, and server_draining
// (the node is stopping; through the load balancer another node of a cluster takes the session over).
const RESUMABLE_CLOSE_REASONS = new Set(['slow_consumer', 'server_draining']);

export const signalingURL = () =>
  `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;

export class SignalingClient {
  /**
   * @param {object} handlers
   * @param {(message: object) => void} handlers.onEvent every server message except pong and resume errors
   * @param {(status: string) => void} handlers.onStatus connecting | open | reconnecting | unreachable | closed
   * @param {() => void} handlers.onSessionLost resume was refused; peers must go, a fresh join follows
   * @param {(code: string, message: string) => void} handlers.onFatal the server closed us with 1008
   */
  constructor(handlers, url = signalingURL()) {
    this.handlers = handlers;
    this.url = url;
    this.status = 'idle';
    this.socket = null;
    this.joinRequest = null;
    this.token = null;
    this.lastSeq = 0;
    this.inSession = false;
    this.everOpened = false;
    this.attempt = 0;
    this.stopped = false;
    this.queue = [];
    this.lastFatal = null;
    this.lastReceivedAt = 0;
    this.pingSentAt = 0;
    this.timers = {};
  }

  /** Opens the socket and joins; reconnects on its own until `leave()` or `disconnect()`. */
  join({ room, name, password, capacity, token }) {
    this.joinRequest = { type: 'join', room, name };
    if (password) this.joinRequest.password = password;
    if (capacity) this.joinRequest.capacity = capacity;
    // A join token from the application's backend (servers started with --join-secret require one).
    if (token) this.joinRequest.token = token;
    this.connect();
  }

  /** A relayed message to one member; queued while the session is between sockets. */
  sendTo(peerId, data) {
    const message = { type: 'message', to: peerId, data };
    if (this.inSession) return this.write(message);
    if (this.queue.length < MAX_QUEUED_MESSAGES) this.queue.push(message);
  }

  /** Leaves the room and closes cleanly, so the others get `bye` at once. */
  leave() {
    if (this.inSession) this.write({ type: 'leave' });
    this.disconnect();
  }

  /** Closes without `leave` (used when we were never admitted). */
  disconnect() {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    this.inSession = false;
    if (socket) {
      detach(socket);
      socket.close(1000, 'bye');
    }
    this.setStatus('closed');
  }

  connect() {
    if (this.stopped) return;
    if (this.status === 'idle') this.setStatus('connecting');
    const socket = new WebSocket(this.url);
    this.socket = socket;
    this.timers.connect = setTimeout(() => this.abandon(socket), CONNECT_TIMEOUT_MS);
    socket.onopen = () => this.opened(socket);
    socket.onmessage = (event) => this.received(event.data);
    socket.onclose = (event) => this.closed(socket, event);
  }

  opened(socket) {
    clearTimeout(this.timers.connect);
    clearTimeout(this.timers.unreachable);
    this.timers.unreachable = null;
    this.everOpened = true;
    this.attempt = 0;
    this.lastReceivedAt = Date.now();
    this.pingSentAt = 0;
    this.setStatus('open');
    if (this.token) this.write({ type: 'resume', token: this.token, last_seq: this.lastSeq });
    else this.sendJoin();
    this.timers.ping = setInterval(() => this.ping(socket), PING_EVERY_MS);
  }

  sendJoin() {
    // Sequence numbers restart at 1 for every new session.
    this.lastSeq = 0;
    this.token = null;
    this.queue = [];
    this.write(this.joinRequest);
  }

  ping(socket) {
    const awaitingPong = this.pingSentAt > this.lastReceivedAt;
    if (awaitingPong && Date.now() - this.pingSentAt > PONG_TIMEOUT_MS) return this.abandon(socket);
    this.pingSentAt = Date.now();
    this.write(this.lastSeq > 0 ? { type: 'ping', ack: this.lastSeq } : { type: 'ping' });
  }

  received(text) {
    this.lastReceivedAt = Date.now();
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (!message || typeof message !== 'object') return;
    if (typeof message.seq === 'number') {
      if (message.seq <= this.lastSeq) return; // a replay we already handled
      this.lastSeq = message.seq;
    }
    switch (message.type) {
      case 'pong':
        return;
      case 'joined':
        this.token = message.token;
        this.startSession();
        break;
      case 'resumed':
        this.startSession();
        break;
      case 'error':
        if (message.code === 'resume_failed' || message.code === 'resume_gap') return this.sessionLost();
        this.lastFatal = message; // if a 1008 close follows, its reason is this code
        break;
    }
    this.handlers.onEvent(message);
  }

  startSession() {
    this.inSession = true;
    const queued = this.queue;
    this.queue = [];
    queued.forEach((message) => this.write(message));
  }

  sessionLost() {
    this.handlers.onSessionLost();
    this.sendJoin();
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.inSession = false;
    clearTimeout(this.timers.connect);
    clearInterval(this.timers.ping);
    if (this.stopped) return this.setStatus('closed');
    if (event.code === 1008 && !RESUMABLE_CLOSE_REASONS.has(event.reason)) {
      this.stopped = true;
      this.setStatus('closed');
      const code = event.reason || 'policy_violation';
      const detail = this.lastFatal?.code === code ? this.lastFatal.message : null;
      return this.handlers.onFatal(code, detail || `The server closed the connection: ${code}`);
    }
    this.scheduleReconnect();
  }

  /** Drops a socket that hangs or went silent, without a close frame (that would end the session). */
  abandon(socket) {
    if (socket !== this.socket) return;
    detach(socket);
    // Close it whatever its state, so a silent socket does not linger until TCP gives up.
    if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) socket.close();
    this.closed(socket, { code: 1006, reason: '' });
  }

  scheduleReconnect() {
    if (!this.everOpened) {
      this.setStatus('unreachable');
    } else if (this.status !== 'unreachable') {
      this.setStatus('reconnecting');
      this.timers.unreachable ??= setTimeout(() => this.setStatus('unreachable'), UNREACHABLE_AFTER_MS);
    }
    const delay = RETRY_DELAYS_MS[this.attempt] ?? STEADY_RETRY_MS;
    this.attempt += 1;
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  write(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.handlers.onStatus(status);
  }

  clearTimers() {
    clearTimeout(this.timers.connect);
    clearTimeout(this.timers.retry);
    clearTimeout(this.timers.unreachable);
    clearInterval(this.timers.ping);
    this.timers = {};
  }
}

function detach(socket) {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
}
