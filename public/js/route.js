/**
 * What the address bar asks for: the room (from `/r/<room>`) and the query parameters the client
 * honours. Also the one place that knows the server's room naming rule and the storage keys.
 */

// Same rule as the server: 1–64 of A-Z a-z 0-9 - _ . and no leading dot.
const ROOM_NAME = /^(?!\.)[A-Za-z0-9._-]{1,64}$/;

export const isValidRoomName = (room) => ROOM_NAME.test(room);

/** Capacity as a positive integer, or null when absent or not a number (the server checks range). */
export function parseCapacity(text) {
  if (text === null || text === undefined || String(text).trim() === '') return null;
  const value = Number(text);
  return Number.isInteger(value) && value >= 1 ? value : null;
}

export function parseRoute(location) {
  const params = new URLSearchParams(location.search);
  const match = /^\/r\/([^/]+)\/?$/.exec(location.pathname);
  let room = null;
  if (match) {
    try {
      room = decodeURIComponent(match[1]);
    } catch {
      room = match[1];
    }
  }
  return {
    room,
    capacity: parseCapacity(params.get('capacity')),
    relayOnly: params.get('relay') === '1',
    name: params.get('name'),
  };
}

/** `/r/<room>` with the parameters worth keeping; never the password. */
export function roomPath(room, { capacity = null, relayOnly = false } = {}) {
  const params = new URLSearchParams();
  if (capacity !== null) params.set('capacity', String(capacity));
  if (relayOnly) params.set('relay', '1');
  const query = params.toString();
  return `/r/${encodeURIComponent(room)}${query ? `?${query}` : ''}`;
}

const NAME_KEY = 'switchboard.name';
const passwordKey = (room) => `switchboard.password.${room}`;

// Storage can throw (disabled cookies, private modes); the client works without it.
function tryStorage(action) {
  try {
    return action();
  } catch {
    return null;
  }
}

export const rememberedName = () => tryStorage(() => localStorage.getItem(NAME_KEY)) ?? '';
export const rememberName = (name) => tryStorage(() => localStorage.setItem(NAME_KEY, name));

// The password travels from the picker to the room page in sessionStorage (tab-scoped), never in the URL.
export const storedPassword = (room) => tryStorage(() => sessionStorage.getItem(passwordKey(room))) ?? '';
export function storePassword(room, password) {
  tryStorage(() =>
    password ? sessionStorage.setItem(passwordKey(room), password) : sessionStorage.removeItem(passwordKey(room)),
  );
}
