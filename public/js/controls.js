/**
 * The call's buttons and device pickers. Bound once; each action goes to the call in progress
 * (`currentCall()`), and `reflect()` redraws pressed/disabled states from `state`.
 */

import { state } from './state.js';
import { addNotice, byId, setPressed } from './ui.js';

export function bindControls(currentCall) {
  const buttons = {
    audio: byId('mute-audio'),
    video: byId('mute-video'),
    screen: byId('screen-share'),
    stats: byId('toggle-stats'),
    hangUp: byId('hang-up'),
    copyLink: byId('copy-link'),
  };
  const selects = { video: byId('camera-select'), audio: byId('microphone-select') };
  const withCall = (action) => () => {
    const call = currentCall();
    if (call && !call.ended) action(call);
  };

  buttons.audio.addEventListener('click', withCall((call) => call.setAudioMuted(!state.audioMuted)));
  buttons.video.addEventListener('click', withCall((call) => call.setVideoMuted(!state.videoMuted)));
  buttons.screen.addEventListener('click', withCall((call) => call.toggleScreenShare()));
  buttons.hangUp.addEventListener('click', withCall((call) => call.hangUp()));
  buttons.stats.addEventListener('click', () => {
    const showing = byId('tiles').classList.toggle('show-stats');
    setPressed(buttons.stats, showing);
  });
  buttons.copyLink.addEventListener('click', () => copyRoomLink());
  for (const [kind, select] of Object.entries(selects)) {
    select.addEventListener('change', withCall((call) => call.switchDevice(kind, select.value)));
  }
  navigator.mediaDevices?.addEventListener?.('devicechange', () => refreshDevices());

  async function refreshDevices() {
    const call = currentCall();
    if (!call || call.ended) return;
    const { cameras, microphones } = await call.media.devices().catch(() => ({ cameras: [], microphones: [] }));
    fillSelect(selects.video, cameras, call.media.currentDeviceId('video'), 'Camera');
    fillSelect(selects.audio, microphones, call.media.currentDeviceId('audio'), 'Microphone');
    // Without a track of that kind there is nothing to switch (and usually no permission).
    selects.video.disabled = !call.media.cameraTrack || cameras.length < 2;
    selects.audio.disabled = !call.media.audioTrack || microphones.length < 2;
  }

  function reflect() {
    const call = currentCall();
    const media = call?.media;
    setPressed(buttons.audio, state.audioMuted);
    setPressed(buttons.video, state.videoMuted);
    setPressed(buttons.screen, state.screenSharing);
    buttons.audio.disabled = !media?.audioTrack;
    buttons.video.disabled = !media?.cameraTrack;
    buttons.screen.disabled = !media?.canShareScreen;
    refreshDevices();
  }

  return { reflect };
}

function fillSelect(select, devices, currentId, fallbackLabel) {
  const options = devices.map((device, index) => {
    const option = document.createElement('option');
    option.value = device.deviceId;
    option.textContent = device.label || `${fallbackLabel} ${index + 1}`;
    option.selected = device.deviceId === currentId;
    return option;
  });
  if (options.length === 0) {
    const none = document.createElement('option');
    none.textContent = `No ${fallbackLabel.toLowerCase()}`;
    none.value = '';
    options.push(none);
  }
  select.replaceChildren(...options);
}

async function copyRoomLink() {
  const link = `${location.origin}/r/${encodeURIComponent(state.room ?? '')}`;
  try {
    await navigator.clipboard.writeText(link);
    addNotice('Link copied');
  } catch {
    addNotice(`Share this link: ${link}`); // no clipboard on plain http
  }
}
