/**
 * One visit to a room, from pressing Join to hanging up: starts media and ICE servers, joins
 * through signaling, turns room events into peers, and reports the outcomes (rejected, full,
 * ended) to whoever started it. Buttons call the public methods; see controls.js.
 */

import { IceServerSource } from './ice.js';
import { LocalMedia } from './media.js';
import { Mesh } from './mesh.js';
import { SignalingClient } from './signaling.js';
import { state } from './state.js';
import { StatsPoller } from './stats.js';
import { setLocalBadges, showLocalVideo } from './tiles.js';
import { addNotice, byId, clearError, reportError, setConnectionStatus, setTitle, showView } from './ui.js';

const STATUS_TEXT = {
  idle: '',
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  unreachable: 'Server unreachable',
  closed: 'Disconnected',
};
// Errors that mean "you are not in the room": back to the join form.
const JOIN_ERRORS = new Set(['password_required', 'wrong_password', 'invalid_room_name']);
// Harmless races: a member left while we were still talking to it.
const QUIET_ERRORS = new Set(['unknown_peer', 'held_message_expired', 'not_in_room']);
const BYE_DETAIL = { left: '', closed: '', timeout: ' (connection lost)', removed: ' (removed)' };

export class Call {
  /**
   * @param {{room: string, name: string, password: string, capacity: number?, relayOnly: boolean}} options
   * @param {object} hooks chat (ChatPanel), onMediaChanged(), onRejected(code, message), onFull(message), onEnded()
   */
  constructor(options, hooks) {
    this.options = options;
    this.hooks = hooks;
    this.ended = false;
    this.pickingScreen = false;
    this.media = new LocalMedia();
    this.ice = new IceServerSource();
    this.signaling = new SignalingClient({
      onEvent: (message) => this.roomEvent(message),
      onStatus: (status) => this.statusChanged(status),
      onSessionLost: () => this.sessionLost(),
      onFatal: (code, message) => reportError(code, message),
    });
    this.mesh = new Mesh({
      signaling: this.signaling,
      media: this.media,
      ice: this.ice,
      onChat: (entry) => hooks.chat.add({ ...entry, at: Date.now() }),
    });
    this.stats = new StatsPoller(
      () => this.mesh.connections(),
      (id, sample) => this.mesh.applyStats(id, sample),
    );
    this.ice.onUpdate(() => {
      state.iceServers = this.ice.urls;
      state.turn = this.ice.turn;
    });
  }

  async start() {
    const { room, name, password, capacity, relayOnly } = this.options;
    Object.assign(state, { room, name, capacity, relayOnly, id: null, localMedia: 'none' });
    Object.assign(state, { audioMuted: false, videoMuted: false, screenSharing: false });
    state.chat.length = 0;
    this.hooks.chat.clear();
    clearError();
    showView('call-view');
    setTitle(`${room} — Switchboard`);
    byId('room-label').textContent = room;
    byId('relay-badge').hidden = !relayOnly;
    setConnectionStatus('Starting camera and microphone…');

    await Promise.all([this.media.start(), this.ice.refresh()]);
    if (this.ended) return this.media.stop();
    this.showMediaOutcome();
    this.showIceOutcome();
    // An application links here as /r/<room>?token=<join token> when the server requires join tokens.
    const token = new URLSearchParams(window.location.search).get('token') || undefined;
    this.signaling.join({ room, name, password, capacity, token });
    this.stats.start();
  }

  showMediaOutcome() {
    state.localMedia = this.media.kind;
    const problem = this.media.problem;
    if (problem?.code === 'no_camera') addNotice(problem.message);
    else if (problem) reportError(problem.code, problem.message);
    this.mediaChanged();
  }

  showIceOutcome() {
    if (this.ice.problem) addNotice(this.ice.problem);
    if (!state.relayOnly) return;
    const turn = this.ice.turn;
    if (this.ice.problem || !turn?.enabled) {
      const reason = turn?.reason ?? this.ice.problem ?? 'no TURN server offered';
      reportError('turn_unavailable', `Relay only was asked for, but no TURN relay is available: ${reason}.`);
    }
  }

  roomEvent(message) {
    switch (message.type) {
      case 'joined': {
        state.id = message.id;
        if (message.capacity) state.capacity = message.capacity;
        const peers = Array.isArray(message.peers) ? message.peers : [];
        peers.forEach((peer) => this.mesh.add(peer.id, peer.name));
        addNotice(peers.length ? `Joined ${message.room}` : `Joined ${message.room}; share the link to invite others`);
        break;
      }
      case 'resumed':
        addNotice('Reconnected');
        break;
      case 'other_joined':
        this.mesh.add(message.id, message.name, { isNewcomer: true });
        addNotice(`${message.name || 'Guest'} joined`);
        break;
      case 'bye':
        this.memberLeft(message.id, message.reason);
        break;
      case 'message':
        this.mesh.route(message.from, message.data);
        break;
      case 'full':
        this.end();
        this.hooks.onFull(message);
        break;
      case 'error':
        this.serverError(message);
        break;
    }
  }

