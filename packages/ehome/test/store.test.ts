import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeInterop } from '../../../test-support/interop.js';
import { startPostgres, type TestPostgres } from '../../../test-support/postgres.js';
import {
  type DeviceSession,
  type EhomeStore,
  MemoryStore,
  MIGRATIONS,
  type NewEvent,
  openEmbeddedStore,
  openPostgresStore,
  type SqlDriver,
  SqlStore,
  StoreError,
} from '../src/index.js';
import { commitOps } from '../src/store/batch.js';
import { pgliteRun } from '../src/store/pglite-run.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cam-store-'));
  dirs.push(d);
  return d;
}

function session(deviceId: string, at: number): DeviceSession {
  return {
    deviceId,
    address: '127.0.0.1',
    port: 40000,
    firmwareVersion: 'V5',
    devType: 1,
    netUnitType: 'PU',
    localIp: '127.0.0.1',
    localPort: 40000,
    manufacture: 0,
    serialNumber: undefined,
    version: '4.0',
    encoding: 'UTF-8',
    registeredAt: at,
    lastSeen: at,
  };
}

const alarm = (deviceId: string, at: number, n: number): NewEvent => ({
  at,
  type: 'alarm',
  deviceId,
  body: { alarm: { alarmType: `T${n}` }, complete: false, text: 'nul\u0000inside' },
});

