/**
 * Worker-thread entry of {@link GvspReceiver} (`worker: true`): owns the socket and the reassembly engine, so
 * application work on the main thread cannot delay packet handling. Frame buffers are plain ArrayBuffers that
 * are transferred to the main thread with each frame and transferred back on release: no copy either way, and
 * the per-packet copy runs at memcpy speed (V8 copies into a SharedArrayBuffer with relaxed atomics, byte by byte
 * when source and target are not 8-byte co-aligned: 5-8x slower at 9000-byte packets). Leaders and trailers,
 * small, stay in a SharedArrayBuffer both threads map.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GvspReassembler } from '../engine/reassembler.js';
import { bindStreamSocket, ResendRequester, StreamSource, startReceiveLoop } from './receive-loop.js';
import type { MainToWorker, WorkerInit, WorkerToMain } from './worker-protocol.js';
import { carve } from './worker-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;

async function main(): Promise<void> {
  const { socket, receiveBuffer } = await bindStreamSocket(init.options);
  const allocateLeader = carve(init.pool);
  const resend = new ResendRequester(socket, init.options.device, init.options.streamChannel ?? 0);
  const source = new StreamSource(init.options.sourceAddress, init.options.device, init.options.sourcePort);
  const engine: GvspReassembler = new GvspReassembler(
    { maxTickStepMs: 5, ...init.options, allocateLeader, counters: new Float64Array(init.counters) },
    {
      requestResend(blockId, first, last, extendedId) {
        resend.request(blockId, first, last, extendedId);
      },
      frameReady() {
        for (;;) {
          const slot = engine.take();
          if (slot < 0) break;
          const buffer = engine.lendBuffer(slot).buffer as ArrayBuffer;
          const msg: WorkerToMain = {
            type: 'frame',
            slot,
            status: engine.status[slot]!,
            blockId: engine.blockIds[slot]!,
            dataEnd: engine.dataEnd[slot]!,
            expected: engine.expectedCount[slot]!,
            received: engine.receivedCount[slot]!,
            resent: engine.resentCount[slot]!,
            leaderLength: engine.leaderLength[slot]!,
            trailerLength: engine.trailerLength[slot]!,
            buffer,
          };
          port.postMessage(msg, [buffer]);
        }
      },
    },
  );
  let probing = false;
  const loop = startReceiveLoop(socket, engine, resend, source, {
    tickMs: init.options.tickMs,
    onDatagram(length) {
      if (probing) port.postMessage({ type: 'probed', length } satisfies WorkerToMain);
    },
  });
  port.on('message', (m: MainToWorker) => {
    switch (m.type) {
      case 'release':
        engine.restoreBuffer(m.slot, m.buffer);
        break;
      case 'device':
        resend.device = { address: m.address, port: m.port };
        source.setDevice(m.address);
        break;
      case 'packetSize':
        engine.setPacketSize(m.size);
        break;
      case 'probe':
        probing = m.on;
        break;
      case 'close':
        loop.stop();
        engine.abortAll();
        socket.close(() => {
          port.postMessage({ type: 'closed' } satisfies WorkerToMain);
        });
        break;
    }
  });
  port.postMessage({ type: 'ready', port: socket.address().port, receiveBuffer } satisfies WorkerToMain);
}

main().catch((e: unknown) => {
  port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies WorkerToMain);
});
