import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startPackageWorker } from '@cam/net-utils';
import type { Row } from './batch.js';
import { StoreError } from './errors.js';
import type { PgliteReply, PgliteRequest, PgliteWorkerData } from './pglite-protocol.js';
import type { SqlDriver } from './sql-store.js';

function startWorker(workerData: PgliteWorkerData): Worker {
  // the shipped build: dist/pglite-worker.js (its own tsup entry) beside dist/index.js
  const js = new URL('./pglite-worker.js', import.meta.url);
  const worker = startPackageWorker(js, new URL('./pglite-worker.ts', import.meta.url), workerData);
  if (worker) return worker;
  throw new StoreError(
    `the embedded store's worker ${fileURLToPath(js)} is missing: build the package (pnpm --filter @cam/ehome build), ` +
      'or, running from TypeScript sources, load test-support/source-worker.ts first',
  );
}

type Request = PgliteRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/**
 * PGlite in a worker thread: PostgreSQL-in-WASM runs each statement synchronously for 0.5-2.5 ms, which on the
 * platform's own thread stalls every UDP and HTTP server meanwhile. Here the platform's thread only posts
 * messages: a group commit is one message each way (`commitBatch`), whatever its statements.
 */
export async function openPgliteThread(directory: string): Promise<SqlDriver> {
  const worker = startWorker({ directory });
  let next = 1;
  let txCounter = 0;
  const waiting = new Map<number, { resolve: (rows: unknown[]) => void; reject: (e: Error) => void }>();
  let failed: Error | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    waiting.set(0, { resolve: () => resolve(), reject });
  });
  worker.on('message', (m: PgliteReply) => {
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
  worker.on('exit', () => die(new StoreError('the store thread exited')));
  const call = (msg: Request): Promise<unknown[]> => {
    if (failed) return Promise.reject(failed);
    const id = next++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id });
    });
  };
  try {
    await ready;
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  const rows = (p: Promise<unknown[]>): Promise<Row[]> => p as Promise<Row[]>;
  return {
    query: (sql, params) => rows(call({ kind: 'query', sql, params: params ? [...params] : [] })),
    commitBatch: (ops, nodeId) => call({ kind: 'batch', ops: [...ops], nodeId }),
    transaction: async <T>(body: (run: (sql: string, params?: readonly unknown[]) => Promise<Row[]>) => Promise<T>) => {
      const tx = ++txCounter;
      await call({ kind: 'begin', tx });
      let result: T;
      try {
        result = await body((sql, params) => rows(call({ kind: 'tx', tx, sql, params: params ? [...params] : [] })));
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
