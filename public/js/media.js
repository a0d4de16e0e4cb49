/**
 * Our camera, microphone and screen. getUserMedia degrades from audio+video to audio to nothing
 * (receive only), so a missing or busy device never keeps anyone out of a call.
 */

const PERMISSION_ERRORS = new Set(['NotAllowedError', 'SecurityError']);
const CAMERA = { width: { ideal: 1280 }, height: { ideal: 720 } };
// Camera and microphone are separate devices and separate permissions: when both together fail, each
// alone may still work (a blocked camera with an allowed microphone is an audio-only call).
const ATTEMPTS = [{ audio: true, video: CAMERA }, { audio: true }, { video: CAMERA }];

export class LocalMedia {
  constructor() {
    /** Camera and microphone; screen capture is kept apart so the camera can come back. */
    this.stream = new MediaStream();
    this.audioTrack = null;
    this.cameraTrack = null;
    this.screenTrack = null;
    /** Why we have less than audio+video: {code, message}, or null. */
    this.problem = null;
  }

  /** "audio+video" | "audio" | "none" */
  get kind() {
    if (this.audioTrack && this.cameraTrack) return 'audio+video';
    if (this.audioTrack) return 'audio';
    return this.cameraTrack ? 'video' : 'none';
  }

  /** What goes out on the video sender: the screen while sharing, else the camera. */
  get outgoingVideo() {
    return this.screenTrack ?? this.cameraTrack;
  }

  get canShareScreen() {
    return Boolean(navigator.mediaDevices?.getDisplayMedia);
  }

  async start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      this.problem = {
        code: 'media_unavailable',
        message: 'Camera and microphone need a secure (https) page — you can still watch and chat.',
      };
      return;
    }
    let lastError = null;
    let denied = false;
    for (const constraints of ATTEMPTS) {
      try {
        this.adopt(await navigator.mediaDevices.getUserMedia(constraints));
        if (!this.cameraTrack) this.problem = { code: 'no_camera', message: `No camera (${lastError?.name}) — audio only.` };
        else if (!this.audioTrack) this.problem = { code: 'no_microphone', message: `No microphone (${lastError?.name}) — video only.` };
        return;
      } catch (error) {
        // NotAllowedError, NotFoundError, OverconstrainedError, NotReadableError…: try with less.
        denied ||= PERMISSION_ERRORS.has(error.name);
        lastError = error;
      }
    }
    this.problem = denied
      ? { code: 'permission_denied', message: 'Camera/microphone permission denied — you can still watch and chat.' }
      : { code: 'no_devices', message: `No usable camera or microphone (${lastError?.name}) — you can still watch and chat.` };
  }

  adopt(stream) {
    this.stream = stream;
    this.audioTrack = stream.getAudioTracks()[0] ?? null;
    this.cameraTrack = stream.getVideoTracks()[0] ?? null;
  }

  setAudioEnabled(enabled) {
    if (this.audioTrack) this.audioTrack.enabled = enabled;
  }

  setVideoEnabled(enabled) {
    if (this.cameraTrack) this.cameraTrack.enabled = enabled;
  }

  get audioOn() {
    return Boolean(this.audioTrack?.enabled);
  }

  get videoOn() {
    return Boolean(this.cameraTrack?.enabled);
  }

  /** Cameras and microphones with ids (ids are empty until permission was granted). */
  async devices() {
    if (!navigator.mediaDevices?.enumerateDevices) return { cameras: [], microphones: [] };
    const all = await navigator.mediaDevices.enumerateDevices();
    const ofKind = (kind) => all.filter((device) => device.kind === kind && device.deviceId);
    return { cameras: ofKind('videoinput'), microphones: ofKind('audioinput') };
  }

  currentDeviceId(kind) {
    const track = kind === 'audio' ? this.audioTrack : this.cameraTrack;
    return track?.getSettings().deviceId ?? null;
  }

  /**
   * Opens `deviceId` for `kind` ("audio" | "video") and makes it ours. Returns the previous track,
   * still live: the caller stops it once every sender has switched.
   */
  async switchDevice(kind, deviceId) {
    const previous = kind === 'audio' ? this.audioTrack : this.cameraTrack;
    const constraints = { deviceId: { exact: deviceId }, ...(kind === 'video' ? CAMERA : {}) };
    const open = async () => (await navigator.mediaDevices.getUserMedia({ [kind]: constraints })).getTracks()[0];
    let track;
    try {
      track = await open();
    } catch (error) {
      // Some devices (phones) cannot open a second camera while the first is live.
      if (!previous || error.name !== 'NotReadableError') throw error;
      previous.stop();
      try {
        track = await open();
      } catch (reopenError) {
        // The old device is stopped now: take it back rather than keep sending an ended track.
        track = (await navigator.mediaDevices.getUserMedia({ [kind]: kind === 'video' ? CAMERA : true })).getTracks()[0];
        this.replaceLocal(kind, previous, track);
        throw reopenError;
      }
    }
    this.replaceLocal(kind, previous, track);
    return previous;
  }

  replaceLocal(kind, previous, track) {
    track.enabled = previous ? previous.enabled : true;
    if (previous) this.stream.removeTrack(previous);
    this.stream.addTrack(track);
    if (kind === 'audio') this.audioTrack = track;
    else this.cameraTrack = track;
  }

  /** Starts capturing a screen; `onEnded` runs when the browser's own "Stop sharing" is used. */
  async startScreenShare(onEnded) {
    const capture = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    const track = capture.getVideoTracks()[0];
    track.contentHint = 'detail';
    track.addEventListener('ended', onEnded, { once: true });
    this.screenTrack = track;
    return track;
  }

  stopScreenShare() {
    const track = this.screenTrack;
    this.screenTrack = null;
    track?.stop();
  }

  stop() {
    this.stopScreenShare();
    this.stream.getTracks().forEach((track) => track.stop());
    this.audioTrack = null;
    this.cameraTrack = null;
  }
}
