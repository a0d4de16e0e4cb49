/**
 * STUN/TURN servers from `GET /api/ice-servers`. TURN credentials expire, so they are fetched
 * again once older than half their ttl: before a new peer connection or an ICE restart.
 */

const ENDPOINT = '/api/ice-servers';
const FETCH_TIMEOUT_MS = 5000;
const DEFAULT_TTL_S = 3600;
// After a failed fetch, try again on the next need once this much time has passed (ttl/2).
const FAILURE_TTL_S = 60;

export class IceServerSource {
  constructor() {
    this.servers = [];
    this.turn = null;
    this.problem = null;
    this.fetchedAt = 0;
    this.ttlMs = 0;
    this.inflight = null;
    this.listeners = new Set();
  }

  get stale() {
    return Date.now() - this.fetchedAt > this.ttlMs / 2;
  }

  /** The RTCConfiguration for a new connection, with what is known now. */
  configuration(relayOnly) {
    return { iceServers: this.servers, iceTransportPolicy: relayOnly ? 'relay' : 'all' };
  }

  /** Calls `listener(source)` after every fetch, successful or not. */
  onUpdate(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Refetches when stale; resolves once the servers are as fresh as they can be. */
  async refreshIfStale() {
    if (this.stale) await this.refresh();
    return this.servers;
  }

  refresh() {
    this.inflight ??= this.load().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  async load() {
    try {
      const response = await fetch(ENDPOINT, {
        cache: 'no-store',
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      this.servers = Array.isArray(body.iceServers) ? body.iceServers : [];
      this.turn = body.turn && typeof body.turn === 'object' ? body.turn : { enabled: false };
      this.ttlMs = (Number(body.ttl) > 0 ? Number(body.ttl) : DEFAULT_TTL_S) * 1000;
      this.problem = null;
    } catch (error) {
      // Keep whatever we had: old servers are no worse than none.
      this.ttlMs = FAILURE_TTL_S * 1000;
      this.problem = `ICE server list unavailable (${error.message}); direct connections only`;
    }
    this.fetchedAt = Date.now();
    this.listeners.forEach((listener) => listener(this));
  }

  /** URLs only, for display and automation: credentials stay inside. */
  get urls() {
    return this.servers.flatMap((server) => (Array.isArray(server.urls) ? server.urls : [server.urls]));
  }
}
