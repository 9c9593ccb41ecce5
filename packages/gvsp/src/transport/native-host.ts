import dgram from 'node:dgram';
import type { NativeBinding, NativeCaptureCode, NativeEngine, NativeEngineStats } from '@cam/gvsp-native';
import { ipv4ToU32, u32ToIpv4 } from '@cam/net-utils';
import { Counter, GvspReassembler, type ReassemblerHooks, type ReassemblerOptions } from '../engine/reassembler.js';
import { type EngineHost, frameTaker, type GvspReceiverOptions, type ReceiveBufferReport } from './engine-host.js';
import { ResendRequester, StreamSource } from './receive-loop.js';

/**
 * The native receive engine (@cam/gvsp-native) plugged into a {@link GvspReassembler}: native code receives
 * datagrams in batches and places the common data packet of a frame in progress straight into the frame buffer,
 * doing the reassembler's per-packet bookkeeping on its shared typed arrays; every other datagram (leaders,
 * trailers, new blocks, the packet that completes a frame, anything odd) comes back here, in arrival order, to
 * {@link GvspReassembler.handlePacket}. Resend scheduling and timeouts stay {@link GvspReassembler.tick}: one
 * implementation for both engines.
 */

let loading: Promise<{ binding: NativeBinding } | { error: string }> | undefined;

/** Loads @cam/gvsp-native once; says why when it cannot. */
export function loadNativeBinding(): Promise<{ binding: NativeBinding } | { error: string }> {
  loading ??= import('@cam/gvsp-native').then(
    (m) => ({ binding: m.binding }),
    (e: unknown) => ({ error: e instanceof Error ? e.message.split('\n')[0]! : String(e) }),
  );
  return loading;
}

/** A reassembler fed by the native engine, without sockets: datagrams from memory (tests, fuzzing, replay). */
export class NativePlacement {
  readonly engine: GvspReassembler;
  private readonly native: NativeEngine;
  private readonly slow = new Uint8Array(65536);

  constructor(
    private readonly binding: NativeBinding,
    options: ReassemblerOptions,
    hooks: ReassemblerHooks,
  ) {
    this.engine = new GvspReassembler(options, hooks);
    this.native = binding.createEngine(
      this.engine.sharedState(),
      (length) => {
        this.engine.handlePacket(this.slow.subarray(0, length), length);
        return false;
      },
      () => {},
      this.slow,
    );
  }

  /** Handles datagrams in order, as one batch; returns how many native code placed itself. */
  process(datagrams: readonly Uint8Array[]): number {
    let total = 0;
    for (const d of datagrams) total += d.byteLength;
    const bytes = new Uint8Array(total);
    const ends = new Int32Array(datagrams.length);
    let at = 0;
    datagrams.forEach((d, i) => {
      bytes.set(d, at);
      at += d.byteLength;
      ends[i] = at;
    });
    return this.binding.processDatagrams(this.native, bytes, ends);
  }

  stats(): NativeEngineStats {
    return this.binding.stats(this.native);
  }
}

const CAPTURE: Record<NonNullable<GvspReceiverOptions['capture']>, NativeCaptureCode> = {
  recvmmsg: 0,
  'packet-ring': 1,
  auto: 2,
};

