import type { GvspReceiverOptions, ReceiveBufferReport } from './engine-host.js';

/** Data the worker starts with. */
export interface WorkerInit {
  options: Omit<GvspReceiverOptions, 'signal' | 'worker' | 'counters'>;
  /** Leaders and trailers of every slot, carved in engine order (frame buffers travel by transfer). */
  pool: SharedArrayBuffer;
  counters: SharedArrayBuffer;
}

export type WorkerToMain =
  | { type: 'ready'; port: number; receiveBuffer: ReceiveBufferReport }
  | {
      type: 'frame';
      slot: number;
      status: number;
      blockId: number;
      dataEnd: number;
      expected: number;
      received: number;
      resent: number;
      leaderLength: number;
      trailerLength: number;
      /** The slot's frame buffer, transferred (the worker's copy is detached until it comes back). */
      buffer: ArrayBuffer;
    }
  | { type: 'closed' }
  | { type: 'probed'; length: number }
  | { type: 'error'; message: string };

export type MainToWorker =
  /** Gives a slot back, with its frame buffer transferred back. */
  | { type: 'release'; slot: number; buffer: ArrayBuffer }
  | { type: 'device'; address: string; port: number }
  | { type: 'packetSize'; size: number }
  | { type: 'probe'; on: boolean }
  | { type: 'close' };

/** An allocator that hands out consecutive views of one SharedArrayBuffer (same order on both threads). */
export function carve(pool: SharedArrayBuffer): (bytes: number) => Uint8Array {
  let offset = 0;
  return (bytes: number) => {
    const v = new Uint8Array(pool, offset, bytes);
    offset += (bytes + 7) & ~7;
    return v;
  };
}

/** Bytes of the shared leader/trailer pool for `slots` slots. */
export function poolBytes(slots: number, maxLeader: number): number {
  const a = (n: number): number => (n + 7) & ~7;
  return slots * 2 * a(maxLeader);
}