/** The same contract for every backend. */
function contract(open: () => Promise<EhomeStore>): void {
  let store: EhomeStore;
  beforeAll(async () => {
    store = await open();
  }, 60_000);
  afterAll(async () => {
    await store.close();
  });

  it('appends, filters by type, device and time, and pages with after/next', async () => {
    const t0 = 1_700_000_000_000;
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) ids.push(await store.appendEvent(alarm(i % 3 === 0 ? 'cA' : 'cB', t0 + i * 1000, i)));
    await store.appendEvent({ at: t0, type: 'gps', deviceId: 'cA', body: { latitude: 1 } });
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const page1 = await store.queryEvents({
      type: 'alarm',
      deviceId: 'cA',
      from: t0 + 3000,
      to: t0 + 21_000,
      limit: 3,
    });
    expect(page1.events.map((e) => (e.body.alarm as { alarmType: string }).alarmType)).toEqual(['T3', 'T6', 'T9']);
    expect(page1.next).toBe(page1.events[2]!.id);
    const page2 = await store.queryEvents({
      type: 'alarm',
      deviceId: 'cA',
      from: t0 + 3000,
      to: t0 + 21_000,
      limit: 3,
      after: page1.next!,
    });
    expect(page2.events.map((e) => (e.body.alarm as { alarmType: string }).alarmType)).toEqual(['T12', 'T15', 'T18']);
    const page3 = await store.queryEvents({
      type: 'alarm',
      deviceId: 'cA',
      from: t0 + 3000,
      to: t0 + 21_000,
      limit: 3,
      after: page2.next!,
    });
    expect(page3.events.map((e) => (e.body.alarm as { alarmType: string }).alarmType)).toEqual(['T21']);
    expect(page3.next).toBe(null);
    expect(page1.events[0]!.body.text).toBe(store.kind === 'memory' ? 'nul\u0000inside' : 'nul\ufffdinside');
    expect(await store.latestEventId()).toBeGreaterThanOrEqual(ids.at(-1)!);
  });

  it('stores an alarm once per dedupe key and updates its body', async () => {
    const a = await store.appendAlarm(alarm('dup', Date.now(), 1), '["dup",7,"2026-12-07 10:00:00"]');
    const b = await store.appendAlarm(alarm('dup', Date.now(), 1), '["dup",7,"2026-12-07 10:00:00"]');
    expect(a.duplicate).toBe(false);
    expect(b).toEqual({ id: a.id, duplicate: true });
    await store.updateEvent(a.id, { complete: true });
    const q = await store.queryEvents({ deviceId: 'dup' });
    expect(q.events).toHaveLength(1);
    expect(q.events[0]!.body).toEqual({ complete: true });
  });

  it('keeps sessions, media and command history', async () => {
    const now = Date.now();
    await store.putSession(session('s1', now - 5000), true);
    await store.touchSessions([{ deviceId: 's1', lastSeen: now }]);
    const s = await store.session('s1');
    expect(s).toMatchObject({ nodeId: store.nodeId, online: true });
    expect(s!.session.lastSeen).toBe(now);
    await store.putSession(session('s1', now), false);
    expect((await store.session('s1'))!.online).toBe(false);
    expect((await store.sessions()).map((x) => x.session.deviceId)).toContain('s1');
    const id = await store.addMedia({
      deviceId: 's1',
      kind: 'picture',
      mediaId: 'P1',
      path: '/x/P1.jpg',
      size: 51_200,
      channel: 1,
      receivedAt: now,
    });
    expect(await store.media(id)).toMatchObject({ id, nodeId: store.nodeId, mediaId: 'P1', size: 51_200, channel: 1 });
    expect(await store.media(id + 1000)).toBeUndefined();
    await store.addCommand({
      at: now,
      deviceId: 's1',
      command: 'PTZCONTROL',
      status: 200,
      durationMs: 12,
      error: undefined,
    });
    await store.addCommand({
      at: now + 1,
      deviceId: 's1',
      command: 'REBOOT',
      status: undefined,
      durationMs: 8000,
      error: 'TimeoutError: x',
    });
    expect((await store.commands('s1')).map((c) => c.command)).toEqual(['REBOOT', 'PTZCONTROL']);
    await store.heartbeat('http://127.0.0.1:1');
    expect((await store.nodes()).find((n) => n.nodeId === store.nodeId)).toMatchObject({
      apiUrl: 'http://127.0.0.1:1',
      alive: true,
    });
  });

  it('enforces retention by days, media bytes and event count, and names the files to delete', async () => {
    const now = Date.now();
    const old = now - 10 * 86_400_000;
    await store.appendEvent(alarm('ret', old, 1));
    await store.appendEvent(alarm('ret', now, 2));
    await store.addMedia({
      deviceId: 'ret',
      kind: 'picture',
      mediaId: 'old',
      path: '/x/old.jpg',
      size: 10,
      channel: 1,
      receivedAt: old,
    });
    for (let i = 0; i < 3; i++) {
      await store.addMedia({
        deviceId: 'ret',
        kind: 'picture',
        mediaId: `n${i}`,
        path: `/x/n${i}.jpg`,
        size: 100,
        channel: 1,
        receivedAt: now + i,
      });
    }
    const byDays = await store.enforceRetention({ days: 7 }, now);
    expect(byDays.events).toBeGreaterThanOrEqual(1);
    expect(byDays.paths.map((p) => p.path)).toContain('/x/old.jpg');
    expect((await store.queryEvents({ deviceId: 'ret' })).events).toHaveLength(1);
    const bySize = await store.enforceRetention({ maxMediaBytes: 250 }, now);
    // Newest first within the budget: n2 and n1 stay, n0 and the P1 of the other test go.
    expect(bySize.paths.map((p) => p.path)).toContain('/x/n0.jpg');
    expect(bySize.paths.map((p) => p.path)).not.toContain('/x/n2.jpg');
    for (let i = 0; i < 3; i++) await store.appendEvent(alarm('ret', now, 10 + i));
    const byCount = await store.enforceRetention({ maxEvents: 2 }, now);
    expect(byCount.events).toBeGreaterThan(0);
    const left = await store.queryEvents({ limit: 1000 });
    expect(left.events).toHaveLength(2);
  });

  it('wakes subscribers after a commit', async () => {
    let woken = 0;
    const off = store.subscribe(() => woken++);
    await store.appendEvent(alarm('wake', Date.now(), 1));
    off();
    expect(woken).toBeGreaterThan(0);
  });

  it('links an alarm and its uploads in the write that commits the second of them, whichever comes first', async () => {
    const t = Date.now();
    // Alarm first, then its two pictures: each upload's own write links it.
    const a = await store.appendAlarm(alarmNaming('lnA', t, ['P1', 'P2']), '["lnA",1]');
    const p1 = await store.addMedia(upload('lnA', 'P1', t + 100));
    let body = (await store.queryEvents({ deviceId: 'lnA', type: 'alarm' })).events[0]!.body;
    expect(body).toMatchObject({ missing: ['P2'], complete: false });
    expect(body.pictures).toEqual([{ kind: 'picture', id: 'P1', size: 1000, channel: 1, url: `/api/pictures/${p1}` }]);
    const p2 = await store.addMedia(upload('lnA', 'P2', t + 200));
    body = (await store.queryEvents({ deviceId: 'lnA', type: 'alarm' })).events[0]!.body;
    expect(body).toMatchObject({ missing: [], complete: true });
    expect((body.pictures as { url: string }[]).map((x) => x.url)).toEqual([
      `/api/pictures/${p1}`,
      `/api/pictures/${p2}`,
    ]);
    expect((await store.queryEvents({ deviceId: 'lnA', type: 'alarm' })).events[0]!.id).toBe(a.id);
    // Picture first: the alarm is stored already linked.
    const q1 = await store.addMedia(upload('lnB', 'Q1', t));
    await store.appendAlarm(alarmNaming('lnB', t + 50, ['Q1']), '["lnB",1]');
    body = (await store.queryEvents({ deviceId: 'lnB', type: 'alarm' })).events[0]!.body;
    expect(body).toMatchObject({ missing: [], complete: true, pictures: [{ id: 'Q1', url: `/api/pictures/${q1}` }] });
    // Never linked: another device's picture of the same PicID, or one far outside the link window.
    await store.addMedia(upload('lnOther', 'R1', t));
    await store.addMedia(upload('lnC', 'R1', t - 3_600_000));
    await store.appendAlarm(alarmNaming('lnC', t, ['R1']), '["lnC",1]');
    body = (await store.queryEvents({ deviceId: 'lnC', type: 'alarm' })).events[0]!.body;
    expect(body).toMatchObject({ pictures: [], missing: ['R1'], complete: false });
  });
}

