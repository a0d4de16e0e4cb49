/**
 * Page-level DOM: which view shows, the status line, notices, the error banner and the title.
 * Error state is mirrored into `state.error` so automation sees what the user sees.
 */

import { state } from './state.js';

export const byId = (id) => document.getElementById(id);

const VIEWS = ['join-view', 'call-view', 'full-view'];
const MAX_NOTICES = 5;

export function showView(id) {
  for (const view of VIEWS) byId(view).hidden = view !== id;
}

export function setConnectionStatus(text) {
  byId('connection-status').textContent = text;
}

/** A short line in the status area ("Ada left"); the last few stay visible. */
export function addNotice(text) {
  const list = byId('notices');
  const item = document.createElement('li');
  item.textContent = text;
  list.append(item);
  while (list.children.length > MAX_NOTICES) list.firstElementChild.remove();
}

export function reportError(code, message) {
  state.error = { code, message };
  byId('error-text').textContent = message;
  byId('error').hidden = false;
}

/** Clears the banner; with `code`, only when that is the error showing. */
export function clearError(code = null) {
  if (code && state.error?.code !== code) return;
  state.error = null;
  byId('error-text').textContent = '';
  byId('error').hidden = true;
}

let titleBase = 'Switchboard';
let titleUnread = 0;

export function setTitle(base) {
  titleBase = base;
  renderTitle();
}

export function setUnreadInTitle(count) {
  titleUnread = count;
  renderTitle();
}

function renderTitle() {
  document.title = titleUnread > 0 ? `(${titleUnread}) ${titleBase}` : titleBase;
}

/** Keeps `aria-pressed` (and the matching class) of a toggle button in step. */
export function setPressed(button, pressed) {
  button.setAttribute('aria-pressed', String(pressed));
  button.classList.toggle('pressed', pressed);
}
