/**
 * Video tiles: our preview and one tile per remote member, with its name, mute badges and the
 * stats overlay. The grid's `data-layout` tells the CSS how many columns suit the tile count.
 */

import { byId } from './ui.js';

export function updateLayout() {
  const grid = byId('tiles');
  const count = grid.children.length;
  grid.dataset.layout = count <= 1 ? '1' : count === 2 ? '2' : count <= 4 ? '4' : count <= 9 ? '9' : 'many';
}

/** Our own tile: shows what we send (mirrored camera, or the screen unmirrored). */
export function showLocalVideo(track, { mirrored, off }) {
  const video = byId('local-video');
  const current = video.srcObject?.getVideoTracks()[0] ?? null;
  if (current !== track) video.srcObject = track ? new MediaStream([track]) : null;
  video.classList.toggle('mirrored', mirrored);
  byId('local-tile').classList.toggle('video-off', off || !track);
}

export function setLocalBadges({ audioMuted, videoMuted, screenSharing }) {
  const tile = byId('local-tile');
  tile.querySelector('.badge-audio').hidden = !audioMuted;
  tile.querySelector('.badge-video').hidden = !videoMuted;
  tile.querySelector('.badge-screen').hidden = !screenSharing;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class RemoteTile {
  constructor(peerId, name) {
    this.tracks = { audio: null, video: null };
    this.root = element('div', 'tile remote-tile');
    this.root.dataset.peerId = peerId;
    this.root.setAttribute('role', 'group');
    this.root.setAttribute('aria-label', name || 'Guest');

    this.video = element('video', 'remote-video');
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.placeholder = element('div', 'tile-placeholder', initial(name));
    this.placeholder.setAttribute('aria-hidden', 'true');

    const label = element('div', 'tile-label');
    this.badges = {
      audio: element('span', 'badge badge-audio', 'Muted'),
      video: element('span', 'badge badge-video', 'Camera off'),
      screen: element('span', 'badge badge-screen', 'Screen'),
    };
    Object.values(this.badges).forEach((badge) => (badge.hidden = true));
    this.connection = element('span', 'tile-connection', 'connecting…');
    label.append(element('span', 'tile-name', name || 'Guest'), ...Object.values(this.badges), this.connection);

    this.unmuteButton = element('button', 'unmute-button', 'Click to hear');
    this.unmuteButton.type = 'button';
    this.unmuteButton.setAttribute('aria-label', `Unmute ${name || 'Guest'}`);
    this.unmuteButton.hidden = true;
    this.unmuteButton.addEventListener('click', () => this.unmute());

    this.overlay = element('pre', 'stats-overlay', 'Connecting…');
    this.root.append(this.video, this.placeholder, label, this.unmuteButton, this.overlay);
    byId('tiles').append(this.root);
    updateLayout();
  }

  /**
   * Plays `track`. A member may have two receivers of a kind (both sides added a transceiver),
   * so the one that actually starts receiving (unmutes) takes over.
   */
  addTrack(track) {
    if (!this.tracks[track.kind] || !track.muted) this.use(track);
    track.addEventListener('unmute', () => this.use(track));
    track.addEventListener('ended', () => {
      if (this.tracks[track.kind] === track) this.use(null, track.kind);
    });
  }

  use(track, kind = track.kind) {
    if (this.tracks[kind] === track) return;
    this.tracks[kind] = track;
    this.video.srcObject = new MediaStream([this.tracks.audio, this.tracks.video].filter(Boolean));
    this.play();
  }

  play() {
    this.video.play().catch((error) => {
      // Autoplay with sound was refused: play muted and let a click bring the sound back.
      if (error.name !== 'NotAllowedError') return;
      this.video.muted = true;
      this.unmuteButton.hidden = false;
      this.video.play().catch(() => {});
    });
  }

  unmute() {
    this.video.muted = false;
    this.unmuteButton.hidden = true;
    this.play();
  }

  showConnection(connectionState) {
    const settled = connectionState === 'connected';
    this.connection.hidden = settled;
    this.connection.textContent = connectionState === 'new' ? 'connecting…' : connectionState;
  }

  showMediaState({ audioMuted, videoMuted, screenSharing }) {
    this.badges.audio.hidden = !audioMuted;
    this.badges.video.hidden = !videoMuted || screenSharing;
    this.badges.screen.hidden = !screenSharing;
    this.root.classList.toggle('video-off', videoMuted && !screenSharing);
    this.root.classList.toggle('screen', screenSharing);
  }

  showStats(sample) {
    const number = (value, digits = 0) => (value === null || value === undefined ? '–' : value.toFixed(digits));
    const size = sample.width ? `${sample.width}×${sample.height} @ ${number(sample.fps)} fps` : 'no video';
    this.overlay.textContent = [
      `RTT ${number(sample.rttMs)} ms`,
      `in ${number(sample.inKbps)} kbps · out ${number(sample.outKbps)} kbps`,
      `loss ${number(sample.lossPercent, 1)} %`,
      size,
      `${sample.candidateType ?? '?'} ↔ ${sample.remoteCandidateType ?? '?'}`,
    ].join('\n');
  }

  remove() {
    this.video.srcObject = null;
    this.root.remove();
    updateLayout();
  }
}

function initial(name) {
  return (name || '?').trim().charAt(0).toUpperCase() || '?';
}
