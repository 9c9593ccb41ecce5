/**
 * The reassembly engine on this thread: the receiver's default host when the native engine is not used. The
 * socket and per-datagram path are the shared receive loop (receive-loop.ts), the same one the worker runs.
 */
import { GvspReassembler } from '../engine/reassembler.js';
import { type EngineHost, frameTaker, type GvspReceiverOptions } from './engine-host.js';
import { bindStreamSocket, ResendRequester, StreamSource, startReceiveLoop } from './receive-loop.js';

export async function openLocalHost(options: GvspReceiverOptions, reason: string): Promise<EngineHost> {
  const { socket, receiveBuffer } = await bindStreamSocket(options);
  const resend = new ResendRequester(socket, options.device, options.streamChannel ?? 0);
  const source = new StreamSource(options.sourceAddress, options.device, options.sourcePort);
  let onReady: () => void = () => {};
  const engine = new GvspReassembler(
    { maxTickStepMs: 5, ...options },
    {
      requestResend(blockId, first, last, extendedId) {
        resend.request(blockId, first, last, extendedId);
      },
      frameReady() {
        onReady();
      },
    },
  );
  let prober: ((length: number) => boolean) | undefined;
  const loop = startReceiveLoop(socket, engine, resend, source, {
    tickMs: options.tickMs,
    onDatagram(length) {
      if (prober?.(length)) prober = undefined;
    },
  });
  const take = frameTaker(engine, options);
  const port = socket.address().port;
  let closed = false;
  return {
    port,
    engine: { name: 'js', capture: 'dgram', reason },
    receiveBuffer,
    counters: () => engine.counters,
    take,
    readyCount: () => engine.readyCount,
    heldCount: () => engine.heldCount,
    onReady(cb) {
      onReady = cb;
    },
    setDevice(address, p) {
      resend.device = { address, port: p };
      source.setDevice(address);
    },
    setPacketSize(size) {
      engine.setPacketSize(size);
    },
    probe(test, timeoutMs) {
      return new Promise<boolean>((resolve) => {
        const t = setTimeout(() => {
          prober = undefined;
          resolve(false);
        }, timeoutMs);
        prober = (n) => {
          if (!test(n)) return false;
          clearTimeout(t);
          resolve(true);
          return true;
        };
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      loop.stop();
      engine.abortAll();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      onReady();
    },
  };
}