  memberLeft(id, reason) {
    const record = this.mesh.remove(id);
    if (!record) return;
    state.departed.push({ id, name: record.name, reason: reason ?? 'left' });
    addNotice(`${record.name || 'Guest'} left${BYE_DETAIL[reason] ?? ''}`);
  }

  serverError({ code, message, request }) {
    if (JOIN_ERRORS.has(code) || request === 'join') {
      this.end();
      this.hooks.onRejected(code, message);
    } else if (!QUIET_ERRORS.has(code)) {
      addNotice(message || code);
    }
  }

  statusChanged(status) {
    state.signaling = status;
    setConnectionStatus(STATUS_TEXT[status] ?? status);
    if (status === 'unreachable') reportError('unreachable', 'Server unreachable — still trying to reconnect.');
    else if (status === 'open') clearError('unreachable');
  }

  sessionLost() {
    // The server forgot us; our peers already got a bye. Start over with a fresh join.
    this.mesh.clear();
    state.id = null;
    addNotice('Connection to the room was lost; joining again');
  }

  setAudioMuted(muted) {
    if (!this.media.audioTrack) return;
    this.media.setAudioEnabled(!muted);
    state.audioMuted = muted;
    this.mediaChanged();
  }

  setVideoMuted(muted) {
    if (!this.media.cameraTrack) return;
    this.media.setVideoEnabled(!muted);
    state.videoMuted = muted;
    this.mediaChanged();
  }

  async toggleScreenShare() {
    if (this.media.screenTrack) return this.stopScreenShare();
    // A second click while the browser's picker is open must not start a second capture.
    if (this.pickingScreen) return;
    this.pickingScreen = true;
    let track;
    try {
      track = await this.media.startScreenShare(() => this.stopScreenShare());
    } catch (error) {
      if (error.name !== 'NotAllowedError') addNotice(`Screen sharing failed: ${error.message}`);
      return; // NotAllowedError: the user cancelled the picker
    } finally {
      this.pickingScreen = false;
    }
    if (this.ended) return this.media.stopScreenShare();
    state.screenSharing = true;
    this.mesh.setOutgoingTrack('video', track);
    this.mediaChanged();
  }

  stopScreenShare() {
    if (!this.media.screenTrack) return;
    this.media.stopScreenShare();
    state.screenSharing = false;
    this.mesh.setOutgoingTrack('video', this.media.cameraTrack);
    this.mediaChanged();
  }

  async switchDevice(kind, deviceId) {
    if (!deviceId || deviceId === this.media.currentDeviceId(kind)) return;
    try {
      const previous = await this.media.switchDevice(kind, deviceId);
      const track = kind === 'audio' ? this.media.audioTrack : this.media.cameraTrack;
      if (this.ended) {
        // The call ended while the device opened: nothing may keep a camera or microphone live.
        this.media.stop();
        previous?.stop();
        return;
      }
      // While sharing, the screen stays on the wire; the new camera waits for the share to end.
      if (kind === 'audio' || !this.media.screenTrack) await this.mesh.setOutgoingTrack(kind, track);
      previous?.stop();
      state.localMedia = this.media.kind;
    } catch (error) {
      addNotice(`Could not switch the ${kind === 'audio' ? 'microphone' : 'camera'}: ${error.message}`);
    }
    this.mediaChanged();
  }

  mediaChanged() {
    const sharing = Boolean(this.media.screenTrack);
    showLocalVideo(this.media.outgoingVideo, { mirrored: !sharing, off: state.videoMuted && !sharing });
    setLocalBadges(state);
    this.mesh.sendMediaState();
    this.hooks.onMediaChanged();
  }

  sendChat(text) {
    const paths = this.mesh.sendChat(text);
    const used = Object.values(paths);
    const via = used.length === 0 ? null : used.includes('signaling') ? 'signaling' : 'datachannel';
    this.hooks.chat.add({ from: 'me', name: state.name, text, via, paths, at: Date.now() });
  }

  hangUp() {
    this.end({ leave: true });
    this.hooks.onEnded();
  }

  /** Stops everything this call started. `leave` tells the room (only once we are in it). */
  end({ leave = false } = {}) {
    if (this.ended) return;
    this.ended = true;
    this.stats.stop();
    this.mesh.close();
    this.media.stop();
    if (leave) this.signaling.leave();
    else this.signaling.disconnect();
    showLocalVideo(null, { mirrored: false, off: true });
    Object.assign(state, { id: null, localMedia: 'none', screenSharing: false });
  }
}
