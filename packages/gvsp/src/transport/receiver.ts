import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import {
  AbortError,
  abortReason,
  type CallOptions,
  deadlineSignal,
  ProtocolError,
  ValueOutOfRangeError,
} from '@cam/net-utils';
import { encodePacketResend } from '../codec/packet-resend.js';
import { buildFrame, type GvspFrame } from '../engine/frame.js';
import { Counter, type CounterName, GvspReassembler, type ReassemblerOptions } from '../engine/reassembler.js';

/** Receive-buffer outcome: what was asked, what the OS granted, what to do if it is small. */
export interface ReceiveBufferReport {
  requested: number;
  granted: number;
  /** Present when the grant is below the request. */
  advice?: string;
}

export interface GvspReceiverOptions extends Omit<ReassemblerOptions, 'allocate' | 'allocateLeader'> {
  /** UDP port to bind (0 = any free one). */
  port?: number;
  /** Local address to bind (default 0.0.0.0). */
  address?: string;
  /** Where PACKETRESEND goes: the device's GVCP address (default: the source address of the first packet, port 3956). */
  device?: { address: string; port?: number };
  /** Stream channel index written into PACKETRESEND (default 0). */
  streamChannel?: number;
  /** Socket receive buffer to request in bytes (default 32 MiB). */
  receiveBufferSize?: number;
  /** Deliver frames as copies and keep no buffer from the pool (default false: views; call `frame.release()`). */
  copyFrames?: boolean;
  /** Deliver frames that ended incomplete (default true; they carry a non-`complete` status). */
  deliverIncomplete?: boolean;
  /**
   * Byte order the camera uses for 10..16-bit unpacked pixels. PFNC says little-endian; some cameras send
   * big-endian, set `'big'` and frames are swapped to little-endian on delivery (seed 001's `byteswap`).
   */
  pixelByteOrder?: 'little' | 'big';
  /** Timer period for resends and retention, ms (default 1). */
  tickMs?: number;
  /** Run the receive loop in a worker thread; frames come back through a SharedArrayBuffer pool, no copy. */
  worker?: boolean;
  /**
   * Receive engine: `'native'` (@cam/gvsp-native: datagrams in batches, payloads placed by native code, resend
   * scheduling here), `'js'` (Node's dgram), or `'auto'` (default): native when @cam/gvsp-native loads and
   * `worker` is not set, else js. {@link GvspReceiver.engine} says which runs and why.
   */
  engine?: 'auto' | 'js' | 'native';
  /**
   * How the native engine captures (default `'auto'`): `'packet-ring'` (an AF_PACKET TPACKET_V3 ring with a BPF
   * filter for the port; needs CAP_NET_RAW), `'recvmmsg'`, or `'auto'`: the ring when permitted, else recvmmsg.
   */
  capture?: 'auto' | 'recvmmsg' | 'packet-ring';
  signal?: AbortSignal;
}

export type GvspReceiverCounters = Record<CounterName, number>;

/** Which receive engine runs, and why. */
export interface ReceiveEngineReport {
  name: 'js' | 'native';
  /** How datagrams are read: Node's dgram (main thread or worker), recvmmsg batches or the packet ring. */
  capture: 'dgram' | 'dgram-worker' | 'recvmmsg' | 'packet-ring';
  reason: string;
}

export interface GvspReceiverStats extends GvspReceiverCounters {
  /** Frames completed per second over the last few seconds. */
  frameRate: number;
  /** Payload bytes per second over the same window. */
  bytesPerSecond: number;
  receiveBuffer: ReceiveBufferReport;
  /** Frames waiting for the consumer and buffers the consumer holds. */
  queued: number;
  held: number;
}

/** @internal */
export function countersFrom(arr: Float64Array): GvspReceiverCounters {
  const out = {} as GvspReceiverCounters;
  for (const [k, i] of Object.entries(Counter)) out[k as CounterName] = arr[i] ?? 0;
  return out;
}

const DEFAULT_RCVBUF = 32 * 1024 * 1024;

