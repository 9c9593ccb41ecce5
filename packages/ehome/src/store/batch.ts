import type { DeviceSession } from '../platform/registry.js';
import { StoreError } from './errors.js';
import { LINK_WINDOW_MS, linkInto, wantedMedia } from './links.js';
import type { CommandRecord, MediaRecord, NewEvent } from './types.js';

/**
 * The group commit's write path, shared by every SQL store: the same function runs on the platform's thread
 * (PostgreSQL, whose statements go over the network) and inside the embedded store's worker thread (PGlite), where
 * a whole batch is one message in and one message out. Pure apart from `q`: it imports no `node:` module.
 */

export type Row = Record<string, unknown>;

/** One way to run a parameterized statement (`$1`, `$2`, ...): PGlite and `pg` share this shape. */
export type SqlRun = (sql: string, params?: readonly unknown[]) => Promise<Row[]>;

/**
 * A write as queued: what it is, so a group commit can turn many of a kind into one multi-row statement. Every
 * kind but `run` is plain data (it can be posted to a worker).
 * @internal
 */
export type WriteOp =
  | { k: 'event'; e: NewEvent }
  | { k: 'alarm'; e: NewEvent; dedupe: string }
  | { k: 'update'; id: number; body: Record<string, unknown> }
  | { k: 'media'; m: Omit<MediaRecord, 'id' | 'nodeId'> }
  | { k: 'session'; s: DeviceSession; online: boolean }
  | { k: 'command'; c: CommandRecord }
  | { k: 'run'; run: (q: SqlRun) => Promise<unknown> };

/** The writes of a batch that can be posted to a worker: everything but `run`. @internal */
export type DataWriteOp = Exclude<WriteOp, { k: 'run' }>;

/** A device's advisory lock key (FNV-1a, 32 bits): the same in every process, collisions only serialize more. */
function lockKey(deviceId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < deviceId.length; i++) {
    h ^= deviceId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** JSON for a jsonb column: PostgreSQL refuses U+0000 in text, so a NUL from the wire becomes U+FFFD. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' ? x.replaceAll('\u0000', '\ufffd') : x));
}

