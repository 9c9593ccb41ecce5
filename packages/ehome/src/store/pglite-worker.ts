// The embedded store's worker thread: it owns the PGlite database and runs what the platform's thread posts. A
// group commit is one message each way (`batch`, run here by the same `commitOps` as PostgreSQL's); other
// transactions (migrations, statements of their own) are held open while their statements arrive one by one.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { commitOps, type DataWriteOp, type Row } from './batch.js';
import type { PgliteRequest, PgliteWorkerData } from './pglite-protocol.js';
import { pgliteRun } from './pglite-run.js';

const port = parentPort;
if (!port) throw new Error('pglite-worker runs in a worker thread');
const { directory } = workerData as PgliteWorkerData;

const ok = (id: number, rows: Row[] | unknown[]): void => port.postMessage({ id, rows });
const fail = (id: number, e: unknown): void =>
  port.postMessage({ id, error: e instanceof Error ? e.message : String(e) });

interface OpenTransaction {
  push(m: PgliteRequest): void;
}

let db: PGlite;
try {
  db = await PGlite.create(directory);
} catch (e) {
  fail(0, e);
  throw e;
}
const open = new Map<number, OpenTransaction>();

function begin(id: number, tx: number): void {
  const queue: PgliteRequest[] = [];
  let wake: (() => void) | undefined;
  let end: PgliteRequest | undefined;
  open.set(tx, {
    push(m) {
      queue.push(m);
      const w = wake;
      wake = undefined;
      w?.();
    },
  });
  db.transaction(async (t) => {
    ok(id, []);
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      const m = queue.shift()!;
      if (m.kind === 'commit') {
        end = m;
        return;
      }
      if (m.kind === 'rollback') {
        end = m;
        throw new Error('rolled back');
      }
      if (m.kind === 'tx') {
        try {
          ok(m.id, (await t.query<Row>(m.sql, m.params)).rows);
        } catch (e) {
          fail(m.id, e);
        }
      }
    }
  }).then(
    () => {
      open.delete(tx);
      if (end) ok(end.id, []);
    },
    (e: unknown) => {
      open.delete(tx);
      if (end?.kind === 'rollback') ok(end.id, []);
      else fail(end ? end.id : id, e);
    },
  );
}

port.on('message', async (m: PgliteRequest) => {
  try {
    switch (m.kind) {
      case 'query':
        ok(m.id, (await db.query<Row>(m.sql, m.params)).rows);
        break;
      case 'batch': {
        const ops = m.ops as DataWriteOp[];
        ok(m.id, await db.transaction((t) => commitOps(pgliteRun(t), ops, m.nodeId)));
        break;
      }
      case 'begin':
        begin(m.id, m.tx);
        break;
      case 'tx':
      case 'commit':
      case 'rollback': {
        const t = open.get(m.tx);
        if (t) t.push(m);
        else fail(m.id, new Error('no such transaction'));
        break;
      }
      case 'close':
        await db.close();
        ok(m.id, []);
        break;
    }
  } catch (e) {
    fail(m.id, e);
  }
});
ok(0, []);
