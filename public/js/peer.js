/**
 * One RTCPeerConnection to one other member, negotiated with the W3C "perfect negotiation"
 * pattern (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example): both sides may offer
 * at any time; on a collision the polite side rolls back and the impolite side ignores.
 * Descriptions and candidates travel as `message` data through signaling.
 */

const DISCONNECTED_GRACE_MS = 5000;
// A connection that fails again at once (no usable candidates) must not restart in a tight loop.
const MIN_RESTART_INTERVAL_MS = 10_000;
const MAX_PENDING_CANDIDATES = 500;
// An existing member lets a newcomer offer first: no glare on join. If no offer comes, it offers.
const FIRST_OFFER_WAIT_MS = 3000;
// Not connected by then (lost candidates, a stalled gathering): restart ICE, waiting longer each time.
// The polite side waits longer, so the two sides' restarts do not collide.
const CONNECT_DEADLINE_MS = 15_000;
const POLITE_DEADLINE_FACTOR = 1.5;
const MAX_CONNECT_DEADLINE_MS = 60_000;

export class Peer {
  /**
   * @param {object} options
   * @param {string} options.id the other member's session id
   * @param {boolean} options.polite we yield on offer collisions (our id sorts first)
   * @param {boolean} options.waitForOffer they just joined: let them make the first offer
   * @param {RTCConfiguration} options.configuration
   * @param {{audio: MediaStreamTrack?, video: MediaStreamTrack?}} options.tracks what we send
   * @param {MediaStream} options.stream the stream our tracks are announced in
   * @param {(data: object) => void} options.send relays `data` to this member
   * @param {object} options.record the `window.switchboard.peers` entry, updated in place
   * @param {object} options.events onTrack(track), onChat(text), onChange(), freshConfiguration()
   */
  constructor({ id, polite, waitForOffer, configuration, tracks, stream, send, record, events }) {
    this.id = id;
    this.polite = polite;
    this.stream = stream;
    this.send = send;
    this.record = record;
    this.events = events;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    this.remoteOperations = 0;
    this.pendingCandidates = [];
    this.senders = { audio: null, video: null };
    this.closed = false;
    this.lastRestartAt = 0;
    this.timers = {};
    this.awaitingFirstOffer = waitForOffer;

    this.pc = new RTCPeerConnection(configuration);
    // Negotiated with a fixed id on both sides, so neither has to wait for the other to announce it.
    this.channel = this.pc.createDataChannel('chat', { negotiated: true, id: 0 });
    for (const kind of ['audio', 'video']) {
      if (tracks[kind]) this.senders[kind] = this.pc.addTrack(tracks[kind], stream);
      else this.pc.addTransceiver(kind, { direction: 'recvonly' }); // still receive theirs
    }
    this.listen();
    if (waitForOffer) this.timers.firstOffer = setTimeout(() => this.stopWaitingForOffer(true), FIRST_OFFER_WAIT_MS);
    this.armWatchdog();
  }

  listen() {
    const pc = this.pc;
    pc.onnegotiationneeded = () => this.offer();
    pc.onicecandidate = ({ candidate }) => {
      if (candidate && !this.closed) this.send({ kind: 'candidate', candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track }) => this.events.onTrack(track);
    pc.onsignalingstatechange = () => this.update({ signalingState: pc.signalingState });
    pc.onconnectionstatechange = () => {
      if (this.closed) return;
      this.update({ connectionState: pc.connectionState });
      if (pc.connectionState === 'connected') this.disarmWatchdog();
      else if (!this.timers.watchdog) this.armWatchdog();
    };
    pc.oniceconnectionstatechange = () => {
      this.update({ iceConnectionState: pc.iceConnectionState });
      this.watchIce();
    };
    const channelChanged = () => this.update({ dataChannel: this.channel.readyState });
    this.channel.onopen = channelChanged;
    this.channel.onclose = channelChanged;
    this.channel.onmessage = ({ data }) => this.channelMessage(data);
  }

  async offer() {
    // Chrome can stall ICE gathering when an offer is rolled back right after it was made,
    // so the join path avoids the collision; perfect negotiation still covers all the rest.
    if (this.awaitingFirstOffer) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.sendDescription();
    } catch (error) {
      this.warn('could not make an offer', error);
    } finally {
      this.makingOffer = false;
    }
  }

  /** A `{kind: "description"}` from this member. */
  async receiveDescription(description) {
    if (this.closed || !description || typeof description.type !== 'string') return;
    const pc = this.pc;
    this.stopWaitingForOffer(false);
    try {
      const readyForOffer =
        !this.makingOffer && (pc.signalingState === 'stable' || this.settingRemoteAnswer);
      const offerCollision = description.type === 'offer' && !readyForOffer;
      this.ignoreOffer = !this.polite && offerCollision;
      if (this.ignoreOffer) return;
      this.settingRemoteAnswer = description.type === 'answer';
      this.remoteOperations += 1;
      try {
        await pc.setRemoteDescription(description); // rolls back our own offer when polite
      } finally {
        this.settingRemoteAnswer = false;
        this.remoteOperations -= 1;
      }
      this.flushCandidates();
      if (description.type === 'offer') {
        await pc.setLocalDescription();
        this.sendDescription();
      }
    } catch (error) {
      this.warn('could not apply a remote description', error);
    }
  }

