import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { ProtocolError, startPackageWorker } from '@cam/net-utils';
import { buildFrame, type GvspFrame } from '../engine/frame.js';
import { COUNTER_COUNT, Counter } from '../engine/reassembler.js';
import type { EngineHost, GvspReceiverOptions, ReceiveBufferReport } from './engine-host.js';
import { carve, type MainToWorker, poolBytes, type WorkerInit, type WorkerToMain } from './worker-protocol.js';

type FrameMsg = Extract<WorkerToMain, { type: 'frame' }>;

function startWorker(workerData: WorkerInit): Worker {
  // the shipped build: dist/receiver-worker.js (its own tsup entry) beside dist/index.js
  const js = new URL('./receiver-worker.js', import.meta.url);
  const worker = startPackageWorker(js, new URL('./receiver-worker.ts', import.meta.url), workerData);
  if (worker) return worker;
  throw new ProtocolError(
    `the GVSP receive worker ${fileURLToPath(js)} is missing: build the package (pnpm --filter @cam/gvsp build), ` +
      'or, running from TypeScript sources, load test-support/source-worker.ts first',
  );
}

/**
 * The settings the worker needs, copied one by one: callers (openStream) pass option objects that also carry
 * functions and node maps, which cannot be cloned into a worker.
 */
function workerOptions(o: GvspReceiverOptions, slots: number, maxLeaderSize: number): WorkerInit['options'] {
  const out: WorkerInit['options'] = { payloadSize: o.payloadSize, slots, maxLeaderSize };
  if (o.port !== undefined) out.port = o.port;
  if (o.address !== undefined) out.address = o.address;
  if (o.device !== undefined) {
    out.device = o.device.port === undefined ? { address: o.device.address } : { ...o.device };
  }
  if (o.sourceAddress !== undefined) out.sourceAddress = o.sourceAddress;
  if (o.sourcePort !== undefined) out.sourcePort = o.sourcePort;
  if (o.streamChannel !== undefined) out.streamChannel = o.streamChannel;
  if (o.receiveBufferSize !== undefined) out.receiveBufferSize = o.receiveBufferSize;
  if (o.packetSize !== undefined) out.packetSize = o.packetSize;
  if (o.initialPacketTimeoutMs !== undefined) out.initialPacketTimeoutMs = o.initialPacketTimeoutMs;
  if (o.packetTimeoutMs !== undefined) out.packetTimeoutMs = o.packetTimeoutMs;
  if (o.frameRetentionMs !== undefined) out.frameRetentionMs = o.frameRetentionMs;
  if (o.packetRequestRatio !== undefined) out.packetRequestRatio = o.packetRequestRatio;
  if (o.resend !== undefined) out.resend = o.resend;
  if (o.maxTickStepMs !== undefined) out.maxTickStepMs = o.maxTickStepMs;
  if (o.tickMs !== undefined) out.tickMs = o.tickMs;
  return out;
}

/**
 * Runs the engine in a worker thread. A frame's buffer is transferred here with the frame and transferred back
 * when it is released (after release, `frame.data` is detached: empty, never silently reused memory).
 */
