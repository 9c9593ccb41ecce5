import type { DeviceSession } from '../platform/registry.js';
import { LINK_WINDOW_MS, linkInto, wantedMedia } from './links.js';
import type {
  CommandRecord,
  EhomeStore,
  EventQuery,
  MediaRecord,
  NewEvent,
  NodeRecord,
  RetentionPolicy,
  RetentionResult,
  SessionRecord,
  StoredEvent,
} from './types.js';

/**
 * A store in memory, the default of a library `EhomeServer` without one: nothing survives the process. Bounded:
 * the oldest events, media and commands go first beyond `capacity` (a retention by count that always applies).
 */
export class MemoryStore implements EhomeStore {
  readonly kind = 'memory' as const;
  readonly nodeId = 'memory';
  readonly schemaVersion = 0;
  private readonly events: StoredEvent[] = [];
  private readonly dedupe = new Map<string, number>();
  private readonly mediaById = new Map<number, MediaRecord>();
  /** The newest upload of each device, kind and PicID/VideoId (bounded), for linking alarms. */
  private readonly mediaByKey = new Map<string, MediaRecord>();
  private readonly sessionById = new Map<string, SessionRecord>();
  private readonly commandList: CommandRecord[] = [];
  private readonly listeners = new Set<() => void>();
  private nextEvent = 1;
  private nextMedia = 1;
  private apiUrl: string | undefined;
  private readonly startedAt = Date.now();

  constructor(readonly capacity = 100_000) {}

  private wake(): void {
    for (const l of this.listeners) l();
  }

  async appendEvent(e: NewEvent): Promise<number> {
    const id = this.nextEvent++;
    this.events.push({ id, ...e });
    if (this.events.length > this.capacity) {
      const gone = this.events.splice(0, this.events.length - this.capacity);
      for (const g of gone) if (this.dedupe.size > 0) this.forgetDedupe(g.id);
    }
    this.wake();
    return id;
  }

  private forgetDedupe(id: number): void {
    for (const [k, v] of this.dedupe) {
      if (v === id) {
        this.dedupe.delete(k);
        return;
      }
      if (v > id) return;
    }
  }

  async appendAlarm(e: NewEvent, dedupeKey: string): Promise<{ id: number; duplicate: boolean }> {
    const old = this.dedupe.get(dedupeKey);
    if (old !== undefined) return { id: old, duplicate: true };
    // Linked to the uploads stored before it, as the SQL stores do in the alarm's transaction.
    let body = e.body;
    for (const w of wantedMedia(body)) {
      const m = this.mediaByKey.get(`${e.deviceId}\u0000${w.kind}\u0000${w.id}`);
      if (m) body = linkInto(body, e.at, e.deviceId, m) ?? body;
    }
    const id = await this.appendEvent({ ...e, body });
    this.dedupe.set(dedupeKey, id);
    return { id, duplicate: false };
  }

  private indexOf(id: number): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.id < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  async updateEvent(id: number, body: Record<string, unknown>): Promise<void> {
    const e = this.events[this.indexOf(id)];
    if (e?.id === id) e.body = body;
    this.wake();
  }

  async latestEventId(): Promise<number> {
    return this.events[this.events.length - 1]?.id ?? 0;
  }

  async queryEvents(q: EventQuery): Promise<{ events: StoredEvent[]; next: number | null }> {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    const out: StoredEvent[] = [];
    for (let i = this.indexOf((q.after ?? 0) + 1); i < this.events.length && out.length < limit; i++) {
      const e = this.events[i]!;
      if (q.type !== undefined && e.type !== q.type) continue;
      if (q.deviceId !== undefined && e.deviceId !== q.deviceId) continue;
      if (q.from !== undefined && e.at < q.from) continue;
      if (q.to !== undefined && e.at > q.to) continue;
      out.push({ ...e, body: { ...e.body } });
    }
    return { events: out, next: out.length === limit ? out[out.length - 1]!.id : null };
  }

