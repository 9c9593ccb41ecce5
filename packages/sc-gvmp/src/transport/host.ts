import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import {
  abortReason,
  Backoff,
  type BackoffOptions,
  type CallOptions,
  deadlineSignal,
  interfaceFor,
  type PortLease,
  type PortPool,
  raceSignal,
  sleep,
  WireError,
} from '@cam/net-utils';
import {
  ErrorCode,
  errorCodeName,
  FrameFlag,
  HeaderOffset,
  isStreamState,
  type PayloadKindCode,
  SC_GVMP_HEADER_SIZE,
  type StreamStateName,
  streamStateName,
} from '../codec/constants.js';
import { createFrameFramer } from '../codec/decoder.js';
import { NoRouteToCameraError, ScGvmpDeviceError, SlowFrameError } from '../codec/errors.js';
import { checkMaxPayloadLength, type ScGvmpFrame } from '../codec/frame.js';
import { mcdaValue, mcpValue, resolveRegisterMap, type ScGvmpRegisterMap } from '../codec/registers.js';
import { FramePool } from './frame-pool.js';
import { SocketFrameQueue } from './frame-queue.js';
import { type ScGvmpCamera, type ScGvmpCameraLike, type ScGvmpRegisterAccess, toCamera } from './register-access.js';

/** Options of {@link startStream}. `signal`/`timeoutMs` bound the start (default timeout 10 s). */
export interface StartStreamOptions extends CallOptions {
  /** TCP port to listen on. Default: one from `portPool`, else an ephemeral port. */
  port?: number;
  /** Pool to take the listening port from (released when the stream stops). */
  portPool?: PortPool;
  /** Local address to listen on and write into MCDA. Default: the interface that reaches the camera (`interfaceFor`). */
  localAddress?: string;
  /** Register addresses on the camera; default {@link DEFAULT_REGISTER_MAP}. */
  registers?: Partial<ScGvmpRegisterMap>;
  /** Largest PayloadLen accepted; a larger announcement closes the connection. Default 64 MiB. */
  maxPayloadLength?: number;
  /** Write STREAM_START=1 again when STREAM_STATE becomes Error (note section 8). Default true. */
  autoRestart?: boolean;
  /** Delays between automatic restarts. Default 500 ms -> 1 s -> 2 s -> 4 s (capped), reset once Streaming. */
  restartBackoff?: BackoffOptions;
  /** How often STREAM_STATE and ERR_CODE are read while streaming. Default 250 ms. */
  pollIntervalMs?: number;
  /** Timeout of each register read/write. Default 1000 ms. */
  registerTimeoutMs?: number;
  /** Bytes of complete frames held for a slow consumer before TCP backpressure. Default 2 x maxPayloadLength capped to 64 MiB. */
  maxBufferedBytes?: number;
  /**
   * Assemble frames in reusable buffers from a {@link FramePool} (default true). Buffers are reused only when the
   * consumer hands a frame back with `frame.release()` once its payload is no longer needed (copy what you keep:
   * `frame.payload.slice()`); the next frames are then assembled in the same, already mapped memory instead of a
   * fresh buffer per frame (page faults and garbage collection of multi-MB buffers otherwise cost about as much as
   * the transfer itself). A frame that is not released is never overwritten: it stays the consumer's and is
   * garbage collected as usual, and the pool allocates anew (it never blocks and never drops a frame). So a
   * consumer that never calls `release()` behaves exactly as without a pool. `false`: `release()` does nothing.
   */
  reuseBuffers?: boolean;
  /**
   * Most bytes of released buffers kept for reuse (more are left to the GC; the pool is emptied when the stream
   * stops). Default `maxBufferedBytes` + 2 frames of `maxPayloadLength`, capped at 256 MiB.
   */
  maxPooledBytes?: number;
  /**
   * Read the camera's connection straight into the frame buffers (default true): the body of each frame is read by
   * the kernel directly into its (pooled) buffer, so a frame spanning TCP reads is never copied in user space, and no
   * Buffer is allocated per read. Node offers this (`onread`) only for sockets it connects, so the accepted socket's
   * handle is moved to a new socket (net-utils `readIntoUserBuffer`); where that is not possible the stream falls
   * back to `data` events by itself. `false` always uses `data` events.
   */
  directReads?: boolean;
  /**
   * Minimum data rate of the camera's connection while a frame is in progress, in bytes per second: a header that
   * announces a large payload followed by a trickle (a lying length, a slowloris) is cut with a SlowFrameError
   * after `frameGraceMs`, however often single bytes arrive. 0 turns the check off. Default 16384 (16 KiB/s).
   */
  minBytesPerSecond?: number;
  /** Time a frame in progress may take before {@link minBytesPerSecond} counts. Default 5000 ms. */
  frameGraceMs?: number;
}