export async function openWorkerHost(options: GvspReceiverOptions, reason: string): Promise<EngineHost> {
  const slots = Math.max(2, Math.min(256, options.slots ?? 8));
  const maxLeader = options.maxLeaderSize ?? 1024;
  const pool = new SharedArrayBuffer(poolBytes(slots, maxLeader));
  const countersSab = new SharedArrayBuffer(COUNTER_COUNT * 8);
  const counters = new Float64Array(countersSab);
  // the main thread maps the leader/trailer pool in the same order as the engine allocates it
  const alloc = carve(pool);
  const leaders: Uint8Array[] = [];
  const trailers: Uint8Array[] = [];
  for (let i = 0; i < slots; i++) {
    leaders.push(alloc(maxLeader));
    trailers.push(alloc(maxLeader));
  }
  const init: WorkerInit = { options: workerOptions(options, slots, maxLeader), pool, counters: countersSab };
  const worker = startWorker(init);
  const queue: FrameMsg[] = [];
  let held = 0;
  let dropped = 0;
  let onReady: () => void = () => {};
  let closedResolve: (() => void) | undefined;
  let prober: ((length: number) => boolean) | undefined;
  const ready = await new Promise<{ port: number; receiveBuffer: ReceiveBufferReport }>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    worker.once('error', onError);
    worker.on('message', (m: WorkerToMain) => {
      switch (m.type) {
        case 'ready':
          worker.off('error', onError);
          resolve({ port: m.port, receiveBuffer: m.receiveBuffer });
          break;
        case 'error':
          reject(new Error(`GVSP receive worker: ${m.message}`));
          break;
        case 'frame':
          queue.push(m);
          // slow consumer: keep at most half the pool waiting, give the oldest back to keep the socket flowing
          while (queue.length > Math.max(1, slots >> 1)) {
            const old = queue.shift()!;
            dropped++;
            post({ type: 'release', slot: old.slot, buffer: old.buffer }, [old.buffer]);
          }
          onReady();
          break;
        case 'closed':
          closedResolve?.();
          break;
        case 'probed':
          if (prober?.(m.length)) prober = undefined;
          break;
      }
    });
  });
  worker.on('error', () => {});
  const post = (m: MainToWorker, transfer?: ArrayBuffer[]): void => worker.postMessage(m, transfer);
  const copy = options.copyFrames ?? false;
  const deliverIncomplete = options.deliverIncomplete ?? true;
  const swap16 = options.pixelByteOrder === 'big';
  const viewCounters = new Float64Array(COUNTER_COUNT);
  let closed = false;
  return {
    port: ready.port,
    engine: { name: 'js', capture: 'dgram-worker', reason },
    receiveBuffer: ready.receiveBuffer,
    counters() {
      viewCounters.set(counters);
      viewCounters[Counter.droppedFrames]! += dropped;
      return viewCounters;
    },
    take(): GvspFrame | undefined {
      for (;;) {
        const m = queue.shift();
        if (!m) return undefined;
        if (!deliverIncomplete && m.status !== 0) {
          post({ type: 'release', slot: m.slot, buffer: m.buffer }, [m.buffer]);
          continue;
        }
        held++;
        let released = false;
        return buildFrame(
          {
            status: m.status,
            blockId: m.blockId,
            dataEnd: m.dataEnd,
            expected: m.expected,
            received: m.received,
            resent: m.resent,
            leader: leaders[m.slot]!.subarray(0, m.leaderLength),
            trailer: trailers[m.slot]!.subarray(0, m.trailerLength),
          },
          new Uint8Array(m.buffer),
          {
            copy,
            swap16,
            release: () => {
              if (released) return;
              released = true;
              held--;
              if (!closed) post({ type: 'release', slot: m.slot, buffer: m.buffer }, [m.buffer]);
            },
          },
        );
      }
    },
    readyCount: () => queue.length,
    heldCount: () => held,
    onReady(cb) {
      onReady = cb;
    },
    setDevice(address, port) {
      post({ type: 'device', address, port });
    },
    setPacketSize(size) {
      post({ type: 'packetSize', size });
    },
    probe(test, timeoutMs) {
      post({ type: 'probe', on: true });
      return new Promise<boolean>((resolve) => {
        const done = (ok: boolean): void => {
          clearTimeout(t);
          prober = undefined;
          post({ type: 'probe', on: false });
          resolve(ok);
        };
        const t = setTimeout(() => done(false), timeoutMs);
        prober = (n) => {
          if (!test(n)) return false;
          done(true);
          return true;
        };
      });
    },
    async close() {
      if (closed) return;
      const done = new Promise<void>((r) => {
        closedResolve = r;
      });
      post({ type: 'close' });
      await Promise.race([done, new Promise((r) => setTimeout(r, 1000))]);
      closed = true;
      onReady();
      await worker.terminate();
    },
  };
}
