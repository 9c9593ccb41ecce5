import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { DeviceSession } from '../platform/registry.js';
import { StoreError } from './errors.js';
import { LINK_WINDOW_MS, linkInto, wantedMedia } from './links.js';
import { MIGRATION_LOCK, MIGRATIONS } from './migrations.js';
import {
  type CommandRecord,
  type EhomeStore,
  type EventQuery,
  type MediaRecord,
  type NewEvent,
  NODE_DEAD_AFTER_MS,
  type NodeRecord,
  type RetentionPolicy,
  type RetentionResult,
  type SessionRecord,
  type StoredEvent,
} from './types.js';

type Row = Record<string, unknown>;

/** One way to run a parameterized statement (`$1`, `$2`, ...): PGlite and `pg` share this shape. */
export type SqlRun = (sql: string, params?: readonly unknown[]) => Promise<Row[]>;

/** What {@link SqlStore} needs of a database: queries, transactions, and (PostgreSQL) notifications. */
export interface SqlDriver {
  query: SqlRun;
  transaction<T>(body: (run: SqlRun) => Promise<T>): Promise<T>;
  /** Transactions may run at once (a pool of connections): the store then commits urgent writes on their own. */
  concurrentTransactions?: boolean;
  /** Publishes "events were committed" to the other nodes (PostgreSQL NOTIFY). */
  notify?(): Promise<void>;
  /** Calls `listener` when another node committed events (PostgreSQL LISTEN). */
  listen?(listener: () => void): Promise<void>;
  close(): Promise<void>;
}

/** Settings shared by the SQL stores. */
export interface SqlStoreOptions {
  /** Writes waiting for their commit at most; beyond it a write is refused with a {@link StoreError}. Default 20,000. */
  maxQueuedWrites?: number;
  /** Writes committed together in one transaction at most. Default 512. */
  maxBatch?: number;
  /**
   * Written-behind writes (sessions, events other than alarms, command history) in one transaction at most; the
   * writes a device waits for (alarms, uploads) go first. Default 128.
   */
  maxBehind?: number;
  /** Node id (default: host, pid and a random part). */
  nodeId?: string;
  /** How long `close()` waits for queued writes to commit before failing the rest. Default 30,000 ms. */
  closeTimeoutMs?: number;
}

/** A write as queued: what it is, so a group commit can turn many of a kind into one multi-row statement. */
type Op =
  | { k: 'event'; e: NewEvent }
  | { k: 'alarm'; e: NewEvent; dedupe: string }
  | { k: 'update'; id: number; body: Record<string, unknown> }
  | { k: 'media'; m: Omit<MediaRecord, 'id' | 'nodeId'> }
  | { k: 'session'; s: DeviceSession; online: boolean }
  | { k: 'command'; c: CommandRecord }
  | { k: 'run'; run: (q: SqlRun) => Promise<unknown> };

