/**
 * Connection numbers from `pc.getStats()` once a second: which candidate pair carries the call,
 * round-trip time, bitrates (from byte deltas), packet loss and the received video's size and rate.
 */

const POLL_EVERY_MS = 1000;

const endpoint = (candidate) =>
  candidate.address?.includes(':') ? `[${candidate.address}]:${candidate.port}` : `${candidate.address}:${candidate.port}`;

/** One sample; `previous` (the last sample of the same connection) turns totals into rates. */
export async function sampleStats(pc, previous) {
  const report = await pc.getStats();
  const at = performance.now();
  let pair = null;
  let video = null;
  const totals = { bytesIn: 0, bytesOut: 0, lost: 0, received: 0, framesDecoded: 0, videoBytes: 0 };

  report.forEach((entry) => {
    if (entry.type === 'transport' && entry.selectedCandidatePairId) {
      pair ??= report.get(entry.selectedCandidatePairId) ?? null;
    } else if (entry.type === 'inbound-rtp') {
      totals.bytesIn += entry.bytesReceived ?? 0;
      totals.lost += Math.max(0, entry.packetsLost ?? 0);
      totals.received += entry.packetsReceived ?? 0;
      if (entry.kind === 'video') {
        totals.framesDecoded += entry.framesDecoded ?? 0;
        totals.videoBytes += entry.bytesReceived ?? 0;
        // With a spare video m-line the one decoding frames is the one on screen.
        if ((entry.framesDecoded ?? 0) >= (video?.framesDecoded ?? 0)) video = entry;
      }
    } else if (entry.type === 'outbound-rtp') {
      totals.bytesOut += entry.bytesSent ?? 0;
    }
  });
  if (!pair) {
    report.forEach((entry) => {
      if (entry.type === 'candidate-pair' && entry.nominated && entry.state === 'succeeded') pair ??= entry;
    });
  }

  const local = pair ? report.get(pair.localCandidateId) : null;
  const remote = pair ? report.get(pair.remoteCandidateId) : null;
  const seconds = previous ? (at - previous.at) / 1000 : 0;
  const kbps = (now, before) => (seconds > 0 ? Math.max(0, ((now - before) * 8) / 1000 / seconds) : null);
  const lost = totals.lost - (previous?.totals.lost ?? 0);
  const received = totals.received - (previous?.totals.received ?? 0);

  return {
    at,
    totals,
    candidateType: local?.candidateType ?? null,
    remoteCandidateType: remote?.candidateType ?? null,
    // Where the media goes: for a relay candidate, the TURN server's relay address and its URI.
    localAddress: local ? endpoint(local) : null,
    remoteAddress: remote ? endpoint(remote) : null,
    relayURL: local?.candidateType === 'relay' ? (local.url ?? null) : null,
    rttMs: typeof pair?.currentRoundTripTime === 'number' ? pair.currentRoundTripTime * 1000 : null,
    inKbps: previous ? kbps(totals.bytesIn, previous.totals.bytesIn) : null,
    outKbps: previous ? kbps(totals.bytesOut, previous.totals.bytesOut) : null,
    lossPercent: lost + received > 0 ? (100 * Math.max(0, lost)) / (lost + received) : 0,
    width: video?.frameWidth ?? null,
    height: video?.frameHeight ?? null,
    fps: video?.framesPerSecond ?? null,
    framesDecoded: totals.framesDecoded,
    bytesReceived: totals.videoBytes,
  };
}

/** Polls every connection `connections()` yields ([id, RTCPeerConnection] pairs). */
export class StatsPoller {
  constructor(connections, onSample) {
    this.connections = connections;
    this.onSample = onSample;
    this.previous = new Map();
    this.timer = null;
    this.busy = false;
  }

  start() {
    this.timer ??= setInterval(() => this.poll(), POLL_EVERY_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.previous.clear();
  }

  async poll() {
    if (this.busy) return; // a slow getStats must not pile up
    this.busy = true;
    const live = new Set();
    try {
      await Promise.all(
        [...this.connections()].map(async ([id, pc]) => {
          live.add(id);
          if (pc.connectionState === 'closed') return;
          try {
            const sample = await sampleStats(pc, this.previous.get(id));
            this.previous.set(id, sample);
            this.onSample(id, sample);
          } catch {
            // The connection closed while we were asking.
          }
        }),
      );
    } finally {
      for (const id of this.previous.keys()) if (!live.has(id)) this.previous.delete(id);
      this.busy = false;
    }
  }
}