/** A frame as delivered, with the number of frames missing before it (a Seq gap). */
export interface ReceivedFrame extends ScGvmpFrame {
  /** Frames lost between the previous frame of this session and this one (0 when in order). */
  missing: number;
  /**
   * Gives the frame's buffer back for reuse: `payload` must not be read afterwards (the next frame may be
   * assembled in it). Optional: a frame never released stays valid and is garbage collected. Does nothing with
   * `reuseBuffers: false`, for a frame that was a view of a TCP chunk, and when called again.
   */
  release(): void;
}

/** A delivered frame; `release` hands a pooled buffer back once. */
class HostFrame implements ReceivedFrame {
  readonly seq: number;
  readonly flags: number;
  readonly kind: PayloadKindCode;
  readonly keyFrame: boolean;
  readonly payload: Uint8Array;
  readonly missing: number;
  #pool: FramePool | null;

  constructor(seq: number, flags: number, payload: Uint8Array, missing: number, pool: FramePool | null) {
    this.seq = seq;
    this.flags = flags;
    this.kind = (flags & FrameFlag.kindMask) as PayloadKindCode;
    this.keyFrame = (flags & FrameFlag.keyFrame) !== 0;
    this.payload = payload;
    this.missing = missing;
    this.#pool = pool;
  }

  release(): void {
    const pool = this.#pool;
    if (pool === null) return;
    this.#pool = null;
    pool.release(this.payload);
  }
}

/** A change of STREAM_STATE as observed by polling. */
export interface StreamStateChange {
  state: StreamStateName;
  previous: StreamStateName | undefined;
  errCode: number;
}

/** Counters of a {@link ScGvmpStream}. */
export interface ScGvmpStreamStats {
  framesReceived: number;
  bytesReceived: number;
  /** Frames known missing from Seq gaps. */
  framesMissing: number;
  gaps: number;
  connections: number;
  /** Connections from peers other than the camera, closed at once. */
  refusedConnections: number;
  /** Connections closed by a framing error (bad magic, version, kind, size) or for sending under the minimum rate. */
  protocolErrors: number;
  /** Of those, connections cut for sending a frame slower than `minBytesPerSecond` (SlowFrameError). */
  slowFrames: number;
  restarts: number;
}

/** Events of a {@link ScGvmpStream}. */
export interface ScGvmpStreamEvents {
  state: [change: StreamStateChange];
  errorCode: [code: number, name: string];
  gap: [gap: { expected: number; received: number; missing: number }];
  connection: [peer: { address: string; port: number }];
  refused: [peer: { address: string; port: number }];
  /** The image connection ended; `error` is set when it ended badly (reset mid-frame, framing error). */
  disconnect: [info: { error?: Error }];
  restart: [info: { attempt: number }];
  /** A non-fatal problem (a failed register poll, a refused restart). */
  warning: [error: Error];
}

const DEFAULT_RESTART_BACKOFF: BackoffOptions = { initialMs: 500, factor: 2, maxMs: 4000 };

/**
 * Starts an SC_GVMP stream from `camera` (`{ address, registers }`, or directly a `GvcpClient`): listens on a TCP port of the local interface that reaches the camera,
 * writes MCDA, MCP, then STREAM_START=1 (the note's order), and resolves once STREAM_STATE reads Streaming.
 * Throws {@link ScGvmpDeviceError} (with the device's ERR_CODE) when the device refuses or fails, having undone
 * everything (STREAM_START=0 only when its STREAM_START=1 had been accepted, the port closed): a start refused
 * with ERR_STREAM_BUSY leaves the session already running untouched.
 */