/** An alarm's body as the platform stores it on arrival (its uploads still to come). */
function alarmNaming(deviceId: string, at: number, picIds: string[]): NewEvent {
  return {
    at,
    type: 'alarm',
    deviceId,
    body: { alarm: { deviceId, alarmType: 'MOTION', picIds }, pictures: [], missing: [...picIds], complete: false },
  };
}

function upload(deviceId: string, mediaId: string, receivedAt: number) {
  return {
    deviceId,
    kind: 'picture' as const,
    mediaId,
    path: `/x/${deviceId}_${mediaId}.jpg`,
    size: 1000,
    channel: 1,
    receivedAt,
  };
}

describe('MemoryStore', () => {
  contract(async () => new MemoryStore());
});

describe('embedded store (PGlite)', () => {
  contract(() => openEmbeddedStore(tempDir()));

  it('applies each versioned migration once, and a reopened store keeps its events', async () => {
    const dir = tempDir();
    const a = await openEmbeddedStore(dir);
    expect(a.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
    const id = await a.appendEvent(alarm('keep', Date.now(), 1));
    await a.close();
    await expect(a.appendEvent(alarm('keep', Date.now(), 2))).rejects.toSatisfy((e) => StoreError.isInstance(e));
    const b = await openEmbeddedStore(dir);
    expect(b.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
    expect((await b.queryEvents({ deviceId: 'keep' })).events.map((e) => e.id)).toEqual([id]);
    await b.close();
  }, 60_000);
});

describe("group commit posted whole (the embedded store worker's path)", () => {
  it('commits plain writes as one batch, never mixes a statement of its own into one, and keeps queue order', async () => {
    const db = await PGlite.create();
    const calls: string[][] = [];
    const driver: SqlDriver = {
      query: pgliteRun(db),
      transaction: (body) => {
        calls.push(['transaction']);
        return db.transaction((t) => body(pgliteRun(t)));
      },
      commitBatch: (ops, nodeId) => {
        calls.push(ops.map((o) => o.k));
        return db.transaction((t) => commitOps(pgliteRun(t), ops, nodeId));
      },
      close: () => db.close(),
    };
    const store = new SqlStore('embedded', driver, { nodeId: 'n1' });
    await store.migrate();
    calls.length = 0;
    // Queued in one tick: the first write starts a commit at once, the rest wait for the next ones.
    const done = Promise.all([
      store.putSession(session('A', 1), true),
      store.touchSessions([{ deviceId: 'A', lastSeen: 5 }]),
      store.putSession(session('B', 2), true),
      store.appendAlarm(alarm('A', 10, 1), 'k1'),
      store.appendEvent({ at: 11, type: 'online', deviceId: 'B', body: {} }),
    ]);
    await done;
    expect(calls).toEqual([['session'], ['alarm'], ['transaction'], ['session', 'event']]);
    expect((await store.session('A'))?.session.lastSeen).toBe(5);
    expect((await store.session('B'))?.online).toBe(true);
    const events = (await store.queryEvents({})).events.map((e) => e.type);
    expect(events).toEqual(['alarm', 'online']);
    await store.close();
  });
});

describe('embedded store statistics (PGlite has no autovacuum)', () => {
  it('analyzes its tables once enough rows were written since the last ANALYZE, as autovacuum would', async () => {
    const db = await PGlite.create();
    const driver: SqlDriver = {
      query: pgliteRun(db),
      transaction: (body) => db.transaction((t) => body(pgliteRun(t))),
      close: async () => {},
    };
    const store = new SqlStore('embedded', driver, { nodeId: 'n1' });
    await store.migrate();
    const tuples = async (): Promise<number> =>
      Number(
        (await db.query<{ n: number }>("select reltuples as n from pg_class where relname = 'events'")).rows[0]?.n,
      );
    expect(await tuples()).toBeLessThanOrEqual(0); // never analyzed
    const t = Date.now();
    await Promise.all(
      Array.from({ length: 900 }, (_, i) => store.appendAlarm(alarm(`st${i % 50}`, t + i, i), `s${i}`)),
    );
    expect(await tuples()).toBeLessThanOrEqual(0); // 900 rows: not due yet (1,000 in a new store)
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.appendAlarm(alarm(`st${i % 50}`, t + i, i), `u${i}`)),
    );
    await store.close(); // the queued ANALYZE commits before close returns
    expect(await tuples()).toBe(1100);
    await db.close();
  });
});