  stopWaitingForOffer(offerNow) {
    if (!this.awaitingFirstOffer) return;
    this.awaitingFirstOffer = false;
    clearTimeout(this.timers.firstOffer);
    if (offerNow && !this.closed && this.pc.signalingState === 'stable') this.offer();
  }

  /** A `{kind: "candidate"}` from this member. */
  async receiveCandidate(candidate) {
    if (this.closed || !candidate) return;
    // addIceCandidate without a remote description throws; keep the candidate until one is set.
    if (!this.pc.remoteDescription && this.remoteOperations === 0) {
      const belongsToIgnoredOffer = this.ignoreOffer;
      if (!belongsToIgnoredOffer && this.pendingCandidates.length < MAX_PENDING_CANDIDATES) {
        this.pendingCandidates.push(candidate);
      }
      return;
    }
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      if (!this.ignoreOffer) this.warn('could not add a candidate', error);
    }
  }

  flushCandidates() {
    const pending = this.pendingCandidates;
    this.pendingCandidates = [];
    pending.forEach((candidate) => this.receiveCandidate(candidate));
  }

  sendDescription() {
    if (this.closed || !this.pc.localDescription) return;
    const { type, sdp } = this.pc.localDescription;
    this.send({ kind: 'description', description: { type, sdp } });
  }

  /** Sends `track` (or nothing, with null) for `kind`; the first real track renegotiates. */
  async setOutgoingTrack(kind, track) {
    if (this.closed) return;
    const sender = this.senders[kind];
    try {
      if (sender) await sender.replaceTrack(track);
      // addTrack reuses our never-sending recvonly transceiver and makes it sendrecv.
      else if (track) this.senders[kind] = this.pc.addTrack(track, this.stream);
    } catch (error) {
      this.warn(`could not switch the ${kind} track`, error);
    }
  }

  /** Sends chat over the data channel; false when it is not open (the caller falls back). */
  sendChat(text, name) {
    if (this.closed || this.channel.readyState !== 'open') return false;
    try {
      this.channel.send(JSON.stringify({ text, name }));
      return true;
    } catch {
      return false;
    }
  }

  channelMessage(data) {
    let payload;
    try {
      payload = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof payload?.text === 'string') this.events.onChat(payload.text);
  }

  watchIce() {
    const iceState = this.pc.iceConnectionState;
    clearTimeout(this.timers.disconnected);
    // The impolite side restarts; the polite one leaves it to the watchdog. Both restarting at
    // once is legal, but a rolled-back fresh offer can stall Chrome's ICE gathering for good.
    if (this.polite) return;
    if (iceState === 'failed') {
      this.restartIce();
    } else if (iceState === 'disconnected') {
      // Short blips heal on their own; restart only when it lasts.
      this.timers.disconnected = setTimeout(() => {
        if (this.pc.iceConnectionState === 'disconnected') this.restartIce();
      }, DISCONNECTED_GRACE_MS);
    }
  }

  restartIce() {
    if (this.closed || this.timers.restart) return;
    const wait = Math.max(0, this.lastRestartAt + MIN_RESTART_INTERVAL_MS - Date.now());
    this.timers.restart = setTimeout(async () => {
      this.timers.restart = null;
      if (this.closed) return;
      this.lastRestartAt = Date.now();
      // New allocations need credentials that are still valid.
      const configuration = await this.events.freshConfiguration().catch(() => null);
      if (this.closed) return;
      if (configuration) this.setConfiguration(configuration);
      this.pc.restartIce();
    }, wait);
  }

  /** Restarts ICE every `delay` (doubling) until connected: `failed` alone never comes if ICE never starts. */
  armWatchdog(delay = CONNECT_DEADLINE_MS * (this.polite ? POLITE_DEADLINE_FACTOR : 1)) {
    this.disarmWatchdog();
    this.timers.watchdog = setTimeout(() => {
      this.timers.watchdog = null;
      if (this.closed || this.pc.connectionState === 'connected') return;
      this.restartIce();
      this.armWatchdog(Math.min(delay * 2, MAX_CONNECT_DEADLINE_MS));
    }, delay);
  }

  disarmWatchdog() {
    clearTimeout(this.timers.watchdog);
    this.timers.watchdog = null;
  }

  setConfiguration(configuration) {
    if (this.closed) return;
    try {
      this.pc.setConfiguration(configuration);
    } catch (error) {
      this.warn('could not update ICE servers', error);
    }
  }

  update(fields) {
    if (this.closed) return;
    Object.assign(this.record, fields);
    this.events.onChange();
  }

  /** Ends everything; safe in the middle of a negotiation (late promises are ignored). */
  close() {
    if (this.closed) return;
    this.closed = true;
    Object.values(this.timers).forEach(clearTimeout);
    this.channel.close();
    this.pc.close();
    Object.assign(this.record, {
      signalingState: 'closed',
      iceConnectionState: 'closed',
      connectionState: 'closed',
      dataChannel: 'closed',
    });
  }

  warn(what, error) {
    if (!this.closed) console.warn(`peer ${this.id}: ${what}:`, error);
  }
}