  async addMedia(m: Omit<MediaRecord, 'id' | 'nodeId'>): Promise<number> {
    const id = this.nextMedia++;
    const record: MediaRecord = { ...m, id, nodeId: this.nodeId };
    this.mediaById.set(id, record);
    const key = `${m.deviceId}\u0000${m.kind}\u0000${m.mediaId}`;
    this.mediaByKey.delete(key);
    this.mediaByKey.set(key, record);
    if (this.mediaByKey.size > 10_000) {
      const oldest = this.mediaByKey.keys().next().value;
      if (oldest !== undefined) this.mediaByKey.delete(oldest);
    }
    // Alarms stored before it that name it (the newest first, within the link window).
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.at < m.receivedAt - LINK_WINDOW_MS) break;
      if (e.type !== 'alarm') continue;
      const linked = linkInto(e.body, e.at, e.deviceId, record);
      if (linked) e.body = linked;
    }
    if (this.mediaById.size > this.capacity) {
      const oldest = this.mediaById.keys().next().value;
      if (oldest !== undefined) this.mediaById.delete(oldest);
    }
    return id;
  }

  async media(id: number): Promise<MediaRecord | undefined> {
    return this.mediaById.get(id);
  }

  async putSession(session: DeviceSession, online: boolean): Promise<void> {
    this.sessionById.set(session.deviceId, { session: { ...session }, nodeId: this.nodeId, online });
    if (this.sessionById.size > this.capacity) {
      for (const [k, v] of this.sessionById) {
        if (!v.online) {
          this.sessionById.delete(k);
          break;
        }
      }
    }
  }

  async touchSessions(seen: { deviceId: string; lastSeen: number }[]): Promise<void> {
    for (const s of seen) {
      const r = this.sessionById.get(s.deviceId);
      if (r) r.session.lastSeen = s.lastSeen;
    }
  }

  async sessions(): Promise<SessionRecord[]> {
    return [...this.sessionById.values()].sort((a, b) => (a.session.deviceId < b.session.deviceId ? -1 : 1));
  }

  async session(deviceId: string): Promise<SessionRecord | undefined> {
    return this.sessionById.get(deviceId);
  }

  async addCommand(c: CommandRecord): Promise<void> {
    this.commandList.push(c);
    if (this.commandList.length > this.capacity) this.commandList.shift();
  }

  async commands(deviceId: string, limit = 100): Promise<CommandRecord[]> {
    return this.commandList
      .filter((c) => c.deviceId === deviceId)
      .reverse()
      .slice(0, Math.min(Math.max(limit, 1), 1000));
  }

  async heartbeat(apiUrl: string | undefined): Promise<void> {
    this.apiUrl = apiUrl;
  }

  async nodes(): Promise<NodeRecord[]> {
    const now = Date.now();
    return [{ nodeId: this.nodeId, apiUrl: this.apiUrl, startedAt: this.startedAt, seenAt: now, alive: true }];
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async enforceRetention(policy: RetentionPolicy, now = Date.now()): Promise<RetentionResult> {
    const out: RetentionResult = { events: 0, commands: 0, media: 0, paths: [] };
    const dropMedia = (m: MediaRecord): void => {
      this.mediaById.delete(m.id);
      out.media++;
      out.paths.push({ path: m.path, size: m.size });
    };
    if (policy.days !== undefined) {
      const cut = now - policy.days * 86_400_000;
      const keep = this.events.filter((e) => e.at >= cut);
      for (const g of this.events) if (g.at < cut) this.forgetDedupe(g.id);
      out.events += this.events.length - keep.length;
      this.events.splice(0, this.events.length, ...keep);
      while (this.commandList.length > 0 && this.commandList[0]!.at < cut) {
        this.commandList.shift();
        out.commands++;
      }
      for (const m of [...this.mediaById.values()]) if (m.receivedAt < cut) dropMedia(m);
    }
    if (policy.maxMediaBytes !== undefined) {
      let total = 0;
      for (const m of [...this.mediaById.values()].reverse()) {
        total += m.size;
        if (total > policy.maxMediaBytes) dropMedia(m);
      }
    }
    if (policy.maxEvents !== undefined && this.events.length > policy.maxEvents) {
      const n = this.events.length - policy.maxEvents;
      for (const g of this.events.splice(0, n)) this.forgetDedupe(g.id);
      out.events += n;
    }
    return out;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