describe('embedded store: alarm and picture links across a restart', () => {
  it('a picture committed before a crash is linked to its alarm sent after the restart, and the other way round', async () => {
    const dir = tempDir();
    const t = Date.now();
    // Process 1 commits an upload and an alarm (as if it acknowledged both) and is gone before their partner came.
    const a = await openEmbeddedStore(dir);
    const pic = await a.addMedia(upload('rs1', 'P1', t));
    await a.appendAlarm(alarmNaming('rs2', t, ['P2']), '["rs2",1]');
    await a.close();
    // Process 2 knows nothing of them in memory: the store links them in the partner's transaction.
    const b = await openEmbeddedStore(dir);
    await b.appendAlarm(alarmNaming('rs1', t + 2000, ['P1']), '["rs1",1]');
    const p2 = await b.addMedia(upload('rs2', 'P2', t + 2000));
    const first = (await b.queryEvents({ deviceId: 'rs1' })).events[0]!.body;
    const second = (await b.queryEvents({ deviceId: 'rs2' })).events[0]!.body;
    expect(first).toMatchObject({ complete: true, missing: [], pictures: [{ id: 'P1', url: `/api/pictures/${pic}` }] });
    expect(second).toMatchObject({ complete: true, missing: [], pictures: [{ id: 'P2', url: `/api/pictures/${p2}` }] });
    await b.close();
  }, 60_000);
});

describeInterop('PostgreSQL store', ['postgresql'], () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startPostgres({ database: 'camstore' });
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  });
  contract(() => openPostgresStore(pg.url));

  it('two nodes: one migrates, the other sees its sessions and is woken by its commits (LISTEN/NOTIFY)', async () => {
    const [a, b] = await Promise.all([openPostgresStore(pg.url), openPostgresStore(pg.url)]);
    try {
      expect(a.nodeId).not.toBe(b.nodeId);
      await a.heartbeat('http://127.0.0.1:2');
      await a.putSession(session('onA', Date.now()), true);
      const seen = await b.session('onA');
      expect(seen).toMatchObject({ nodeId: a.nodeId, online: true });
      const woken = new Promise<void>((resolve) => {
        const off = b.subscribe(() => {
          off();
          resolve();
        });
      });
      await a.appendEvent(alarm('onA', Date.now(), 1));
      await woken;
      expect((await b.queryEvents({ deviceId: 'onA' })).events).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
  it('alarms and their uploads committed at the same moment, on two nodes and two lanes each, are all linked', async () => {
    const [a, b] = await Promise.all([openPostgresStore(pg.url), openPostgresStore(pg.url)]);
    try {
      const t = Date.now();
      const devices = Array.from({ length: 60 }, (_, i) => `race${i}`);
      // Each device's alarm and its picture at once: half of the pairs on one node (two urgent lanes), half across
      // the two nodes; no order between the alarm and the upload.
      await Promise.all(
        devices.flatMap((d, i) => [
          a.appendAlarm(alarmNaming(d, t, ['P']), `["${d}",1]`),
          (i % 2 === 0 ? a : b).addMedia(upload(d, 'P', t + 10)),
        ]),
      );
      const incomplete: string[] = [];
      for (const d of devices) {
        const body = (await b.queryEvents({ deviceId: d, type: 'alarm' })).events[0]?.body;
        if (body?.complete !== true) incomplete.push(d);
      }
      expect(incomplete).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
});
