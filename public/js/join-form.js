/**
 * The one form of the start page, in two modes. At `/` it is the room picker (room, capacity,
 * name, password) and navigates to `/r/<room>`; at `/r/<room>` it asks for the name and an
 * optional password, then hands them to `onJoin`.
 */

import {
  isValidRoomName,
  parseCapacity,
  rememberName,
  rememberedName,
  roomPath,
  storePassword,
  storedPassword,
} from './route.js';
import { byId, clearError, reportError, setTitle, showView } from './ui.js';

const fields = () => ({
  form: byId('join-form'),
  heading: byId('join-heading'),
  roomFields: byId('room-fields'),
  room: byId('room-input'),
  capacity: byId('capacity-input'),
  name: byId('name-input'),
  password: byId('password-input'),
  button: byId('join-button'),
  hint: byId('join-hint'),
});

// Control characters are refused by the server; strip them rather than fail.
// By code points, as the server counts: a UTF-16 slice could split an emoji and make the name invalid.
const cleanName = (text) => [...text.replace(/\p{Cc}/gu, '').trim()].slice(0, 64).join('');

/** At `/`: pick a room and go there. `route.room` pre-fills the room (e.g. an invalid link). */
export function showPicker(route) {
  const f = fields();
  showView('join-view');
  setTitle('Switchboard');
  f.heading.textContent = 'Join a room';
  f.roomFields.hidden = false;
  f.room.required = true;
  f.room.value = route.room ?? '';
  if (route.capacity) f.capacity.value = String(route.capacity);
  f.name.value = route.name ?? rememberedName();
  f.button.textContent = 'Join';
  f.hint.textContent = '';
  f.room.focus();
  for (const input of [f.room, f.capacity]) {
    input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
  }

  f.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const room = f.room.value.trim();
    if (!isValidRoomName(room)) {
      f.room.setAttribute('aria-invalid', 'true');
      reportError('invalid_room_name', 'Room names are 1–64 letters, digits, "-", "_" or ".", not starting with ".".');
      return f.room.focus();
    }
    const capacityText = f.capacity.value.trim();
    const capacity = parseCapacity(capacityText);
    if (capacityText && capacity === null) {
      f.capacity.setAttribute('aria-invalid', 'true');
      reportError('invalid_field', 'Capacity must be a whole number of at least 1.');
      return f.capacity.focus();
    }
    rememberName(cleanName(f.name.value));
    storePassword(room, f.password.value);
    location.assign(roomPath(room, { capacity, relayOnly: route.relayOnly }));
  });
}

/** At `/r/<room>`: ask for name and password; `onJoin({name, password})` on submit. */
export function showJoinForm(route, onJoin) {
  const f = fields();
  showView('join-view');
  setTitle(`${route.room} — Switchboard`);
  f.heading.textContent = `Join room “${route.room}”`;
  f.roomFields.hidden = true;
  f.room.required = false;
  f.name.value = route.name ?? rememberedName();
  f.password.value = storedPassword(route.room);
  f.button.textContent = 'Join';
  f.hint.textContent = 'Your camera and microphone start when you join.';
  f.name.focus();
  f.password.addEventListener('input', () => f.password.removeAttribute('aria-invalid'));

  f.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = cleanName(f.name.value);
    rememberName(name);
    storePassword(route.room, f.password.value);
    clearError();
    onJoin({ name, password: f.password.value });
  });
}

/** Back to the join form after the server refused us (password, bad name, …). */
export function reopenJoinForm(code, message) {
  const f = fields();
  showView('join-view');
  const text = {
    password_required: 'This room needs a password.',
    wrong_password: 'Wrong password.',
  }[code];
  reportError(code, text ?? message ?? code);
  if (text) {
    f.password.setAttribute('aria-invalid', 'true');
    f.password.focus();
    f.password.select();
  } else {
    f.name.focus();
  }
}
