import type { EhomeEvent } from '../platform/events.js';

/** One platform event as the HTTP API serves it: a stable increasing id, when, what, which device. */
export interface LoggedEvent {
  id: number;
  /** Milliseconds since the epoch when the platform saw it. */
  at: number;
  type: EhomeEvent['type'];
  deviceId: string | undefined;
  event: EhomeEvent;
}

/** Filters of {@link EventLog.query}. */
export interface EventQuery {
  type?: string;
  deviceId?: string;
  /** Inclusive bounds on `at` (ms since the epoch). */
  from?: number;
  to?: number;
  /** Only events with an id greater than this (paging: the `next` of the previous page). */
  after?: number;
  limit?: number;
}

/**
 * The events the API pages through and streams: an in-memory ring of the newest `capacity` events (the oldest
 * go first). Ids keep increasing across the ring, so a client paging with `after` never sees one twice.
 */
export class EventLog {
  private readonly items: LoggedEvent[] = [];
  private nextId = 1;
  private readonly listeners = new Set<(e: LoggedEvent) => void>();

  constructor(readonly capacity = 100_000) {}

  append(event: EhomeEvent, at = Date.now()): LoggedEvent {
    const deviceId = 'deviceId' in event ? event.deviceId : event.type === 'media' ? event.media.deviceId : undefined;
    const logged: LoggedEvent = { id: this.nextId++, at, type: event.type, deviceId, event };
    this.items.push(logged);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
    for (const l of this.listeners) l(logged);
    return logged;
  }

  /** Events matching `q`, oldest first, at most `limit` (default 100, at most 1000); `next` pages on. */
  query(q: EventQuery): { events: LoggedEvent[]; next: number | null } {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    // Ids are increasing: start at the first id after `after` by binary search.
    let lo = 0;
    let hi = this.items.length;
    const after = q.after ?? 0;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.id <= after) lo = mid + 1;
      else hi = mid;
    }
    const out: LoggedEvent[] = [];
    for (let i = lo; i < this.items.length && out.length < limit; i++) {
      const e = this.items[i]!;
      if (q.type !== undefined && e.type !== q.type) continue;
      if (q.deviceId !== undefined && e.deviceId !== q.deviceId) continue;
      if (q.from !== undefined && e.at < q.from) continue;
      if (q.to !== undefined && e.at > q.to) continue;
      out.push(e);
    }
    return { events: out, next: out.length === limit ? out[out.length - 1]!.id : null };
  }

  /** Calls `listener` for every event appended from now on; returns the unsubscribe function. */
  subscribe(listener: (e: LoggedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
