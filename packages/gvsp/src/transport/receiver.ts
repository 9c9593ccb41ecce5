import { performance } from 'node:perf_hooks';
import {
  AbortError,
  abortReason,
  type CallOptions,
  deadlineSignal,
  ProtocolError,
  ValueOutOfRangeError,
} from '@cam/net-utils';
import type { GvspFrame } from '../engine/frame.js';
import { Counter, type CounterName } from '../engine/reassembler.js';
import type { EngineHost, GvspReceiverOptions, ReceiveBufferReport, ReceiveEngineReport } from './engine-host.js';
import { openLocalHost } from './local-host.js';

export type GvspReceiverCounters = Record<CounterName, number>;

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
  if (options.sourcePort && loaded.binding.sourcePorts !== true) {
    // a binary built before setSource took the port: it could not keep other ports out
    const why = '@cam/gvsp-native was built without the source-port check (rebuild it)';
    if (want === 'native') throw new ProtocolError(`engine 'native' cannot check sourcePort: ${why}`);
    return openJs(why);
  }
  return native.openNativeHost(options, loaded.binding, want === 'native' ? "asked for (engine: 'native')" : undefined);
}
