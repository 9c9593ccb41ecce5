import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

// Plain CommonJS run with `eval: true`, so it needs no loader or build step.
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let h = hashes.get(m.id);
    if (!h) hashes.set(m.id, (h = createHash('md5')));
    h.update(new Uint8Array(m.buf, 0, m.len));
    // The buffer goes back to be filled again (no fresh allocation per batch).
    parentPort.postMessage({ free: m.buf }, [m.buf]);
  } else if (m.op === 'digest') {
    const h = hashes.get(m.id) || createHash('md5');
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, hex: h.digest('hex') });
  } else if (m.op === 'drop') {
    hashes.delete(m.id);
  }
});
`;

/** Buffers kept for reuse at most (each at least {@link MIN_BUFFER}): enough for the batches in flight. */
const MAX_FREE_BUFFERS = 8;
const MIN_BUFFER = 1 << 20;

/**
 * MD5 of received files on a worker thread, so hashing overlaps receiving (the device's main thread would otherwise
 * spend as much time hashing as moving bytes). Updates are copied into transferred buffers (handed back by the worker
 * and reused) and applied in order.
 */
export class OffThreadMd5 {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (hex: string) => void; reject: (e: Error) => void }>();
  /** Buffers the worker has hashed and handed back, reused for the next updates. */
  private readonly free: ArrayBuffer[] = [];

  private get w(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (m: { id: number; hex: string } | { free: ArrayBuffer }) => {
      if ('free' in m) {
        if (this.free.length < MAX_FREE_BUFFERS) this.free.push(m.free);
        return;
      }
      const p = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      p?.resolve(m.hex);
    });
    const fail = (e: Error): void => {
      for (const p of this.waiting.values()) p.reject(e);
      this.waiting.clear();
      this.worker = null;
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('MD5 worker exited')));
    this.worker = worker;
    return worker;
  }

  /** A new running hash; returns its id. */
  begin(): number {
    return this.nextId++;
  }

  update(id: number, bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    let buf = this.free.pop();
    if (buf === undefined || buf.byteLength < bytes.byteLength)
      buf = new ArrayBuffer(Math.max(bytes.byteLength, MIN_BUFFER));
    new Uint8Array(buf).set(bytes);
    this.w.postMessage({ op: 'update', id, buf, len: bytes.byteLength }, [buf]);
  }

  digest(id: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.w.postMessage({ op: 'digest', id });
    });
  }

  drop(id: number): void {
    this.worker?.postMessage({ op: 'drop', id });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

/** The same interface, hashing on the calling thread (option `hashOffThread: false`). */
export class InThreadMd5 {
  private nextId = 1;
  private readonly hashes = new Map<number, Hash>();

  begin(): number {
    const id = this.nextId++;
    this.hashes.set(id, createHash('md5'));
    return id;
  }

  update(id: number, bytes: Uint8Array): void {
    this.hashes.get(id)?.update(bytes);
  }

  async digest(id: number): Promise<string> {
    const h = this.hashes.get(id) ?? createHash('md5');
    this.hashes.delete(id);
    return h.digest('hex');
  }

  drop(id: number): void {
    this.hashes.delete(id);
  }

  async close(): Promise<void> {
    this.hashes.clear();
  }
}
