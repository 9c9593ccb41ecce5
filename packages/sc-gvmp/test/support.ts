import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { CallOptions } from '@cam/net-utils';
import { ScGvmpRegisterWriteError } from '../src/codec/errors.js';
import type { RegisterRequestContext, ScGvmpRegisterHandler, ScGvmpRegisterHost } from '../src/device/register-host.js';
import type { ScGvmpRegisterAccess } from '../src/transport/register-access.js';

/** In-memory register host: the unit-test double of a GVCP device. */
export class MemoryRegisterHost implements ScGvmpRegisterHost {
  readonly handlers = new Map<number, ScGvmpRegisterHandler>();

  defineRegister(address: number, handler: ScGvmpRegisterHandler): void {
    if (this.handlers.has(address)) throw new Error(`register 0x${address.toString(16)} defined twice`);
    this.handlers.set(address, handler);
  }

  removeRegister(address: number): void {
    this.handlers.delete(address);
  }

  read(address: number, context: RegisterRequestContext = { fromControlHolder: true }): number {
    const h = this.handlers.get(address);
    if (!h) throw new GvcpStatusError(0x8003);
    return h.read(context);
  }

  write(address: number, value: number, context: RegisterRequestContext = { fromControlHolder: true }): void {
    const h = this.handlers.get(address);
    if (!h) throw new GvcpStatusError(0x8003);
    try {
      h.write(value, context);
    } catch (error) {
      if (ScGvmpRegisterWriteError.isInstance(error)) throw new GvcpStatusError(error.gvcpStatus);
      throw error;
    }
  }

  /** A GVCP-client-like view of this host, as seen by a client (`fromControlHolder`). */
  access(context: RegisterRequestContext = { fromControlHolder: true }, log?: string[]): ScGvmpRegisterAccess {
    return {
      readRegister: async (address: number, options?: CallOptions) => {
        await Promise.resolve();
        options?.signal?.throwIfAborted();
        return this.read(address, context);
      },
      writeRegister: async (address: number, value: number, options?: CallOptions) => {
        await Promise.resolve();
        options?.signal?.throwIfAborted();
        log?.push(`0x${address.toString(16)}=${value}`);
        this.write(address, value, context);
      },
    };
  }
}

/** What a GVCP client reports for a NACKed write: the status code. */
export class GvcpStatusError extends Error {
  override readonly name = 'GvcpStatusError';
  readonly status: number;
  constructor(status: number) {
    super(`GVCP status 0x${status.toString(16)}`);
    this.status = status;
  }
}

/** A plain TCP server on 127.0.0.1, port 0, recording connections. */
export async function plainServer(
  onConnection?: (s: Socket) => void,
): Promise<{ server: Server; port: number; sockets: Socket[]; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    onConnection?.(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = await plainServer();
  await s.close();
  return s.port;
}

/**
 * A host that does not answer, on 127.0.0.1 only: a listening socket whose accept queue is full. The listener
 * lives in a worker thread that blocks in Atomics.wait right after listen(), so nothing ever accepts; we fill the
 * queue with connections of our own, after which Linux drops further SYNs (the listen-queue overflow), and a new
 * connect hangs until the client's own timeout. No packet leaves loopback and no root is needed.
 */
export async function silentHost(): Promise<{ port: number; close(): Promise<void> }> {
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const net = require('node:net');
     const shared = workerData;
     const server = net.createServer();
     server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       setImmediate(() => { Atomics.wait(shared, 0, 0); server.close(); process.exit(0); });
     });`,
    { eval: true, workerData: shared },
  );
  const [port] = (await once(worker, 'message')) as [number];
  const fillers: Socket[] = [];
  const { connect } = await import('node:net');
  // Fill the accept queue: connect until two connections in a row stay pending (two, so that one slow handshake
  // on a loaded machine is not taken for a full queue).
  let pendingInARow = 0;
  for (let i = 0; i < 32 && pendingInARow < 2; i++) {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    fillers.push(s);
    const ok = await Promise.race([
      once(s, 'connect').then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 300)),
    ]);
    pendingInARow = ok ? 0 : pendingInARow + 1;
  }
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      Atomics.store(shared, 0, 1);
      Atomics.notify(shared, 0);
      await once(worker, 'exit');
    },
  };
}

/** Resolves when `predicate` holds, polling every 5 ms; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