export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
export const json = (v: unknown): Record<string, unknown> =>
  (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;

export function mediaOf(r: Row): MediaRecord {
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
 * One transaction for a batch of writes: a handful of statements whatever its size (one multi-row statement per
 * kind of write, `unnest` of parameter arrays), and links between alarms and uploads made in it. Returns each
 * write's result, in order.
 */
export async function commitOps(
  q: SqlRun,
  ops: readonly WriteOp[],
  nodeId: string,
  lockDevices = false,
): Promise<unknown[]> {
  const results: unknown[] = new Array(ops.length).fill(undefined);
  const of = <K extends WriteOp['k']>(k: K): { i: number; op: Extract<WriteOp, { k: K }> }[] => {
    const out: { i: number; op: Extract<WriteOp, { k: K }> }[] = [];
    for (let i = 0; i < ops.length; i++) if (ops[i]!.k === k) out.push({ i, op: ops[i] as Extract<WriteOp, { k: K }> });
    return out;
  };
  // Statements of their own (heartbeat, lastSeen, retention), in queue order.
  for (const { i, op } of of('run')) results[i] = await op.run(q);
  if (lockDevices) {
    // One transaction-scoped advisory lock per device whose alarms or uploads this batch writes, taken in one
    // order by every transaction (so two never wait for each other), before the read that links them: a
    // transaction committing an alarm and another committing its upload at the same time are serialized, and the
    // second one's read (READ COMMITTED: a new snapshot per statement) sees the first one's rows.
    const devices = new Set<string>();
    for (const op of ops) {
      if (op.k === 'alarm') devices.add(op.e.deviceId ?? '');
      else if (op.k === 'media') devices.add(op.m.deviceId);
    }
    if (devices.size > 0) {
      // Keys as literals (numbers only): a statement without parameters can travel with the BEGIN before it.
      const keys = [...new Set([...devices].map(lockKey))].sort((x, y) => x - y);
      await q(`select count(pg_advisory_xact_lock(k)) from unnest('{${keys.join(',')}}'::bigint[]) as u(k)`);
    }
  }
  // The statements below are issued in two groups, each group's statements at once without waiting between them
  // (they run in order on the one connection or in the worker); the second group needs the first one's rows.
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
  // Uploads: inserted by the same statement as the read below (a CTE), so a batch with uploads costs one round trip
  // for both; the read does not see the rows the CTE inserts, so they come back as `i` rows and are linked from
  // there.
  const media = of('media');
  const ms = media.map((x) => x.op.m);
  const mediaInsert = `insert into media (node_id, device_id, kind, media_id, path, size, channel, received_at)
     select $1, d, k, m, p, s, c, r
     from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::integer[], $8::bigint[])
       with ordinality as u(d, k, m, p, s, c, r, o)
     order by o returning id`;
  const mediaParams = [
    nodeId,
    ms.map((m) => m.deviceId),
    ms.map((m) => m.kind),
    ms.map((m) => m.mediaId),
    ms.map((m) => m.path),
    ms.map((m) => m.size),
    ms.map((m) => m.channel ?? null),
    ms.map((m) => m.receivedAt),
  ];
  // Alarms (once per dedupe key) and other events.
  const alarms = of('alarm');
  const first = new Map<string, { i: number; op: Extract<WriteOp, { k: 'alarm' }> }>();
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
    // Parameters from $o+1: after the media insert's 8 when it is part of the statement.
    const o = ms.length > 0 ? 8 : 0;
    const p = (n: number): string => `$${o + n}`;
    // `(type = 'alarm') is true`, not `type = 'alarm'`: the plain form lets the planner pick the (type, at) index
    // while a growing table's statistics are stale (always, in PGlite, which has no autovacuum), and that plan reads
    // every alarm of the link window (20 minutes: 240,000 at 200 alarms/s) per upload; this form leaves only the
    // (device_id, at) index, a few rows per device. Measured on PostgreSQL with 12,000 alarms: 4 ms against 0.03 ms.
    const read = `select 'm' as src, id, node_id, device_id, kind, media_id, path, size, channel, received_at,
              null::bigint as at, null::jsonb as body
         from media where ${p(1)}::boolean and device_id = any(${p(2)}::text[]) and media_id = any(${p(3)}::text[])
           and received_at between ${p(4)} and ${p(5)}
       union all
       select 'a', id, null, device_id, null, null, null, null, null, null, at, body
         from events where ${p(6)}::boolean and (type = 'alarm') is true and device_id = any(${p(7)}::text[])
           and at between ${p(8)} and ${p(9)}
           and (body->'alarm'->'picIds' ?| ${p(10)}::text[] or body->'alarm'->>'videoId' = any(${p(10)}::text[]))`;
    const readParams = [
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
    ];
    linkRead =
      ms.length > 0
        ? q(
            `with ins as (${mediaInsert})
             ${read}
             union all
             select 'i', id, null, null, null, null, null, null, null, null, null, null from ins`,
            [...mediaParams, ...readParams],
          )
        : q(read, readParams);
    groupA.push(linkRead);
  }
  await Promise.all(groupA);
  const newMedia: MediaRecord[] = [];
  if (ms.length > 0) {
    // Ids come from one sequence in insertion order: ascending ids are the rows in order.
    const ids = (await linkRead!)
      .filter((r) => r.src === 'i')
      .map((r) => num(r.id))
      .sort((x, y) => x - y);
    if (ids.length !== ms.length) throw new StoreError(`media insert returned ${ids.length} ids for ${ms.length} rows`);
    media.forEach((x, n) => {
      results[x.i] = ids[n];
      newMedia.push({ ...x.op.m, id: ids[n]!, nodeId: nodeId });
    });
  }
  const groupB: Promise<Row[]>[] = [];
  if (linkRead) {
    const rows = await linkRead;
    // The newest upload of a PicID first: it is the one linked (a re-upload after a lost answer).
    const found = [...rows.filter((r) => r.src === 'm').map(mediaOf), ...newMedia].sort((x, y) => y.id - x.id);
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
          nodeId,
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
          nodeId,
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
