/**
 * The chat panel: the log, the message form, the drawer toggle and unread counting (in the
 * `#chat-unread` badge and the title) while the panel is collapsed or the tab is hidden.
 * Sending is someone else's job: `onSend(text)` is handed every message typed.
 */

import { state } from './state.js';
import { byId, setUnreadInTitle } from './ui.js';

const WIDE = window.matchMedia('(min-width: 900px)');

export class ChatPanel {
  constructor() {
    this.onSend = () => {};
    this.unread = 0;
    this.form = byId('chat-form');
    this.input = byId('chat-input');
    this.log = byId('chat-log');
    this.toggle = byId('toggle-chat');
    this.badge = byId('chat-unread');
    this.view = byId('call-view');

    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      this.input.value = '';
      this.onSend(text);
    });
    this.toggle.addEventListener('click', () => this.setOpen(!this.open));
    byId('close-chat').addEventListener('click', () => {
      this.setOpen(false);
      this.toggle.focus();
    });
    this.view.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.open && !WIDE.matches) {
        this.setOpen(false);
        this.toggle.focus();
      }
    });
    document.addEventListener('visibilitychange', () => this.markReadIfSeen());
    WIDE.addEventListener('change', () => this.setOpen(WIDE.matches));
    this.setOpen(WIDE.matches);
  }

  get open() {
    return this.view.classList.contains('chat-open');
  }

  setOpen(open) {
    this.view.classList.toggle('chat-open', open);
    this.toggle.setAttribute('aria-expanded', String(open));
    if (open && !WIDE.matches) this.input.focus();
    this.markReadIfSeen();
  }

  /** Logs one message: `{from, name, text, via, at}` (`from` is a peer id or "me"). */
  add(entry) {
    state.chat.push(entry);
    const item = document.createElement('li');
    item.className = entry.from === 'me' ? 'chat-line mine' : 'chat-line';
    const name = document.createElement('span');
    name.className = 'chat-name';
    name.textContent = entry.from === 'me' ? 'You' : entry.name || 'Guest';
    const time = document.createElement('time');
    time.dateTime = new Date(entry.at).toISOString();
    time.textContent = new Date(entry.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const text = document.createElement('span');
    text.className = 'chat-text';
    text.textContent = entry.text;
    item.append(name, time, text);
    this.log.append(item);
    this.log.scrollTop = this.log.scrollHeight;
    if (entry.from !== 'me' && !this.seen) this.setUnread(this.unread + 1);
  }

  /** Forgets the log (a new call). */
  clear() {
    this.log.replaceChildren();
    this.setUnread(0);
  }

  get seen() {
    return this.open && !document.hidden;
  }

  markReadIfSeen() {
    if (this.seen) this.setUnread(0);
  }

  setUnread(count) {
    this.unread = count;
    this.badge.textContent = String(count);
    this.badge.hidden = count === 0;
    this.toggle.setAttribute('aria-label', count ? `Chat, ${count} unread` : 'Chat');
    setUnreadInTitle(count);
  }
}
