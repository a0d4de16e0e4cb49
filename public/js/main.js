/**
 * Boot: install `window.switchboard`, read the address, and show the picker (`/`), the join
 * form (`/r/<room>`) or, after Join, the call.
 */

import { Call } from './call.js';
import { ChatPanel } from './chat.js';
import { bindControls } from './controls.js';
import { reopenJoinForm, showJoinForm, showPicker } from './join-form.js';
import { isValidRoomName, parseRoute, storePassword } from './route.js';
import { installAutomationHook, state } from './state.js';
import { byId, reportError, setTitle, showView } from './ui.js';

installAutomationHook();

const route = parseRoute(location);
let call = null;
const chat = new ChatPanel();
const controls = bindControls(() => call);
chat.onSend = (text) => call?.sendChat(text);

if (route.room === null) {
  showPicker(route);
} else if (!isValidRoomName(route.room)) {
  showPicker(route);
  reportError('invalid_room_name', `“${route.room}” is not a valid room name.`);
} else {
  state.room = route.room;
  state.relayOnly = route.relayOnly;
  byId('relay-badge').hidden = !route.relayOnly;
  showJoinForm(route, (credentials) => startCall(credentials));
}

function startCall({ name, password }) {
  call?.end();
  call = new Call(
    { room: route.room, name, password, capacity: route.capacity, relayOnly: route.relayOnly },
    {
      chat,
      onMediaChanged: () => controls.reflect(),
      onRejected: (code, message) => reopenJoinForm(code, message),
      onFull: (message) => showRoomFull(message),
      onEnded: () => {
        storePassword(route.room, '');
        location.assign('/');
      },
    },
  );
  call.start().catch((error) => reportError('start_failed', `Could not start the call: ${error.message}`));
}

function showRoomFull(message) {
  reportError('room_full', message.message ?? `Room ${route.room} is full`);
  showView('full-view');
  setTitle(`Room full — ${route.room}`);
  byId('full-room').textContent = message.room ?? route.room;
  byId('full-capacity').textContent = String(message.capacity ?? '?');
  byId('retry-join').focus();
}

byId('retry-join').addEventListener('click', () => {
  showView('join-view');
  byId('join-button').focus();
});

// Leaving the page: tell the room now rather than letting the others wait for a timeout.
window.addEventListener('pagehide', () => call?.end({ leave: true }));