export async function startStream(
  cameraLike: ScGvmpCameraLike,
  options: StartStreamOptions = {},
): Promise<ScGvmpStream> {
  const camera = toCamera(cameraLike);
  const map = resolveRegisterMap(options.registers);
  const maxPayloadLength = checkMaxPayloadLength(options.maxPayloadLength);
  const localAddress = options.localAddress ?? interfaceFor(camera.address)?.address;
  if (localAddress === undefined) throw new NoRouteToCameraError(camera.address);
  using deadline = deadlineSignal(
    { signal: options.signal, timeoutMs: options.timeoutMs ?? 10_000 },
    'SC_GVMP stream start',
  );
  const listener = await listen(localAddress, options, deadline.signal);
  const stream = new ScGvmpStream(camera, map, listener, localAddress, maxPayloadLength, options);
  try {
    await stream.begin(deadline.signal);
  } catch (error) {
    await stream.abandon();
    throw error;
  }
  return stream;
}

interface Listener {
  server: Server;
  port: number;
  release(): Promise<void>;
}

async function listen(host: string, options: StartStreamOptions, signal: AbortSignal): Promise<Listener> {
  if (options.port === undefined && options.portPool !== undefined) {
    const lease: PortLease<Server> = await raceSignal(options.portPool.acquireTcp({ host }), signal);
    return { server: lease.handle, port: lease.port, release: () => lease.release() };
  }
  const server = createServer({ pauseOnConnect: true });
  await raceSignal(
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: options.port ?? 0, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    }),
    signal,
  ).catch((error: unknown) => {
    server.close();
    throw error;
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    server,
    port,
    release: () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
  };
}

/**
 * A running SC_GVMP stream (host side). Iterate it (once) for frames; `stop()` ends it. Frames from a connection
 * that breaks mid-frame are never delivered partially; a new connection from the camera (after the device's own
 * reconnect or an automatic restart) continues the same iteration.
 */
