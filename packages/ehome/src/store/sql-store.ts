import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { DeviceSession } from '../platform/registry.js';
import { commitOps, type DataWriteOp, json, mediaOf, num, type Row, type SqlRun, type WriteOp } from './batch.js';
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

export type { SqlRun } from './batch.js';

/** What {@link SqlStore} needs of a database: queries, transactions, and (PostgreSQL) notifications. */
export interface SqlDriver {
  query: SqlRun;
  transaction<T>(body: (run: SqlRun) => Promise<T>): Promise<T>;
  /** Transactions may run at once (a pool of connections): the store then commits urgent writes on their own. */
  concurrentTransactions?: boolean;
  /**
   * With `concurrentTransactions`: how many transactions of writes a device waits for (alarms, uploads) may run at
   * once (default 1). One that stalls then holds up only its own writes. Such transactions take a lock per device
   * they write for (a PostgreSQL advisory lock) before they link alarms and uploads, so an alarm and its upload
   * committed at the same time, here or by another platform process, still see each other.
   */
  urgentConcurrency?: number;
  /**
   * Commits a batch of plain-data writes in one transaction where the database runs (the embedded store's worker
   * thread): one message each way instead of one per statement, so a busy platform thread never stretches a
   * transaction. Without it the store runs the same writes through `transaction`.
   * @internal
   */
  commitBatch?(ops: readonly DataWriteOp[], nodeId: string): Promise<unknown[]>;
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

interface QueuedWrite {
  op: WriteOp;
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
  /** Drains running per lane (`urgent` may run several, see `SqlDriver.urgentConcurrency`). */
  private readonly draining = new Map<Lane, number>();
  private closed = false;
  private readonly listeners = new Set<() => void>();
  private readonly maxQueued: number;
  private readonly maxBatch: number;
  private readonly maxBehind: number;
  private readonly startedAt = Date.now();
  private readonly closeTimeoutMs: number;
  /** Rows in the tables at the last ANALYZE (embedded store), rows written since, and one queued now. */
  private analyzedRows = 0;
  private writtenSinceAnalyze = 0;
  private analyzing = false;

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
      if (this.kind === 'embedded') {
        const rows = await q(
          `select coalesce(sum(greatest(reltuples, 0)), 0) as n from pg_class
           where relname in ('events', 'media', 'sessions', 'commands')`,
        );
        this.analyzedRows = num(rows[0]?.n);
      }
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
  private write<T>(op: WriteOp, urgent = false): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('the store is closed'));
    if (this.queue.length + this.urgent.length >= this.maxQueued) {
      return Promise.reject(
        new StoreError(`the store is behind: ${this.queue.length + this.urgent.length} writes wait for a commit`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      (urgent ? this.urgent : this.queue).push({ op, resolve: resolve as (v: unknown) => void, reject });
      const lane: Lane = this.db.concurrentTransactions !== true ? 'both' : urgent ? 'urgent' : 'behind';
      const running = this.draining.get(lane) ?? 0;
      const most = lane === 'urgent' ? Math.max(1, this.db.urgentConcurrency ?? 1) : 1;
      if (running < most) void this.drain(lane);
    });
  }

  /**
   * Commits queued writes until none is left. One lane (`both`) on PGlite, whose transactions run one at a time
   * anyway; on PostgreSQL the writes a device waits for have their own lane (a connection of the pool), so a large
   * written-behind transaction never delays an acknowledgement.
   */
  private async drain(lane: Lane): Promise<void> {
    this.draining.set(lane, (this.draining.get(lane) ?? 0) + 1);
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
        // lastSeen, retention): the transaction stays short, so an alarm arriving meanwhile waits little. Where the
        // database commits plain-data batches itself (`commitBatch`), a statement of its own is never mixed in: it
        // waits until it heads the queue and then commits alone, so the writes before it keep their order.
        const room = lane === 'urgent' ? 0 : Math.min(this.maxBatch - batch.length, this.maxBehind, this.queue.length);
        let take = 0;
        if (this.db.commitBatch) {
          while (take < room && this.queue[take]!.op.k !== 'run') take++;
          if (take === 0 && batch.length === 0 && room > 0) take = 1;
        } else {
          for (let runs = 0; take < room; take++) if (this.queue[take]!.op.k === 'run' && runs++ > 0) break;
        }
        for (const w of this.queue.splice(0, take)) batch.push(w);
        const started = performance.now();
        try {
          const results = await this.commit(batch);
          for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]);
        } catch {
          // One bad write must not fail the others: commit them one by one.
          for (const w of batch) {
            try {
              w.resolve((await this.commit([w]))[0]);
            } catch (e) {
              w.reject(new StoreError(`store write failed: ${e instanceof Error ? e.message : String(e)}`));
            }
          }
        }
        this.batches++;
        this.writes += batch.length;
        this.analyzeWhenDue(batch.length);
        this.maxBatchMs = Math.max(this.maxBatchMs, performance.now() - started);
        events = true;
        this.wake();
      }
    } finally {
      const left = (this.draining.get(lane) ?? 1) - 1;
      if (left > 0) this.draining.set(lane, left);
      else this.draining.delete(lane);
    }
    if (events && this.db.notify) await this.db.notify().catch(() => {});
  }

  /**
   * The embedded store's statistics: PGlite has no autovacuum, so nothing would ever ANALYZE its tables, and the
   * planner would keep planning the events and links queries for tables as they were when last analyzed (empty, for
   * a new store). Once the rows written since the last ANALYZE reach the rows the tables had then (at least 1,000:
   * the tables doubled), an ANALYZE of the columns the queries filter on (not the JSON bodies, whose statistics cost
   * most and serve no plan) is queued behind the other writes, a statement of its own: a handful in a new store's
   * first hour, then rarely. PostgreSQL's own autovacuum does this there.
   */
  private analyzeWhenDue(written: number): void {
    if (this.kind !== 'embedded') return;
    this.writtenSinceAnalyze += written;
    if (this.analyzing || this.writtenSinceAnalyze < Math.max(1000, this.analyzedRows)) return;
    this.analyzing = true;
    this.analyzedRows += this.writtenSinceAnalyze;
    this.writtenSinceAnalyze = 0;
    const columns =
      'analyze events (device_id, type, at, dedupe), media (device_id, media_id, node_id, received_at), ' +
      'sessions (device_id, node_id), commands (device_id, at)';
    this.write<unknown>({ k: 'run', run: (q) => q(columns) })
      .catch(() => {})
      .finally(() => {
        this.analyzing = false;
      });
  }

  /** One transaction for `batch`: posted whole to the database's thread when it can take it, else run here. */
  private commit(batch: readonly QueuedWrite[]): Promise<unknown[]> {
    const ops = batch.map((w) => w.op);
    const plain = ops.filter((op): op is DataWriteOp => op.k !== 'run');
    if (this.db.commitBatch && plain.length === ops.length) return this.db.commitBatch(plain, this.nodeId);
    // Where transactions run at once (PostgreSQL: this process's urgent lanes, other processes), the devices an
    // alarm or upload links are locked first, so two transactions never link past each other.
    const lock = this.db.concurrentTransactions === true;
    return this.db.transaction((q) => commitOps(q, ops, this.nodeId, lock));
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
              // `(s.node_id = $3) is true`: with stale statistics the plain form let the planner scan all of this
              // node's sessions once per device of the chunk (10,000 x 500 rows); this form leaves the primary key
              `update sessions s set last_seen = t.seen from unnest($1::text[], $2::bigint[]) as t(id, seen)
               where s.device_id = t.id and (s.node_id = $3) is true`,
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
