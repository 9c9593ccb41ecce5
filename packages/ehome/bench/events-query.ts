// `GET /api/events` over many stored alarms (issue 16: 1,000,000), filtered by device and time: p50/p99 through the
// HTTP API of a platform on the embedded store (or PostgreSQL with --postgres). The alarms are written with one
// INSERT ... SELECT generate_series (1,000 devices, 1,000 alarms each, spread over 30 days).
//   node --conditions=@cam/source --import tsx bench/events-query.ts [--alarms 1000000] [--queries 1000] [--postgres]
// the embedded store's worker thread runs from TypeScript sources here (no build needed)
import '../../../test-support/source-worker.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { startPostgres, type TestPostgres } from '../../../test-support/postgres.js';
import { EhomeHttpApi, EhomeServer, openStore } from '../src/index.js';

const { values } = parseArgs({
  options: {
    alarms: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '1000' },
    postgres: { type: 'boolean', default: false },
  },
});
const alarms = Number(values.alarms);
const queries = Number(values.queries);
const devices = 1000;
const days = 30;
const t0 = Date.UTC(2026, 10, 1);
const span = days * 86_400_000;
const root = mkdtempSync(join(tmpdir(), 'cam-events-bench-'));
let server: TestPostgres | undefined;
const fill = `insert into events (at, type, device_id, body)
  select ${t0} + (i::bigint * ${span}) / ${alarms}, 'alarm', 'dev' || lpad((i % ${devices})::text, 4, '0'),
    jsonb_build_object('alarm', jsonb_build_object('deviceId', 'dev' || lpad((i % ${devices})::text, 4, '0'),
      'channel', 1, 'alarmType', 'MOTION', 'picIds', jsonb_build_array('P' || i)), 'pictures', '[]'::jsonb,
      'missing', '[]'::jsonb, 'complete', true)
  from generate_series(1, ${alarms}) as i`;
try {
  if (values.postgres) server = await startPostgres({ database: 'events' });
  const location = server ? server.url : join(root, 'store');
  // Create the schema through the store, then fill it in bulk directly.
  await (await openStore(location)).close();
  const fillStart = performance.now();
  if (values.postgres) {
    const c = new pg.Client({ connectionString: location });
    await c.connect();
    await c.query(fill);
    await c.query('analyze events');
    await c.end();
  } else {
    const db = await PGlite.create(location);
    await db.exec(fill);
    await db.exec('analyze events');
    await db.close();
  }
  const fillMs = performance.now() - fillStart;
  const store = await openStore(location);
  const platform = new EhomeServer({ address: '127.0.0.1', port: 0, alarmPort: false, picturePort: false, store });
  await platform.listen();
  const api = new EhomeHttpApi(platform, { port: 0 });
  await api.listen();
  const times: number[] = [];
  const direct: number[] = [];
  let rows = 0;
  const loadBefore = loadavg()[0]!;
  const query = (i: number): { deviceId: string; from: number } => ({
    deviceId: `dev${String((i * 7919) % devices).padStart(4, '0')}`,
    from: t0 + ((i * 104_729) % (days - 1)) * 86_400_000,
  });
  // Warm-up, untimed: every query once, so neither side below pays the first read of its pages (before
  // 2026-12-07 the API side ran first, cold, and the store side after it on the same pages, warm).
  for (let i = 0; i < queries; i++) {
    const { deviceId, from } = query(i);
    await store.queryEvents({ deviceId, from, to: from + 86_400_000, limit: 100 });
  }
  // Then each query through the HTTP API and straight to the store (no HTTP, no JSON), the order alternating.
  const viaApi = async (i: number): Promise<void> => {
    const { deviceId, from } = query(i);
    const url = `${api.url}/api/events?device=${deviceId}&from=${from}&to=${from + 86_400_000}&limit=100`;
    const s = performance.now();
    const r = (await (await fetch(url)).json()) as { events: unknown[] };
    times.push(performance.now() - s);
    rows += r.events.length;
  };
  const viaStore = async (i: number): Promise<void> => {
    const { deviceId, from } = query(i);
    const s = performance.now();
    await store.queryEvents({ deviceId, from, to: from + 86_400_000, limit: 100 });
    direct.push(performance.now() - s);
  };
  for (let i = 0; i < queries; i++) {
    if (i % 2 === 0) {
      await viaApi(i);
      await viaStore(i);
    } else {
      await viaStore(i);
      await viaApi(i);
    }
  }
  const loadAfter = loadavg()[0]!;
  const at = (xs: number[], p: number): number => {
    const sorted = [...xs].sort((x, y) => x - y);
    return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 100) / 100;
  };
  const q = (p: number): number => at(times, p);
  console.log(
    JSON.stringify(
      {
        backend: store.kind,
        alarms,
        fillSeconds: Math.round(fillMs / 100) / 10,
        queries,
        rowsPerQuery: rows / queries,
        p50ms: q(0.5),
        p99ms: q(0.99),
        maxMs: q(1),
        storeOnlyP50ms: at(direct, 0.5),
        storeOnlyP99ms: at(direct, 0.99),
        load1: [loadBefore, loadAfter].map((x) => Math.round(x * 100) / 100),
      },
      null,
      2,
    ),
  );
  await api.close();
  await platform.close();
  await store.close();
} finally {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
}
