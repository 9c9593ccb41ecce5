import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqlDriver, SqlRun } from './sql-store.js';

type Row = Record<string, unknown>;

/**
 * The worker's code, as text (evaluated, so it needs no file of its own in `dist` nor a TypeScript loader in tests):
 * it owns the PGlite database and runs what the platform's thread asks, one message per statement. A transaction is
 * a PGlite `transaction()` held open while its statements arrive; statements outside it wait for PGlite's own lock.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { PGlite } = require(workerData.pglite);
  let db;
  try {
    db = await PGlite.create(workerData.directory);
  } catch (e) {
    parentPort.postMessage({ id: 0, error: String(e && e.message || e) });
    return;
  }
  const txs = new Map();
  const ok = (id, rows) => parentPort.postMessage({ id, rows });
  const fail = (id, e) => parentPort.postMessage({ id, error: String(e && e.message || e) });
  parentPort.on('message', async (m) => {
    try {
      if (m.kind === 'query') ok(m.id, (await db.query(m.sql, m.params)).rows);
      else if (m.kind === 'begin') {
        const queue = [];
        let wake;
        let end;
        txs.set(m.tx, { push(x) { queue.push(x); if (wake) { const w = wake; wake = undefined; w(); } } });
        db.transaction(async (t) => {
          ok(m.id, []);
          for (;;) {
            while (queue.length === 0) await new Promise((r) => { wake = r; });
            const x = queue.shift();
            if (x.kind === 'commit') { end = x; return; }
            if (x.kind === 'rollback') { end = x; throw new Error('rolled back'); }
            try { ok(x.id, (await t.query(x.sql, x.params)).rows); } catch (e) { fail(x.id, e); }
          }
        }).then(
          () => { txs.delete(m.tx); ok(end.id, []); },
          (e) => {
            txs.delete(m.tx);
            if (end && end.kind === 'rollback') ok(end.id, []);
            else fail(end ? end.id : m.id, e);
          },
        );
      } else if (m.kind === 'tx' || m.kind === 'commit' || m.kind === 'rollback') {
        const tx = txs.get(m.tx);
        if (!tx) fail(m.id, new Error('no such transaction'));
        else tx.push(m);
      } else if (m.kind === 'close') {
        await db.close();
        ok(m.id, []);
      }
    } catch (e) {
      fail(m.id, e);
    }
  });
  parentPort.postMessage({ id: 0, rows: [] });
})();
`;

/**
 * PGlite in a worker thread: PostgreSQL-in-WASM runs each statement synchronously for 0.5-2.5 ms, which on the
 * platform's own thread stalls every UDP and HTTP server meanwhile. Here the platform's thread only posts messages.
 */
export async function openPgliteThread(directory: string): Promise<SqlDriver> {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { directory, pglite: createRequire(import.meta.url).resolve('@electric-sql/pglite') },
  });
  let next = 1;
  let txCounter = 0;
  const waiting = new Map<number, { resolve: (rows: Row[]) => void; reject: (e: Error) => void }>();
  let failed: Error | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    waiting.set(0, { resolve: () => resolve(), reject });
  });
  worker.on('message', (m: { id: number; rows?: Row[]; error?: string }) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error !== undefined) w.reject(new Error(m.error));
    else w.resolve(m.rows ?? []);
  });
  const die = (e: Error): void => {
    failed = e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  worker.on('error', die);
  worker.on('exit', () => die(new Error('the store thread exited')));
  const call = (msg: Record<string, unknown>): Promise<Row[]> => {
    if (failed) return Promise.reject(failed);
    const id = next++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id });
    });
  };
  await ready;
  return {
    query: (sql, params) => call({ kind: 'query', sql, params: params ? [...params] : [] }),
    transaction: async <T>(body: (run: SqlRun) => Promise<T>): Promise<T> => {
      const tx = ++txCounter;
      await call({ kind: 'begin', tx });
      let result: T;
      try {
        result = await body((sql, params) => call({ kind: 'tx', tx, sql, params: params ? [...params] : [] }));
      } catch (e) {
        await call({ kind: 'rollback', tx }).catch(() => {});
        throw e;
      }
      await call({ kind: 'commit', tx });
      return result;
    },
    close: async () => {
      await call({ kind: 'close' }).catch(() => {});
      await worker.terminate();
    },
  };
}
