/**
 * What the page knows, in one place, and the read-only `window.switchboard` view of it that
 * automation reads. Modules write `state`; nothing learns state by reading the DOM.
 */

export const state = {
  room: null,
  id: null,
  name: '',
  capacity: null,
  signaling: 'idle',
  relayOnly: false,
  iceServers: [],
  turn: null,
  localMedia: 'none',
  audioMuted: false,
  videoMuted: false,
  screenSharing: false,
  error: null,
  /** @type {Map<string, object>} peer id → record from `newPeerRecord` */
  peers: new Map(),
  departed: [],
  chat: [],
};

/** The record `window.switchboard.peers[id]` shows; peer.js and stats.js keep it current. */
export function newPeerRecord(id, name) {
  return {
    id,
    name,
    signalingState: 'stable',
    iceConnectionState: 'new',
    connectionState: 'new',
    candidateType: null,
    remoteCandidateType: null,
    localAddress: null,
    remoteAddress: null,
    relayURL: null,
    framesDecoded: 0,
    bytesReceived: 0,
    dataChannel: 'connecting',
    audioMuted: false,
    videoMuted: false,
    screenSharing: false,
    stats: null,
  };
}

function deepFreeze(value) {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

// Copies, so a page script holding a snapshot can never reach the live objects.
const snapshot = (value) => deepFreeze(structuredClone(value));

const readers = {
  room: () => state.room,
  id: () => state.id,
  name: () => state.name,
  capacity: () => state.capacity,
  signaling: () => state.signaling,
  relayOnly: () => state.relayOnly,
  iceServers: () => state.iceServers,
  turn: () => state.turn,
  localMedia: () => state.localMedia,
  audioMuted: () => state.audioMuted,
  videoMuted: () => state.videoMuted,
  screenSharing: () => state.screenSharing,
  error: () => state.error,
  peers: () => Object.fromEntries(state.peers),
  departed: () => state.departed,
  chat: () => state.chat,
};

/** Defines `window.switchboard`: getters returning frozen copies, plus `snapshot()` for all at once. */
export function installAutomationHook() {
  const hook = {};
  for (const [key, read] of Object.entries(readers)) {
    Object.defineProperty(hook, key, { get: () => snapshot(read()), enumerable: true });
  }
  Object.defineProperty(hook, 'snapshot', {
    value: () => snapshot(Object.fromEntries(Object.entries(readers).map(([k, read]) => [k, read()]))),
  });
  Object.freeze(hook);
  Object.defineProperty(window, 'switchboard', { value: hook, enumerable: true });
}