/** Frame source behind a receiver: the engine in this thread or in a worker. */
export interface EngineHost {
  readonly port: number;
  readonly engine: ReceiveEngineReport;
  readonly receiveBuffer: ReceiveBufferReport;
  counters(): Float64Array;
  /** Takes the next ended frame, or undefined. */
  take(): GvspFrame | undefined;
  readyCount(): number;
  heldCount(): number;
  onReady(cb: () => void): void;
  setDevice(address: string, port: number): void;
  setPacketSize(size: number): void;
  /** Calls `cb` with the length of every datagram until it returns true or `timeoutMs` passes; resolves whether it did. */
  probe(test: (length: number) => boolean, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Receives a GVSP stream on a UDP port and reassembles frames into a preallocated pool, asking the device to
 * resend missing packets. Frames come out of {@link frames} (an async iterable) or {@link nextFrame}.
 *
 * ```ts
 * await using rx = await GvspReceiver.open({ payloadSize: 640 * 480, packetSize: 1500 });
 * for await (const frame of rx.frames()) { use(frame.data); frame.release(); }
 * ```
 */
export class GvspReceiver implements AsyncDisposable {
  private readonly host: EngineHost;
  private readonly waiters: { resolve: (f: GvspFrame | undefined) => void; reject: (e: Error) => void }[] = [];
  private closed = false;
  private readonly completions: number[] = [];
  private readonly completionBytes: number[] = [];
  private readonly closeListeners: (() => void)[] = [];

  private constructor(host: EngineHost) {
    this.host = host;
    host.onReady(() => this.pump());
  }

  /** Binds the socket and starts receiving. */
  static async open(options: GvspReceiverOptions): Promise<GvspReceiver> {
    const host = await openHost(options);
    const rx = new GvspReceiver(host);
    if (options.signal) {
      const onAbort = (): void => void rx.close();
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
      rx.closeListeners.push(() => options.signal?.removeEventListener('abort', onAbort));
    }
    return rx;
  }

  /** Which receive engine runs (`js` or `native`), how it reads datagrams, and why it was chosen. */
  get engine(): ReceiveEngineReport {
    return this.host.engine;
  }

  /** The bound UDP port (tell the device: SCP). */
  get port(): number {
    return this.host.port;
  }

  get receiveBuffer(): ReceiveBufferReport {
    return this.host.receiveBuffer;
  }

  /** Sets where PACKETRESEND commands go. */
  setDevice(address: string, port = 3956): void {
    this.host.setDevice(address, port);
  }

  /** Sets the SCPS packet size (after negotiating it with the device). */
  setPacketSize(size: number): void {
    this.host.setPacketSize(size);
  }

  /**
   * Waits for a test packet (the device sends one when SCPS bit 31 is written): resolves true when a datagram of
   * `packetSize - 28` bytes arrives within `timeoutMs`.
   */
  waitForTestPacket(packetSize: number, timeoutMs = 200): Promise<boolean> {
    return this.host.probe((n) => n === packetSize - 28, timeoutMs);
  }

  private pump(): void {
    while (this.waiters.length > 0 && this.host.readyCount() > 0) {
      const f = this.host.take();
      if (!f) break;
      this.noteFrame(f);
      this.waiters.shift()!.resolve(f);
    }
  }

  private noteFrame(f: GvspFrame): void {
    if (f.status !== 'complete') return;
    const now = performance.now();
    this.completions.push(now);
    this.completionBytes.push(f.data.byteLength);
    while (this.completions.length > 0 && now - this.completions[0]! > 3000) {
      this.completions.shift();
      this.completionBytes.shift();
    }
  }

  /** The next frame (complete or not), or undefined once the receiver is closed. */
  nextFrame(options: CallOptions = {}): Promise<GvspFrame | undefined> {
    if (this.host.readyCount() > 0 && this.waiters.length === 0) {
      const f = this.host.take();
      if (f) {
        this.noteFrame(f);
        return Promise.resolve(f);
      }
    }
    if (this.closed) return Promise.resolve(undefined);
    if (options.signal === undefined && options.timeoutMs === undefined) {
      // nothing can cancel the wait: skip the AbortController (an EventTarget) per frame
      return new Promise<GvspFrame | undefined>((resolve, reject) => {
        this.waiters.push({ resolve, reject });
      });
    }
    const d = deadlineSignal(options, 'waiting for a GVSP frame');
    return new Promise<GvspFrame | undefined>((resolve, reject) => {
      const waiter = {
        resolve: (f: GvspFrame | undefined) => {
          d.dispose();
          d.signal.removeEventListener('abort', onAbort);
          resolve(f);
        },
        reject: (e: Error) => {
          d.dispose();
          reject(e);
        },
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        d.dispose();
        reject(abortReason(d.signal));
      };
      if (d.signal.aborted) {
        onAbort();
        return;
      }
      d.signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /**
   * Frames as they end, until the receiver closes or `signal` fires. A frame's buffer is given back when the
   * loop moves on to the next frame unless you called nothing (it is released for you) - keep it longer by
   * copying `frame.data`, or open the receiver with `copyFrames`.
   */
  async *frames(
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): AsyncGenerator<GvspFrame, void, undefined> {
    let previous: GvspFrame | undefined;
    try {
      for (;;) {
        let f: GvspFrame | undefined;
        try {
          f = await this.nextFrame({ signal: options.signal, timeoutMs: options.timeoutMs });
        } catch (e) {
          if (AbortError.isInstance(e) || (e instanceof Error && e === options.signal?.reason)) return;
          throw e;
        }
        previous?.release();
        previous = f;
        if (!f) return;
        yield f;
      }
    } finally {
      previous?.release();
    }
  }

  /** Counters (Aravis-compatible names and more), frame rate and bandwidth. */
  stats(): GvspReceiverStats {
    const c = countersFrom(this.host.counters());
    const n = this.completions.length;
    let frameRate = 0;
    let bytesPerSecond = 0;
    if (n >= 2) {
      const span = (this.completions[n - 1]! - this.completions[0]!) / 1000;
      if (span > 0) {
        frameRate = (n - 1) / span;
        let b = 0;
        for (let i = 1; i < n; i++) b += this.completionBytes[i]!;
        bytesPerSecond = b / span;
      }
    }
    return {
      ...c,
      frameRate,
      bytesPerSecond,
      receiveBuffer: this.host.receiveBuffer,
      queued: this.host.readyCount(),
      held: this.host.heldCount(),
    };
  }

  /** Stops receiving; frames in progress end as aborted, pending `nextFrame` calls resolve undefined. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners) l();
    await this.host.close();
    for (const w of this.waiters.splice(0)) w.resolve(undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Binds a UDP socket with a large receive buffer; reports what was granted. */
export async function bindStreamSocket(
  options: Pick<GvspReceiverOptions, 'port' | 'address' | 'receiveBufferSize'>,
): Promise<{ socket: dgram.Socket; receiveBuffer: ReceiveBufferReport }> {
  const requested = options.receiveBufferSize ?? DEFAULT_RCVBUF;
  const socket = dgram.createSocket({ type: 'udp4' });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    socket.once('error', onError);
    socket.bind(options.port ?? 0, options.address ?? '0.0.0.0', () => {
      socket.off('error', onError);
      resolve();
    });
  });
  try {
    socket.setRecvBufferSize(requested);
  } catch {
    // the OS refused the size outright; what it kept is reported below
  }
  // Linux doubles the value it stores (bookkeeping overhead) and caps the request at net.core.rmem_max
  const granted = socket.getRecvBufferSize();
  const receiveBuffer: ReceiveBufferReport = { requested, granted };
  if (granted < requested) {
    receiveBuffer.advice =
      `the OS granted a ${granted}-byte receive buffer for ${requested} requested; raise the limit with ` +
      `"sysctl -w net.core.rmem_max=${requested}" (Linux) so bursts of a whole frame fit`;
  }
  return { socket, receiveBuffer };
}

/**
 * Sends PACKETRESEND from the stream socket to the camera's GVCP port without asking for an ack, as Aravis does:
 * one small datagram per resend request, never per packet. Shared by the main-thread and worker receive loops.
 */
export class ResendRequester {
  /** Where requests go; learnt from the first stream packet when not given. */
  device: { address: string; port: number } | undefined;
  private reqId = 0;

  constructor(
    private readonly socket: dgram.Socket,
    device: { address: string; port?: number } | undefined,
    private readonly streamChannel: number,
  ) {
    this.device = device ? { address: device.address, port: device.port ?? 3956 } : undefined;
  }

  /** Takes the sender of a stream packet as the camera when none is known yet. */
  learn(address: string): void {
    if (this.device === undefined) this.device = { address, port: 3956 };
  }

  request(blockId: number | bigint, first: number, last: number, extendedId: boolean): void {
    const device = this.device;
    if (!device) return;
    this.reqId = this.reqId >= 0xffff ? 1 : this.reqId + 1;
    const cmd = encodePacketResend({
      reqId: this.reqId,
      ackRequired: false,
      extendedId,
      streamChannel: this.streamChannel,
      blockId: BigInt(blockId),
      firstPacketId: first,
      lastPacketId: last,
    });
    this.socket.send(cmd, device.port, device.address);
  }
}

async function openHost(options: GvspReceiverOptions): Promise<EngineHost> {
  const want = options.engine ?? 'auto';
  if (want !== 'auto' && want !== 'js' && want !== 'native') {
    throw new ValueOutOfRangeError('engine', `${String(want)} is not 'auto', 'js' or 'native'`);
  }
  if (want === 'native' && options.worker) {
    throw new ValueOutOfRangeError('worker', "engine 'native' receives on the event loop itself; worker is for 'js'");
  }
  const openJs = async (reason: string): Promise<EngineHost> =>
    options.worker
      ? (await import('./worker-host.js')).openWorkerHost(options, reason)
      : openLocalHost(options, reason);
  if (want === 'js') return openJs("asked for (engine: 'js')");
  if (options.worker) return openJs("worker: true runs the JavaScript engine in a worker thread (engine: 'auto')");
  const native = await import('./native-host.js');
  const loaded = await native.loadNativeBinding();
  if ('error' in loaded) {
    if (want === 'native') throw new ProtocolError(`engine 'native' is unavailable: ${loaded.error}`);
    return openJs(`@cam/gvsp-native is unavailable (${loaded.error})`);
  }
  return native.openNativeHost(options, loaded.binding, want === 'native' ? "asked for (engine: 'native')" : undefined);
}

/** The frame hand-over of an engine in this thread: takes ended slots and builds frames (views or copies). */
export function frameTaker(
  engine: GvspReassembler,
  options: Pick<GvspReceiverOptions, 'copyFrames' | 'deliverIncomplete' | 'pixelByteOrder'>,
): () => GvspFrame | undefined {
  const copy = options.copyFrames ?? false;
  const deliverIncomplete = options.deliverIncomplete ?? true;
  const swap16 = options.pixelByteOrder === 'big';
  return () => {
    for (;;) {
      const slot = engine.take();
      if (slot < 0) return undefined;
      if (!deliverIncomplete && engine.status[slot] !== 0) {
        engine.release(slot);
        continue;
      }
      return buildFrame(
        {
          status: engine.status[slot]!,
          blockId: engine.blockIds[slot]!,
          dataEnd: engine.dataEnd[slot]!,
          expected: engine.expectedCount[slot]!,
          received: engine.receivedCount[slot]!,
          resent: engine.resentCount[slot]!,
          leader: engine.leaders[slot]!.subarray(0, engine.leaderLength[slot]!),
          trailer: engine.trailers[slot]!.subarray(0, engine.trailerLength[slot]!),
        },
        engine.buffers[slot]!,
        { copy, swap16, release: () => engine.release(slot) },
      );
    }
  };
}

async function openLocalHost(options: GvspReceiverOptions, reason: string): Promise<EngineHost> {
  const { socket, receiveBuffer } = await bindStreamSocket(options);
  const resend = new ResendRequester(socket, options.device, options.streamChannel ?? 0);
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
  engine.tick(Date.now());
  let prober: ((length: number) => boolean) | undefined;
  const tickMs = Math.max(1, options.tickMs ?? 1);
  // Date.now() (a small integer) rather than performance.now(): the check runs per packet and must not allocate
  let lastTick = Date.now();
  const tick = (): void => {
    lastTick = Date.now();
    engine.tick(lastTick);
  };
  socket.on('message', (msg, rinfo) => {
    resend.learn(rinfo.address);
    if (prober?.(msg.length)) prober = undefined;
    // while packets flow, the timers run from here (one clock read per packet) instead of 1000 wakeups a second
    if (Date.now() - lastTick >= tickMs) tick();
    try {
      engine.handlePacket(msg, msg.length);
    } catch {
      // the engine counts and drops bad datagrams itself; this only keeps a missed case from ending the process
      engine.counters[Counter.malformedPackets]!++;
    }
  });
  socket.on('error', () => {
    // ICMP errors (e.g. port unreachable after a resend) must not end the stream
  });
  // when the stream goes quiet (tail loss, end of stream) a timer keeps resends and retention going
  const timer = setInterval(
    () => {
      if (Date.now() - lastTick >= tickMs) tick();
    },
    Math.max(tickMs, 4),
  );
  timer.unref?.();
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
      clearInterval(timer);
      engine.abortAll();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      onReady();
    },
  };
}