interface QueuedWrite {
  op: Op;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

type Lane = 'both' | 'urgent' | 'behind';

/** Counters of the group commit (for benchmarks and monitoring). */
export interface StoreWriteStats {
  /** Writes waiting now: acknowledgement-critical (alarms, uploads) and the rest. */
  queuedUrgent: number;
  queuedBehind: number;
  /** Transactions committed, writes in them, and the longest transaction so far (ms). */
  batches: number;
  writes: number;
  maxBatchMs: number;
}

/** Rows of `touchSessions` per statement: one statement over 10,000 sessions held the store for 200 ms. */
const TOUCH_CHUNK = 500;

/** Rows a DELETE removed, counted in the database (not returned: a retention run may remove millions). */
async function count(q: SqlRun, del: string, params: unknown[]): Promise<number> {
  const r = await q(`with d as (${del} returning 1) select count(*) as n from d`, params);
  return Number(r[0]?.n ?? 0);
}

/** JSON for a jsonb column: PostgreSQL refuses U+0000 in text, so a NUL from the wire becomes U+FFFD. */
function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' ? x.replaceAll('\u0000', '\ufffd') : x));
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const json = (v: unknown): Record<string, unknown> =>
  (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;

function mediaOf(r: Row): MediaRecord {
  return {
    id: num(r.id),
    nodeId: String(r.node_id),
    deviceId: String(r.device_id),
    kind: r.kind === 'video' ? 'video' : 'picture',
    mediaId: String(r.media_id),
    path: String(r.path),
    size: num(r.size),
    channel: r.channel === null || r.channel === undefined ? undefined : num(r.channel),
    receivedAt: num(r.received_at),
  };
}

/**
 * The store over SQL: one schema and one set of queries for the embedded store (PGlite) and PostgreSQL. Writes
 * are group-committed: every write waiting when a transaction starts goes into it (at most `maxBatch`), and each
 * write's promise resolves after that COMMIT, so many alarms per second cost few commits and an acknowledgement
 * still follows its own commit.
 */
export class SqlStore implements EhomeStore {
  readonly nodeId: string;
  schemaVersion = 0;
  /** Writes a device waits for (alarms, uploads), and the rest (written behind). */
  private readonly urgent: QueuedWrite[] = [];
  private readonly queue: QueuedWrite[] = [];
  private batches = 0;
  private writes = 0;
  private maxBatchMs = 0;
  private readonly draining = new Set<Lane>();
  private closed = false;
  private readonly listeners = new Set<() => void>();
  private readonly maxQueued: number;
  private readonly maxBatch: number;
  private readonly maxBehind: number;
  private readonly startedAt = Date.now();
  private readonly closeTimeoutMs: number;

  constructor(
    readonly kind: 'embedded' | 'postgres',
    private readonly db: SqlDriver,
    options: SqlStoreOptions = {},
  ) {
    this.nodeId = options.nodeId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.maxQueued = options.maxQueuedWrites ?? 20_000;
    this.maxBatch = options.maxBatch ?? 512;
    this.maxBehind = Math.max(1, options.maxBehind ?? 128);
    this.closeTimeoutMs = options.closeTimeoutMs ?? 30_000;
  }

  /** Applies the migrations not yet applied; call once before use. */
  async migrate(): Promise<void> {
    await this.db.transaction(async (q) => {
      await q('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await q(
        'create table if not exists schema_migrations (version integer primary key, name text not null, applied_at bigint not null)',
      );
      const done = new Set((await q('select version from schema_migrations')).map((r) => num(r.version)));
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        for (const statement of m.sql.split(';').filter((s) => s.trim() !== '')) await q(statement);
        await q('insert into schema_migrations (version, name, applied_at) values ($1, $2, $3)', [
          m.version,
          m.name,
          Date.now(),
        ]);
      }
      const v = await q('select coalesce(max(version), 0) as v from schema_migrations');
      this.schemaVersion = num(v[0]?.v);
    });
    if (this.db.listen) await this.db.listen(() => this.wake());
  }

  // ---- writes ----------------------------------------------------------------------------------------------

  /** Group-commit counters. */
  get writeStats(): StoreWriteStats {
    return {
      queuedUrgent: this.urgent.length,
      queuedBehind: this.queue.length,
      batches: this.batches,
      writes: this.writes,
      maxBatchMs: Math.round(this.maxBatchMs * 10) / 10,
    };
  }

  /**
   * Queues a write. `urgent` writes (alarms and uploads: a device waits for their answer) go into the next
   * transaction ahead of the others, so a burst of write-behind records (10,000 REGISTERs are 20,000 writes) never
   * stands between an alarm and its acknowledgement.
   */
  private write<T>(op: Op, urgent = false): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('the store is closed'));
    if (this.queue.length + this.urgent.length >= this.maxQueued) {
      return Promise.reject(
        new StoreError(`the store is behind: ${this.queue.length + this.urgent.length} writes wait for a commit`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      (urgent ? this.urgent : this.queue).push({ op, resolve: resolve as (v: unknown) => void, reject });
      const lane: Lane = this.db.concurrentTransactions !== true ? 'both' : urgent ? 'urgent' : 'behind';
      if (!this.draining.has(lane)) void this.drain(lane);
    });
  }