/** Receives with the native engine on this thread's event loop. */
export async function openNativeHost(
  options: GvspReceiverOptions,
  binding: NativeBinding,
  reason: string | undefined,
): Promise<EngineHost & { nativeStats(): NativeEngineStats }> {
  const requested = options.receiveBufferSize ?? 32 * 1024 * 1024;
  let onReady: () => void = () => {};
  let resend: ResendRequester | undefined;
  const engine = new GvspReassembler(
    { maxTickStepMs: 5, ...options },
    {
      requestResend(blockId, first, last, extendedId) {
        resend?.request(blockId, first, last, extendedId);
      },
      frameReady() {
        onReady();
      },
    },
  );
  engine.tick(Date.now());
  const tickMs = Math.max(1, options.tickMs ?? 1);
  let lastTick = Date.now();
  const tick = (): void => {
    lastTick = Date.now();
    engine.tick(lastTick);
  };
  let prober: ((length: number) => boolean) | undefined;
  const slow = new Uint8Array(65536);
  // the source check runs in native code (the same rule as acceptsStreamSource); learning here is per wake-up: the
  // sender of the first batch's last datagram
  const source = new StreamSource(options.sourceAddress, options.device, options.sourcePort);
  const applySource = (): void => {
    const address = source.expected ? ipv4ToU32(source.expected) : 0;
    // the port only when there is one, so a binding built before ports were checked still works without
    if (source.port) binding.setSource(native, address, source.port);
    else binding.setSource(native, address);
  };
  const native = binding.createEngine(
    engine.sharedState(),
    (length) => {
      if (prober?.(length)) {
        prober = undefined;
        binding.setProbe(native, false);
      }
      engine.handlePacket(slow.subarray(0, length), length);
      // a frame is waiting: let the consumer take it before this wake-up completes more (slots are few)
      return engine.readyCount > 0;
    },
    (sourceAddress) => {
      if (sourceAddress !== 0) {
        resend?.learn(u32ToIpv4(sourceAddress));
        if (source.expected === undefined) {
          source.learn(u32ToIpv4(sourceAddress));
          applySource();
        }
      }
      // timers once per batch (resend requests, retention); the idle timer below covers quiet periods
      if (Date.now() - lastTick >= tickMs) tick();
    },
    slow,
  );
  applySource();
  const capture = options.capture ?? 'auto';
  if (!(capture in CAPTURE)) throw new RangeError(`capture ${String(capture)}: 'auto', 'recvmmsg' or 'packet-ring'`);
  const info = binding.openReceiver(
    native,
    options.address ?? '0.0.0.0',
    options.port ?? 0,
    requested,
    CAPTURE[capture],
  );
  // PACKETRESEND goes out of a socket of its own (the camera answers to SCDA:SCP whatever the source port)
  const sender = dgram.createSocket({ type: 'udp4' });
  sender.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    sender.once('error', reject);
    sender.bind(0, options.address ?? '0.0.0.0', () => {
      sender.off('error', reject);
      resolve();
    });
  }).catch((e: unknown) => {
    binding.closeReceiver(native);
    throw e;
  });
  resend = new ResendRequester(sender, options.device, options.streamChannel ?? 0);
  const receiveBuffer: ReceiveBufferReport = { requested, granted: info.granted };
  if (info.capture === 'recvmmsg' && info.granted < requested) {
    receiveBuffer.advice =
      `the OS granted a ${info.granted}-byte receive buffer for ${requested} requested; raise the limit with ` +
      `"sysctl -w net.core.rmem_max=${requested}" (Linux) so bursts of a whole frame fit`;
  }
  let why = reason ?? '@cam/gvsp-native loaded (engine: auto)';
  if (info.capture === 'recvmmsg' && info.reason) why += `; recvmmsg because ${info.reason}`;
  const timer = setInterval(
    () => {
      if (Date.now() - lastTick >= tickMs) tick();
    },
    Math.max(tickMs, 4),
  );
  timer.unref?.();
  const take = frameTaker(engine, options);
  let closed = false;
  return {
    port: info.port,
    engine: { name: 'native', capture: info.capture, reason: why },
    receiveBuffer,
    counters: () => {
      engine.counters[Counter.foreignSourcePackets] = binding.stats(native).foreignPackets;
      return engine.counters;
    },
    take,
    readyCount: () => engine.readyCount,
    heldCount: () => engine.heldCount,
    onReady(cb) {
      onReady = cb;
    },
    setDevice(address, p) {
      if (resend) resend.device = { address, port: p };
      source.setDevice(address);
      applySource();
    },
    setPacketSize(size) {
      engine.setPacketSize(size);
    },
    probe(test, timeoutMs) {
      return new Promise<boolean>((resolve) => {
        const t = setTimeout(() => {
          prober = undefined;
          binding.setProbe(native, false);
          resolve(false);
        }, timeoutMs);
        prober = (n) => {
          if (!test(n)) return false;
          clearTimeout(t);
          resolve(true);
          return true;
        };
        binding.setProbe(native, true);
      });
    },
    nativeStats: () => binding.stats(native),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      binding.closeReceiver(native);
      engine.abortAll();
      await new Promise<void>((resolve) => sender.close(() => resolve()));
      onReady();
    },
  };
}