export class ScGvmpStream
  extends EventEmitter<ScGvmpStreamEvents>
  implements AsyncDisposable, AsyncIterable<ReceivedFrame>
{
  readonly camera: ScGvmpCamera;
  readonly registers: Readonly<ScGvmpRegisterMap>;
  /** The local address written into MCDA. */
  readonly localAddress: string;
  /** The TCP port written into MCP. */
  readonly port: number;
  readonly maxPayloadLength: number;
  /** The buffer pool frames are assembled in, with its counters; null with `reuseBuffers: false`. */
  readonly pool: FramePool | null;
  readonly stats: ScGvmpStreamStats = {
    framesReceived: 0,
    bytesReceived: 0,
    framesMissing: 0,
    gaps: 0,
    connections: 0,
    refusedConnections: 0,
    protocolErrors: 0,
    slowFrames: 0,
    restarts: 0,
  };
  private readonly access: ScGvmpRegisterAccess;
  private readonly listener: Listener;
  private readonly autoRestart: boolean;
  private readonly restartBackoff: Backoff;
  private readonly pollIntervalMs: number;
  private readonly registerTimeoutMs: number;
  private readonly maxBufferedBytes: number;
  private readonly directReads: boolean;
  private readonly framerOptions: { maxPayloadLength: number };
  private readonly minRate: { bytesPerSecond: number; graceMs: number };
  /** Aborted when the stream stops: ends the iteration and the monitor. */
  private readonly life = new AbortController();
  private pending: Socket | null = null;
  private active: Socket | null = null;
  private wakeConnection: (() => void) | null = null;
  private wakeMonitor: (() => void) | null = null;
  private monitorDone: Promise<void> = Promise.resolve();
  private iterating = false;
  private stopped: Promise<void> | null = null;
  private lastSeq: number | undefined;
  private _state: StreamStateName | undefined;
  private _errCode: number = ErrorCode.ERR_NONE;
  private nextRestartAt = 0;
  /** Set when the device went Idle on its own: the iteration ends with it. */
  private endedByDevice: ScGvmpDeviceError | undefined;
  /** STREAM_START=1 of the start was accepted (so a failed start must write 0 to undo it). */
  private startAccepted = false;

  /** @internal Use {@link startStream}. */
  constructor(
    camera: ScGvmpCamera,
    registers: ScGvmpRegisterMap,
    listener: Listener,
    localAddress: string,
    maxPayloadLength: number,
    options: StartStreamOptions,
  ) {
    super();
    this.camera = camera;
    this.access = camera.registers;
    this.registers = Object.freeze({ ...registers });
    this.listener = listener;
    this.port = listener.port;
    this.localAddress = localAddress;
    this.maxPayloadLength = maxPayloadLength;
    this.framerOptions = { maxPayloadLength };
    this.autoRestart = options.autoRestart ?? true;
    this.restartBackoff = new Backoff(options.restartBackoff ?? DEFAULT_RESTART_BACKOFF);
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.registerTimeoutMs = options.registerTimeoutMs ?? 1000;
    this.directReads = options.directReads ?? true;
    this.minRate = {
      bytesPerSecond: nonNegative(options.minBytesPerSecond ?? 16 * 1024, 'minBytesPerSecond'),
      graceMs: nonNegative(options.frameGraceMs ?? 5000, 'frameGraceMs'),
    };
    this.maxBufferedBytes =
      options.maxBufferedBytes ?? Math.min(64 * 1024 * 1024, Math.max(1 << 20, 2 * maxPayloadLength));
    this.pool =
      (options.reuseBuffers ?? true)
        ? new FramePool({
            maxPooledBytes:
              options.maxPooledBytes ??
              Math.min(256 * 1024 * 1024, this.maxBufferedBytes + 2 * (maxPayloadLength + SC_GVMP_HEADER_SIZE)),
          })
        : null;
    listener.server.on('connection', (socket) => this.onConnection(socket));
  }

  /** Last STREAM_STATE read from the camera. */
  get state(): StreamStateName | undefined {
    return this._state;
  }

  /** Last ERR_CODE read from the camera. */
  get errCode(): number {
    return this._errCode;
  }

  /** True once `stop()` or `close()` was called. */
  get closed(): boolean {
    return this.stopped !== null;
  }

  /** @internal The start sequence of {@link startStream}. */
  async begin(signal: AbortSignal): Promise<void> {
    const r = this.registers;
    await this.writeChecked(r.mcda, mcdaValue(this.localAddress), signal, 'MCDA');
    await this.writeChecked(r.mcp, mcpValue(this.port), signal, 'MCP');
    await this.writeChecked(r.streamStart, 1, signal, 'STREAM_START=1');
    this.startAccepted = true;
    for (;;) {
      const state = await this.pollOnce(signal);
      if (state === 'Streaming') break;
      if (state === 'Error') {
        const code = this._errCode;
        throw new ScGvmpDeviceError(code, 'the stream did not start');
      }
      // The camera's connection is already here: its STREAM_STATE flips to Streaming any moment (the device may
      // answer the read before it handles its own connect); ask again soon instead of after a poll interval.
      await this.sleepOrWake(this.pending !== null ? 2 : Math.min(this.pollIntervalMs, 50), signal);
    }
    this.restartBackoff.reset();
    this.monitorDone = this.monitor();
  }

  /**
   * Frames as they arrive (one consumer). Ends after `stop()`; `signal` ends it early. When the device ends the
   * session on its own (STREAM_STATE reads Idle without `stop()`), the iteration throws a ScGvmpDeviceError with
   * the device's ERR_CODE (ERR_NO_SESSION when its control-channel session expired).
   */
  async *frames(options: { signal?: AbortSignal } = {}): AsyncGenerator<ReceivedFrame, void, undefined> {
    if (this.iterating) throw new Error('an SC_GVMP stream can be iterated only once at a time');
    this.iterating = true;
    const signal = options.signal ? AbortSignal.any([this.life.signal, options.signal]) : this.life.signal;
    try {
      while (!signal.aborted) {
        const socket = await this.nextConnection(signal);
        if (socket === null) break;
        const pool = this.pool;
        const direct = this.directReads;
        const framer = createFrameFramer({
          ...(pool
            ? { maxPayloadLength: this.maxPayloadLength, allocate: (size: number) => pool.allocate(size) }
            : this.framerOptions),
          ...(direct ? { copyWholeFrames: true } : {}),
        });
        let failure: Error | undefined;
        const frames = new SocketFrameQueue(socket, framer, {
          signal,
          maxBufferedBytes: this.maxBufferedBytes,
          direct,
          minRate: this.minRate,
        });
        if (this.active === socket) this.active = frames.socket;
        try {
          for (;;) {
            const raw = frames.shift();
            if (raw !== undefined) yield this.accept(raw, pool?.owns(raw) ? pool : null);
            else if (frames.done) break;
            else await frames.wait();
          }
        } catch (error) {
          if (signal.aborted) break;
          failure = error as Error;
          if (WireError.isInstance(failure) && !isConnectionError(failure)) this.stats.protocolErrors++;
          if (SlowFrameError.isInstance(failure)) this.stats.slowFrames++;
        } finally {
          frames.detach();
          frames.socket.destroy();
          socket.destroy();
          if (this.active === socket || this.active === frames.socket) this.active = null;
        }
        this.emit('disconnect', failure ? { error: failure } : {});
        this.wakeMonitor?.();
      }
      if (this.endedByDevice) throw this.endedByDevice;
    } finally {
      this.iterating = false;
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<ReceivedFrame> {
    return this.frames();
  }

  /**
   * Writes STREAM_START=0 and waits until STREAM_STATE reads Idle (default timeout 5 s); closes the port and ends
   * the iteration in any case. Idempotent.
   */
  stop(options: CallOptions = {}): Promise<void> {
    this.stopped ??= this.doStop(options);
    return this.stopped;
  }

  /** Like {@link stop}, never rejecting. */
  async close(): Promise<void> {
    await this.stop().catch(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** @internal Undo a failed start: STREAM_START=0 (best effort), close everything. */
  async abandon(): Promise<void> {
    this.stopped ??= (async () => {
      this.life.abort();
      if (this.startAccepted) {
        await this.write(this.registers.streamStart, 0, AbortSignal.timeout(this.registerTimeoutMs)).catch(() => {});
      }
      await this.teardown();
    })();
    await this.stopped;
  }

  private async doStop(options: CallOptions): Promise<void> {
    this.life.abort();
    this.wakeMonitor?.();
    await this.monitorDone;
    using deadline = deadlineSignal(
      { signal: options.signal, timeoutMs: options.timeoutMs ?? 5000 },
      'SC_GVMP stream stop',
    );
    try {
      await this.write(this.registers.streamStart, 0, deadline.signal);
      for (;;) {
        const state = await this.pollOnce(deadline.signal);
        if (state === 'Idle') break;
        await sleep(Math.min(this.pollIntervalMs, 50), deadline.signal);
      }
    } finally {
      await this.teardown();
    }
  }

  private async teardown(): Promise<void> {
    this.pending?.destroy();
    this.active?.destroy();
    this.pending = this.active = null;
    this.wakeConnection?.();
    this.listener.server.removeAllListeners('connection');
    this.pool?.close(); // frames still out may be released later: their buffers go to the GC
    await this.listener.release();
  }

  private onConnection(socket: Socket): void {
    const address = normalizeAddress(socket.remoteAddress);
    const peer = { address, port: socket.remotePort ?? 0 };
    if (address !== this.camera.address || this.life.signal.aborted) {
      this.stats.refusedConnections++;
      socket.destroy();
      if (!this.life.signal.aborted) this.emit('refused', peer);
      return;
    }
    this.stats.connections++;
    socket.on('error', () => {}); // reported through the frame reader
    // One image connection at a time: a new one from the camera replaces the old (it reconnected).
    this.pending?.destroy();
    this.active?.destroy();
    this.pending = socket;
    this.emit('connection', peer);
    this.wakeConnection?.();
    // A start waiting for STREAM_STATE=Streaming reads it again now rather than after its poll interval.
    this.wakeMonitor?.();
  }

  private async nextConnection(signal: AbortSignal): Promise<Socket | null> {
    while (this.pending === null) {
      if (signal.aborted) return null;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          this.wakeConnection = null;
          resolve();
        };
        this.wakeConnection = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    const socket = this.pending;
    this.pending = null;
    this.active = socket;
    if (signal.aborted) {
      socket.destroy();
      return null;
    }
    return socket;
  }

  /** One complete frame from the framer (header validated there): counters, Seq gap, the delivered object. */
  private accept(raw: Uint8Array, pool: FramePool | null): ReceivedFrame {
    const s = HeaderOffset.seq;
    const flags = raw[HeaderOffset.flags]!;
    const seq = ((raw[s]! << 24) | (raw[s + 1]! << 16) | (raw[s + 2]! << 8) | raw[s + 3]!) >>> 0;
    const payload = raw.subarray(SC_GVMP_HEADER_SIZE);
    this.stats.framesReceived++;
    this.stats.bytesReceived += payload.byteLength;
    let missing = 0;
    if (this.lastSeq !== undefined) {
      const expected = (this.lastSeq + 1) >>> 0;
      const ahead = (seq - expected) >>> 0;
      // A backward jump (more than half the u32 range "ahead") is a renumbered session, not a loss.
      if (ahead !== 0 && ahead < 0x80000000) {
        missing = ahead;
        this.stats.gaps++;
        this.stats.framesMissing += missing;
        this.emit('gap', { expected, received: seq, missing });
      }
    }
    this.lastSeq = seq;
    return new HostFrame(seq, flags, payload, missing, pool);
  }

  /** Polls STREAM_STATE and ERR_CODE until stopped; restarts on Error when enabled. */
  private async monitor(): Promise<void> {
    const signal = this.life.signal;
    while (!signal.aborted) {
      try {
        const state = await this.pollOnce(signal);
        if (state === 'Idle' && !signal.aborted) {
          // Someone else wrote STREAM_START=0, or the device ended the session (ERR_NO_SESSION): end the stream.
          this.endedByDevice = new ScGvmpDeviceError(
            this._errCode,
            'the stream ended on the device (STREAM_STATE Idle)',
          );
          this.life.abort();
          this.stopped ??= this.teardown();
          return;
        }
        if (state === 'Streaming') this.restartBackoff.reset();
        else if (state === 'Error' && this.autoRestart && Date.now() >= this.nextRestartAt) await this.restart(signal);
      } catch (error) {
        if (signal.aborted) return;
        this.emit('warning', error as Error);
      }
      await this.sleepOrWake(this.pollIntervalMs, signal).catch(() => {});
    }
  }

  private async restart(signal: AbortSignal): Promise<void> {
    this.nextRestartAt = Date.now() + this.restartBackoff.next();
    this.stats.restarts++;
    this.emit('restart', { attempt: this.restartBackoff.attempts });
    try {
      await this.writeChecked(this.registers.streamStart, 1, signal, 'automatic restart');
      this.lastSeq = undefined; // the device numbers a new session from 0
    } catch (error) {
      // BUSY: the device reconnected on its own meanwhile; nothing to do.
      if (!(error instanceof ScGvmpDeviceError && error.errCode === ErrorCode.ERR_STREAM_BUSY)) throw error;
    }
  }

  /** Writes a register; a refusal becomes a ScGvmpDeviceError with the device's ERR_CODE when it has one. */
  private async writeChecked(address: number, value: number, signal: AbortSignal, what: string): Promise<void> {
    try {
      await this.write(address, value, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      const code = await this.read(this.registers.errCode, signal).catch(() => undefined);
      if (code !== undefined && code !== ErrorCode.ERR_NONE) {
        this.noteErrCode(code & 0xffff);
        throw new ScGvmpDeviceError(code & 0xffff, `${what} refused`, { cause: error });
      }
      throw error;
    }
  }

  /** Reads STREAM_STATE and ERR_CODE, emitting changes. */
  private async pollOnce(signal: AbortSignal): Promise<StreamStateName> {
    const raw = await this.read(this.registers.streamState, signal);
    const errCode = (await this.read(this.registers.errCode, signal)) & 0xffff;
    this.noteErrCode(errCode);
    const code = raw & 0xff;
    if (!isStreamState(code)) throw new ScGvmpDeviceError(raw, `STREAM_STATE holds ${raw}, not 0..3`);
    const state = streamStateName(code)!;
    if (state !== this._state) {
      const previous = this._state;
      this._state = state;
      this.emit('state', { state, previous, errCode });
    }
    return state;
  }

  private noteErrCode(code: number): void {
    if (code === this._errCode) return;
    this._errCode = code;
    this.emit('errorCode', code, errorCodeName(code) ?? String(code));
  }

  private read(address: number, signal: AbortSignal): Promise<number> {
    return this.access.readRegister(address, { signal, timeoutMs: this.registerTimeoutMs });
  }

  private write(address: number, value: number, signal: AbortSignal): Promise<void> {
    return this.access.writeRegister(address, value, { signal, timeoutMs: this.registerTimeoutMs });
  }

  /** Sleeps `ms`, or less when a disconnect wakes the monitor; rejects when `signal` fires. */
  private sleepOrWake(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const wake = new AbortController();
    this.wakeMonitor = () => wake.abort();
    return sleep(ms, AbortSignal.any([signal, wake.signal]))
      .catch((error: unknown) => {
        if (signal.aborted) throw error;
      })
      .finally(() => {
        this.wakeMonitor = null;
      });
  }
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number >= 0, not ${value}`);
  return value;
}

function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Errors that mean "the connection broke" rather than "the peer sent bad bytes". */
function isConnectionError(error: Error): boolean {
  return error.name === 'TruncatedError' || error.name === 'AbortError';
}
