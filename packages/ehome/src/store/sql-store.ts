import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { DeviceSession } from '../platform/registry.js';
import { StoreError } from './errors.js';
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
  /** Node id (default: host, pid and a random part). */
  nodeId?: string;
  /** How long `close()` waits for queued writes to commit before failing the rest. Default 30,000 ms. */
  closeTimeoutMs?: number;
}

interface QueuedWrite {
  run: (q: SqlRun) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

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

/**
 * The store over SQL: one schema and one set of queries for the embedded store (PGlite) and PostgreSQL. Writes
 * are group-committed: every write waiting when a transaction starts goes into it (at most `maxBatch`), and each
 * write's promise resolves after that COMMIT, so many alarms per second cost few commits and an acknowledgement
 * still follows its own commit.
 */
export class SqlStore implements EhomeStore {
  readonly nodeId: string;
  schemaVersion = 0;
  private readonly queue: QueuedWrite[] = [];
  private draining = false;
  private closed = false;
  private readonly listeners = new Set<() => void>();
  private readonly maxQueued: number;
  private readonly maxBatch: number;
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

  private write<T>(run: (q: SqlRun) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('the store is closed'));
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(new StoreError(`the store is behind: ${this.queue.length} writes wait for a commit`));
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    let events = false;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        const results: unknown[] = [];
        try {
          await this.db.transaction(async (q) => {
            results.length = 0;
            for (const w of batch) results.push(await w.run(q));
          });
          for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]);
        } catch {
          // One bad write must not fail the others: commit them one by one.
          for (const w of batch) {
            try {
              w.resolve(await this.db.transaction((q) => w.run(q)));
            } catch (e) {
              w.reject(new StoreError(`store write failed: ${e instanceof Error ? e.message : String(e)}`));
            }
          }
        }
        events = true;
        this.wake();
      }
    } finally {
      this.draining = false;
    }
    if (events && this.db.notify) await this.db.notify().catch(() => {});
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
    return this.write(async (q) => {
      const r = await q('insert into events (at, type, device_id, body) values ($1, $2, $3, $4::jsonb) returning id', [
        e.at,
        e.type,
        e.deviceId ?? null,
        toJson(e.body),
      ]);
      return num(r[0]?.id);
    });
  }

  appendAlarm(e: NewEvent, dedupeKey: string): Promise<{ id: number; duplicate: boolean }> {
    return this.write(async (q) => {
      const r = await q(
        'insert into events (at, type, device_id, dedupe, body) values ($1, $2, $3, $4, $5::jsonb) on conflict (dedupe) do nothing returning id',
        [e.at, e.type, e.deviceId ?? null, dedupeKey, toJson(e.body)],
      );
      if (r.length > 0) return { id: num(r[0]!.id), duplicate: false };
      const old = await q('select id from events where dedupe = $1', [dedupeKey]);
      return { id: num(old[0]?.id), duplicate: true };
    });
  }

  updateEvent(id: number, body: Record<string, unknown>): Promise<void> {
    return this.write(async (q) => {
      await q('update events set body = $2::jsonb where id = $1', [id, toJson(body)]);
    });
  }

  addMedia(m: Omit<MediaRecord, 'id' | 'nodeId'>): Promise<number> {
    return this.write(async (q) => {
      const r = await q(
        'insert into media (node_id, device_id, kind, media_id, path, size, channel, received_at) values ($1, $2, $3, $4, $5, $6, $7, $8) returning id',
        [this.nodeId, m.deviceId, m.kind, m.mediaId, m.path, m.size, m.channel ?? null, m.receivedAt],
      );
      return num(r[0]?.id);
    });
  }

  putSession(s: DeviceSession, online: boolean): Promise<void> {
    return this.write(async (q) => {
      await q(
        `insert into sessions (device_id, node_id, online, registered_at, last_seen, session) values ($1, $2, $3, $4, $5, $6::jsonb)
         on conflict (device_id) do update set node_id = excluded.node_id, online = excluded.online,
           registered_at = excluded.registered_at, last_seen = excluded.last_seen, session = excluded.session
         where excluded.online or sessions.node_id = excluded.node_id`,
        [s.deviceId, this.nodeId, online, s.registeredAt, s.lastSeen, toJson(s)],
      );
    });
  }

  touchSessions(seen: { deviceId: string; lastSeen: number }[]): Promise<void> {
    if (seen.length === 0) return Promise.resolve();
    return this.write(async (q) => {
      await q(
        `update sessions s set last_seen = t.seen from (select unnest($1::text[]) as id, unnest($2::bigint[]) as seen) t
         where s.device_id = t.id and s.node_id = $3`,
        [seen.map((x) => x.deviceId), seen.map((x) => x.lastSeen), this.nodeId],
      );
    });
  }

  addCommand(c: CommandRecord): Promise<void> {
    return this.write(async (q) => {
      await q(
        'insert into commands (at, node_id, device_id, command, status, duration_ms, error) values ($1, $2, $3, $4, $5, $6, $7)',
        [c.at, this.nodeId, c.deviceId, c.command, c.status ?? null, Math.round(c.durationMs), c.error ?? null],
      );
    });
  }

  heartbeat(apiUrl: string | undefined): Promise<void> {
    const now = Date.now();
    return this.write(async (q) => {
      await q(
        `insert into nodes (node_id, api_url, started_at, seen_at) values ($1, $2, $3, $4)
         on conflict (node_id) do update set api_url = excluded.api_url, seen_at = excluded.seen_at`,
        [this.nodeId, apiUrl ?? null, this.startedAt, now],
      );
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
    if (!r) return undefined;
    return {
      id: num(r.id),
      nodeId: String(r.node_id),
      deviceId: String(r.device_id),
      kind: r.kind === 'video' ? 'video' : 'picture',
      mediaId: String(r.media_id),
      path: String(r.path),
      size: num(r.size),
      channel: r.channel === null ? undefined : num(r.channel),
      receivedAt: num(r.received_at),
    };
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
    return this.write(async (q) => {
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
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Commit what is queued, then refuse more.
    const until = Date.now() + this.closeTimeoutMs;
    while ((this.draining || this.queue.length > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    for (const w of this.queue.splice(0)) w.reject(new StoreError('the store closed before this write committed'));
    this.closed = true;
    this.listeners.clear();
    await this.db.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