  /**
   * Commits queued writes until none is left. One lane (`both`) on PGlite, whose transactions run one at a time
   * anyway; on PostgreSQL the writes a device waits for have their own lane (a connection of the pool), so a large
   * written-behind transaction never delays an acknowledgement.
   */
  private async drain(lane: Lane): Promise<void> {
    this.draining.add(lane);
    let events = false;
    const pending = (): number =>
      lane === 'urgent'
        ? this.urgent.length
        : lane === 'behind'
          ? this.queue.length
          : this.urgent.length + this.queue.length;
    try {
      while (pending() > 0) {
        const batch = lane === 'behind' ? [] : this.urgent.splice(0, this.maxBatch);
        // Behind writes fill the batch up to `maxBehind`, with at most one statement of its own (a chunk of
        // lastSeen, retention): the transaction stays short, so an alarm arriving meanwhile waits little.
        const room = lane === 'urgent' ? 0 : Math.min(this.maxBatch - batch.length, this.maxBehind, this.queue.length);
        let take = 0;
        for (let runs = 0; take < room; take++) if (this.queue[take]!.op.k === 'run' && runs++ > 0) break;
        for (const w of this.queue.splice(0, take)) batch.push(w);
        const started = performance.now();
        try {
          const results = await this.db.transaction((q) => this.commitBatch(q, batch));
          for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]);
        } catch {
          // One bad write must not fail the others: commit them one by one.
          for (const w of batch) {
            try {
              w.resolve((await this.db.transaction((q) => this.commitBatch(q, [w])))[0]);
            } catch (e) {
              w.reject(new StoreError(`store write failed: ${e instanceof Error ? e.message : String(e)}`));
            }
          }
        }
        this.batches++;
        this.writes += batch.length;
        this.maxBatchMs = Math.max(this.maxBatchMs, performance.now() - started);
        events = true;
        this.wake();
      }
    } finally {
      this.draining.delete(lane);
    }
    if (events && this.db.notify) await this.db.notify().catch(() => {});
  }

  /**
   * One transaction for a batch of writes: a handful of statements whatever its size (one multi-row statement per
   * kind of write, `unnest` of parameter arrays), and links between alarms and uploads made in it. Returns each
   * write's result, in order.
   */
  private async commitBatch(q: SqlRun, batch: readonly QueuedWrite[]): Promise<unknown[]> {
    const results: unknown[] = new Array(batch.length).fill(undefined);
    const of = <K extends Op['k']>(k: K): { i: number; op: Extract<Op, { k: K }> }[] => {
      const out: { i: number; op: Extract<Op, { k: K }> }[] = [];
      for (let i = 0; i < batch.length; i++)
        if (batch[i]!.op.k === k) out.push({ i, op: batch[i]!.op as Extract<Op, { k: K }> });
      return out;
    };
    // Statements of their own (heartbeat, lastSeen, retention), in queue order.
    for (const { i, op } of of('run')) results[i] = await op.run(q);
    // The statements below are sent in two pipelined groups (each group's statements posted at once, run in
    // order on the one connection/worker): a round trip per group, not per statement.
    const groupA: Promise<Row[]>[] = [];
    // Bodies replaced (the last one of an id wins).
    const updates = new Map<number, Record<string, unknown>>();
    for (const { op } of of('update')) updates.set(op.id, op.body);
    if (updates.size > 0) {
      groupA.push(
        q(
          'update events e set body = u.body::jsonb from unnest($1::bigint[], $2::text[]) as u(id, body) where e.id = u.id',
          [[...updates.keys()], [...updates.values()].map(toJson)],
        ),
      );
    }
    // Uploads, before the read below so an alarm of this batch sees them.
    const media = of('media');
    const ms = media.map((x) => x.op.m);
    const mediaInsert =
      ms.length === 0
        ? undefined
        : q(
            `insert into media (node_id, device_id, kind, media_id, path, size, channel, received_at)
             select $1, d, k, m, p, s, c, r
             from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::integer[], $8::bigint[])
               with ordinality as u(d, k, m, p, s, c, r, o)
             order by o returning id`,
            [
              this.nodeId,
              ms.map((m) => m.deviceId),
              ms.map((m) => m.kind),
              ms.map((m) => m.mediaId),
              ms.map((m) => m.path),
              ms.map((m) => m.size),
              ms.map((m) => m.channel ?? null),
              ms.map((m) => m.receivedAt),
            ],
          );
    if (mediaInsert) groupA.push(mediaInsert);
    // Alarms (once per dedupe key) and other events.
    const alarms = of('alarm');
    const first = new Map<string, { i: number; op: Extract<Op, { k: 'alarm' }> }>();
    for (const x of alarms) if (!first.has(x.op.dedupe)) first.set(x.op.dedupe, x);
    const unique = [...first.values()];
    const bodies = unique.map((x) => x.op.e.body);
    // One read for both directions of linking: the uploads the new alarms name (this batch's included, inserted
    // just before), and the alarms committed before that name this batch's uploads.
    const wanted = unique.flatMap((x) => wantedMedia(x.op.e.body).map((w) => w.id));
    let linkRead: Promise<Row[]> | undefined;
    if (wanted.length > 0 || ms.length > 0) {
      const ats = unique.map((x) => x.op.e.at);
      const received = ms.map((m) => m.receivedAt);
      linkRead = q(
        `select 'm' as src, id, node_id, device_id, kind, media_id, path, size, channel, received_at,
                null::bigint as at, null::jsonb as body
           from media where $1::boolean and device_id = any($2::text[]) and media_id = any($3::text[])
             and received_at between $4 and $5
         union all
         select 'a', id, null, device_id, null, null, null, null, null, null, at, body
           from events where $6::boolean and type = 'alarm' and device_id = any($7::text[]) and at between $8 and $9
             and (body->'alarm'->'picIds' ?| $10::text[] or body->'alarm'->>'videoId' = any($10::text[]))`,
        [
          wanted.length > 0,
          [...new Set(unique.map((x) => x.op.e.deviceId ?? ''))],
          [...new Set(wanted)],
          wanted.length > 0 ? Math.min(...ats) - LINK_WINDOW_MS : 0,
          wanted.length > 0 ? Math.max(...ats) + LINK_WINDOW_MS : 0,
          ms.length > 0,
          [...new Set(ms.map((m) => m.deviceId))],
          ms.length > 0 ? Math.min(...received) - LINK_WINDOW_MS : 0,
          ms.length > 0 ? Math.max(...received) + LINK_WINDOW_MS : 0,
          [...new Set(ms.map((m) => m.mediaId))],
        ],
      );
      groupA.push(linkRead);
    }
    await Promise.all(groupA);
    const newMedia: MediaRecord[] = [];
    if (mediaInsert) {
      // Ids come from one sequence in insertion order: ascending ids are the rows in order.
      const ids = (await mediaInsert).map((r) => num(r.id)).sort((x, y) => x - y);
      if (ids.length !== ms.length)
        throw new StoreError(`media insert returned ${ids.length} ids for ${ms.length} rows`);
      media.forEach((x, n) => {
        results[x.i] = ids[n];
        newMedia.push({ ...x.op.m, id: ids[n]!, nodeId: this.nodeId });
      });
    }
    const groupB: Promise<Row[]>[] = [];
    if (linkRead) {
      const rows = await linkRead;
      // The newest upload of a PicID first: it is the one linked (a re-upload after a lost answer).
      const found = rows
        .filter((r) => r.src === 'm')
        .map(mediaOf)
        .sort((x, y) => y.id - x.id);
      for (const m of found) {
        unique.forEach((x, n) => {
          const linked = linkInto(bodies[n]!, x.op.e.at, x.op.e.deviceId, m);
          if (linked) bodies[n] = linked;
        });
      }
      // Alarms committed before this batch that name one of its uploads: linked in this same transaction.
      const changed = new Map<number, Record<string, unknown>>();
      for (const r of rows) {
        if (r.src !== 'a') continue;
        const id = num(r.id);
        const before = changed.get(id) ?? json(r.body);
        let body = before;
        for (const m of newMedia) body = linkInto(body, num(r.at), String(r.device_id), m) ?? body;
        if (body !== before) changed.set(id, body);
      }
      if (changed.size > 0) {
        groupB.push(
          q(
            'update events e set body = u.body::jsonb from unnest($1::bigint[], $2::text[]) as u(id, body) where e.id = u.id',
            [[...changed.keys()], [...changed.values()].map(toJson)],
          ),
        );
      }
    }
    const events = of('event');
    const es = [...unique.map((x) => x.op.e), ...events.map((x) => x.op.e)];
    // One insert: the alarms (a resend already stored is skipped by its dedupe key), then the other events.
    const eventInsert =
      es.length === 0
        ? undefined
        : q(
            `insert into events (at, type, device_id, dedupe, body)
             select a, t, d, k, b::jsonb from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
               with ordinality as u(a, t, d, k, b, o)
             order by o on conflict (dedupe) do nothing returning id, dedupe`,
            [
              es.map((e) => e.at),
              es.map((e) => e.type),
              es.map((e) => e.deviceId ?? null),
              [...unique.map((x) => x.op.dedupe), ...events.map(() => null)],
              [...bodies.map(toJson), ...events.map((x) => toJson(x.op.e.body))],
            ],
          );
    if (eventInsert) groupB.push(eventInsert);
    // Sessions (the last of a device wins) and command history.
    const sessions = new Map<string, { s: DeviceSession; online: boolean }>();
    for (const { op } of of('session')) sessions.set(op.s.deviceId, op);
    if (sessions.size > 0) {
      const ss = [...sessions.values()];
      groupB.push(
        q(
          `insert into sessions (device_id, node_id, online, registered_at, last_seen, session)
           select d, $1, o, r, l, s::jsonb from unnest($2::text[], $3::boolean[], $4::bigint[], $5::bigint[], $6::text[])
             as u(d, o, r, l, s)
           on conflict (device_id) do update set node_id = excluded.node_id, online = excluded.online,
             registered_at = excluded.registered_at, last_seen = excluded.last_seen, session = excluded.session
           where excluded.online or sessions.node_id = excluded.node_id`,
          [
            this.nodeId,
            ss.map((x) => x.s.deviceId),
            ss.map((x) => x.online),
            ss.map((x) => x.s.registeredAt),
            ss.map((x) => x.s.lastSeen),
            ss.map((x) => toJson(x.s)),
          ],
        ),
      );
    }
    const commands = of('command').map((x) => x.op.c);
    if (commands.length > 0) {
      groupB.push(
        q(
          `insert into commands (at, node_id, device_id, command, status, duration_ms, error)
           select a, $1, d, c, s, m, e from unnest($2::bigint[], $3::text[], $4::text[], $5::integer[], $6::integer[], $7::text[])
             as u(a, d, c, s, m, e)`,
          [
            this.nodeId,
            commands.map((c) => c.at),
            commands.map((c) => c.deviceId),
            commands.map((c) => c.command),
            commands.map((c) => c.status ?? null),
            commands.map((c) => Math.round(c.durationMs)),
            commands.map((c) => c.error ?? null),
          ],
        ),
      );
    }
    await Promise.all(groupB);
    if (eventInsert) {
      const alarmIds = new Map<string, number>();
      const eventIds: number[] = [];
      for (const r of await eventInsert) {
        if (r.dedupe === null || r.dedupe === undefined) eventIds.push(num(r.id));
        else alarmIds.set(String(r.dedupe), num(r.id));
      }
      // Ids come from one sequence in insertion order: ascending ids are the events in order.
      eventIds.sort((x, y) => x - y);
      if (eventIds.length !== events.length) {
        throw new StoreError(`event insert returned ${eventIds.length} ids for ${events.length} rows`);
      }
      events.forEach((x, n) => {
        results[x.i] = eventIds[n];
      });
      const old = unique.map((x) => x.op.dedupe).filter((k) => !alarmIds.has(k));
      const earlier = new Map<string, number>();
      if (old.length > 0) {
        for (const r of await q('select id, dedupe from events where dedupe = any($1::text[])', [old])) {
          earlier.set(String(r.dedupe), num(r.id));
        }
      }
      for (const x of alarms) {
        const fresh = alarmIds.get(x.op.dedupe);
        results[x.i] =
          fresh !== undefined && first.get(x.op.dedupe) === x
            ? { id: fresh, duplicate: false }
            : { id: fresh ?? earlier.get(x.op.dedupe) ?? 0, duplicate: true };
      }
    }
    return results;
  }

  private wake(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // a listener's failure is its own
      }
    }
  }

  appendEvent(e: NewEvent): Promise<number> {
    return this.write({ k: 'event', e });
  }

  appendAlarm(e: NewEvent, dedupeKey: string): Promise<{ id: number; duplicate: boolean }> {
    return this.write({ k: 'alarm', e, dedupe: dedupeKey }, true);
  }

  updateEvent(id: number, body: Record<string, unknown>): Promise<void> {
    return this.write({ k: 'update', id, body });
  }

  addMedia(m: Omit<MediaRecord, 'id' | 'nodeId'>): Promise<number> {
    return this.write({ k: 'media', m }, true);
  }

  putSession(s: DeviceSession, online: boolean): Promise<void> {
    return this.write({ k: 'session', s: { ...s }, online });
  }

  async touchSessions(seen: { deviceId: string; lastSeen: number }[]): Promise<void> {
    const chunks: Promise<unknown>[] = [];
    for (let i = 0; i < seen.length; i += TOUCH_CHUNK) {
      const part = seen.slice(i, i + TOUCH_CHUNK);
      chunks.push(
        this.write({
          k: 'run',
          run: (q) =>
            q(
              `update sessions s set last_seen = t.seen from (select unnest($1::text[]) as id, unnest($2::bigint[]) as seen) t
               where s.device_id = t.id and s.node_id = $3`,
              [part.map((x) => x.deviceId), part.map((x) => x.lastSeen), this.nodeId],
            ),
        }),
      );
    }
    await Promise.all(chunks);
  }

  addCommand(c: CommandRecord): Promise<void> {
    return this.write({ k: 'command', c });
  }

  heartbeat(apiUrl: string | undefined): Promise<void> {
    const now = Date.now();
    return this.write({
      k: 'run',
      run: (q) =>
        q(
          `insert into nodes (node_id, api_url, started_at, seen_at) values ($1, $2, $3, $4)
           on conflict (node_id) do update set api_url = excluded.api_url, seen_at = excluded.seen_at`,
          [this.nodeId, apiUrl ?? null, this.startedAt, now],
        ),
    });
  }

  // ---- reads -----------------------------------------------------------------------------------------------

  async latestEventId(): Promise<number> {
    return num((await this.db.query('select coalesce(max(id), 0) as id from events'))[0]?.id ?? 0);
  }

  async queryEvents(query: EventQuery): Promise<{ events: StoredEvent[]; next: number | null }> {
    const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
    const where: string[] = ['id > $1'];
    const params: unknown[] = [query.after ?? 0];
    const add = (clause: string, v: unknown): void => {
      params.push(v);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (query.type !== undefined) add('type = ?', query.type);
    if (query.deviceId !== undefined) add('device_id = ?', query.deviceId);
    if (query.from !== undefined) add('at >= ?', query.from);
    if (query.to !== undefined) add('at <= ?', query.to);
    params.push(limit);
    const rows = await this.db.query(
      `select id, at, type, device_id, body from events where ${where.join(' and ')} order by id limit $${params.length}`,
      params,
    );
    const events = rows.map(
      (r): StoredEvent => ({
        id: num(r.id),
        at: num(r.at),
        type: r.type as StoredEvent['type'],
        deviceId: (r.device_id as string | null) ?? undefined,
        body: json(r.body),
      }),
    );
    return { events, next: events.length === limit ? events[events.length - 1]!.id : null };
  }

  async media(id: number): Promise<MediaRecord | undefined> {
    const r = (await this.db.query('select * from media where id = $1', [id]))[0];
    return r ? mediaOf(r) : undefined;
  }

  private sessionOf(r: Row, now: number): SessionRecord {
    const seen = r.seen_at === null || r.seen_at === undefined ? 0 : num(r.seen_at);
    const session = json(r.session) as unknown as DeviceSession;
    session.lastSeen = num(r.last_seen);
    const nodeId = String(r.node_id);
    const alive = nodeId === this.nodeId || now - seen < NODE_DEAD_AFTER_MS;
    return { session, nodeId, online: r.online === true && alive };
  }

  async sessions(): Promise<SessionRecord[]> {
    const now = Date.now();
    const rows = await this.db.query(
      'select s.*, n.seen_at from sessions s left join nodes n on n.node_id = s.node_id order by s.device_id',
    );
    return rows.map((r) => this.sessionOf(r, now));
  }

  async session(deviceId: string): Promise<SessionRecord | undefined> {
    const r = (
      await this.db.query(
        'select s.*, n.seen_at from sessions s left join nodes n on n.node_id = s.node_id where s.device_id = $1',
        [deviceId],
      )
    )[0];
    return r ? this.sessionOf(r, Date.now()) : undefined;
  }

  async commands(deviceId: string, limit = 100): Promise<CommandRecord[]> {
    const rows = await this.db.query('select * from commands where device_id = $1 order by at desc, id desc limit $2', [
      deviceId,
      Math.min(Math.max(limit, 1), 1000),
    ]);
    return rows.map((r) => ({
      at: num(r.at),
      deviceId: String(r.device_id),
      command: String(r.command),
      status: r.status === null ? undefined : num(r.status),
      durationMs: num(r.duration_ms),
      error: (r.error as string | null) ?? undefined,
    }));
  }

  async nodes(): Promise<NodeRecord[]> {
    const now = Date.now();
    const rows = await this.db.query('select * from nodes order by node_id');
    return rows.map((r) => ({
      nodeId: String(r.node_id),
      apiUrl: (r.api_url as string | null) ?? undefined,
      startedAt: num(r.started_at),
      seenAt: num(r.seen_at),
      alive: r.node_id === this.nodeId || now - num(r.seen_at) < NODE_DEAD_AFTER_MS,
    }));
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- retention -------------------------------------------------------------------------------------------

  enforceRetention(policy: RetentionPolicy, now = Date.now()): Promise<RetentionResult> {
    return this.write({
      k: 'run',
      run: async (q) => {
        const out: RetentionResult = { events: 0, commands: 0, media: 0, paths: [] };
        const takePaths = (rows: Row[]): void => {
          for (const r of rows) {
            if (r.node_id === this.nodeId) out.paths.push({ path: String(r.path), size: num(r.size) });
          }
          out.media += rows.length;
        };
        if (policy.days !== undefined) {
          const cut = now - policy.days * 86_400_000;
          out.events += await count(q, 'delete from events where at < $1', [cut]);
          out.commands += await count(q, 'delete from commands where at < $1', [cut]);
          takePaths(await q('delete from media where received_at < $1 returning node_id, path, size', [cut]));
        }
        if (policy.maxMediaBytes !== undefined) {
          // This node's files, newest first: everything past the budget goes.
          takePaths(
            await q(
              `delete from media where id in (
               select id from (select id, sum(size) over (order by received_at desc, id desc) as running
                               from media where node_id = $1) t where running > $2)
             returning node_id, path, size`,
              [this.nodeId, policy.maxMediaBytes],
            ),
          );
        }
        if (policy.maxEvents !== undefined) {
          const edge = await q('select id from events order by id desc offset $1 limit 1', [policy.maxEvents]);
          if (edge[0]) out.events += await count(q, 'delete from events where id <= $1', [edge[0].id]);
        }
        return out;
      },
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Commit what is queued, then refuse more.
    const until = Date.now() + this.closeTimeoutMs;
    while ((this.draining.size > 0 || this.queue.length + this.urgent.length > 0) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 5));
    }
    for (const w of [...this.urgent.splice(0), ...this.queue.splice(0)])
      w.reject(new StoreError('the store closed before this write committed'));
    this.closed = true;
    this.listeners.clear();
    await this.db.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
