/**
 * Every other member of the room: a Peer (connection) and a RemoteTile (video) each, kept in
 * step with `state.peers`. Routes the `message` data other members send us (see docs/CLIENT.md).
 */

import { Peer } from './peer.js';
import { state, newPeerRecord } from './state.js';
import { RemoteTile } from './tiles.js';

export class Mesh {
  /**
   * @param {object} options
   * @param {import('./signaling.js').SignalingClient} options.signaling
   * @param {import('./media.js').LocalMedia} options.media
   * @param {import('./ice.js').IceServerSource} options.ice
   * @param {(entry: object) => void} options.onChat an incoming chat message for the log
   */
  constructor({ signaling, media, ice, onChat }) {
    this.signaling = signaling;
    this.media = media;
    this.ice = ice;
    this.onChat = onChat;
    /** @type {Map<string, {peer: Peer, tile: RemoteTile, record: object}>} */
    this.members = new Map();
    this.stopWatchingIce = ice.onUpdate(() => this.applyIceServers());
  }

  /** `isNewcomer`: they joined after us (other_joined), so they make the first offer. */
  add(id, name, { isNewcomer = false } = {}) {
    if (this.members.has(id) || id === state.id) return;
    const record = newPeerRecord(id, name);
    const tile = new RemoteTile(id, name);
    const peer = new Peer({
      id,
      polite: state.id < id, // both sides compare the same two strings, so they agree
      waitForOffer: isNewcomer,
      configuration: this.ice.configuration(state.relayOnly),
      tracks: { audio: this.media.audioTrack, video: this.media.outgoingVideo },
      stream: this.media.stream,
      send: (data) => this.signaling.sendTo(id, data),
      record,
      events: {
        onTrack: (track) => tile.addTrack(track),
        onChat: (text) => this.onChat({ from: id, name: record.name, text, via: 'datachannel' }),
        onChange: () => tile.showConnection(record.connectionState),
        freshConfiguration: async () => {
          await this.ice.refreshIfStale();
          return this.ice.configuration(state.relayOnly);
        },
      },
    });
    this.members.set(id, { peer, tile, record });
    state.peers.set(id, record);
    this.sendMediaState(id);
    // Credentials older than half their ttl: fetch new ones; applyIceServers hands them over.
    if (this.ice.stale) this.ice.refresh();
  }

  /** Closes the connection to `id` and returns its record (null when unknown). */
  remove(id) {
    const member = this.members.get(id);
    if (!member) return null;
    this.members.delete(id);
    state.peers.delete(id);
    member.peer.close();
    member.tile.remove();
    return member.record;
  }

  clear() {
    [...this.members.keys()].forEach((id) => this.remove(id));
  }

  close() {
    this.clear();
    this.stopWatchingIce();
  }

  /** The `data` of a `message` from member `from`. */
  route(from, data) {
    const member = this.members.get(from);
    if (!member || !data || typeof data !== 'object') return; // e.g. someone who just left
    switch (data.kind) {
      case 'description':
        return member.peer.receiveDescription(data.description);
      case 'candidate':
        return member.peer.receiveCandidate(data.candidate);
      case 'media-state':
        Object.assign(member.record, {
          audioMuted: !data.audio,
          videoMuted: !data.video,
          screenSharing: Boolean(data.screen),
        });
        return member.tile.showMediaState(member.record);
      case 'chat':
        if (typeof data.text === 'string') {
          this.onChat({ from, name: member.record.name, text: data.text, via: 'signaling' });
        }
    }
  }

  /** Tells `to` (or everyone) what we send; via signaling, so it works before the data channel. */
  sendMediaState(to = null) {
    const data = {
      kind: 'media-state',
      audio: this.media.audioOn,
      video: this.media.videoOn,
      screen: Boolean(this.media.screenTrack),
    };
    const targets = to ? [to] : [...this.members.keys()];
    targets.forEach((id) => this.signaling.sendTo(id, data));
  }

  /** Sends chat to everyone; returns {peerId: "datachannel" | "signaling"}. */
  sendChat(text) {
    const paths = {};
    for (const [id, { peer }] of this.members) {
      if (peer.sendChat(text, state.name)) {
        paths[id] = 'datachannel';
      } else {
        this.signaling.sendTo(id, { kind: 'chat', text });
        paths[id] = 'signaling';
      }
    }
    return paths;
  }

  setOutgoingTrack(kind, track) {
    return Promise.all([...this.members.values()].map(({ peer }) => peer.setOutgoingTrack(kind, track)));
  }

  applyIceServers() {
    const configuration = this.ice.configuration(state.relayOnly);
    this.members.forEach(({ peer }) => peer.setConfiguration(configuration));
  }

  applyStats(id, sample) {
    const member = this.members.get(id);
    if (!member) return;
    Object.assign(member.record, {
      candidateType: sample.candidateType,
      remoteCandidateType: sample.remoteCandidateType,
      localAddress: sample.localAddress,
      remoteAddress: sample.remoteAddress,
      relayURL: sample.relayURL,
      framesDecoded: sample.framesDecoded,
      bytesReceived: sample.bytesReceived,
      stats: {
        rttMs: sample.rttMs,
        inKbps: sample.inKbps,
        outKbps: sample.outKbps,
        lossPercent: sample.lossPercent,
        width: sample.width,
        height: sample.height,
        fps: sample.fps,
      },
    });
    member.tile.showStats(sample);
  }

  *connections() {
    for (const [id, { peer }] of this.members) yield [id, peer.pc];
  }
}
