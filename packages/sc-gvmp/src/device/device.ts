import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { GvcpStatus } from '@cam/gvcp/codec';
import { Backoff, type BackoffOptions, u32ToIpv4, ValueOutOfRangeError } from '@cam/net-utils';
import {
  ErrorCode,
  ErrorCodeGvcpStatus,
  type ErrorCodeValue,
  errorCodeName,
  SC_GVMP_HEADER_SIZE,
  StreamState,
  type StreamStateCode,
  type StreamStateName,
  streamStateName,
} from '../codec/constants.js';
import { ScGvmpRegisterWriteError, WriteStallError } from '../codec/errors.js';
import { encodeFrameHeaderInto, frameFlags } from '../codec/frame.js';
import { resolveRegisterMap, type ScGvmpRegisterMap } from '../codec/registers.js';
import type { TestPatternOptions } from '../codec/test-pattern.js';
import type { RegisterRequestContext, ScGvmpRegisterHost } from './register-host.js';
import { type FrameSource, type SourceFrame, testPatternSource } from './source.js';

/** Where the device connects to (from MCDA and MCP). */
export interface ConnectTarget {
  host: string;
  port: number;
  localAddress?: string;
}

/** Settings of a {@link ScGvmpDevice}. */
export interface ScGvmpDeviceOptions {
  /** Register addresses; default {@link DEFAULT_REGISTER_MAP} (0xB000..0xB010). */
  registers?: Partial<ScGvmpRegisterMap>;
  /** Give up a TCP connect after this long with ERR_CONNECT_TIMEOUT. Default 3000 ms. */
  connectTimeoutMs?: number;
  /** Reconnect delays while STREAM_START stays 1 after an error. Default 1 s -> 2 s -> 4 s, capped at 4 s. */
  backoff?: BackoffOptions;
  /** Consecutive failed reconnects before the device stays in Error (until STREAM_START is written). Default: no limit. */
  maxReconnects?: number;
  /** SO_KEEPALIVE on the image connection; off by default (the note's current behaviour). */
  keepAlive?: boolean | { initialDelayMs: number };
  /**
   * The note's session requirement, read as "holds the GVCP control channel (CCP)": STREAM_START written by a
   * client without it is refused with ERR_NO_SESSION, and when the holder loses control (released, heartbeat
   * timeout) a running stream stops (Idle, connection closed) with ERR_NO_SESSION. Default false.
   */
  requireSession?: boolean;
  /** What to send: the built-in test pattern as 'jpeg' (default) or 'raw', or a function of the frame index. */
  source?: 'jpeg' | 'raw' | FrameSource;
  /** Size of the built-in test pattern. */
  testPattern?: TestPatternOptions;
  /**
   * Frames per second. Capture starts with the first connection after STREAM_START=1 and runs at this rate until
   * STREAM_START=0 (Seq advances for every captured frame; a frame captured while the channel is down or backlogged
   * is dropped and shows as a Seq gap). 0 sends as fast as the
   * connection takes frames, never dropping. Default 10.
   */
  fps?: number;
  /** Source address of the outgoing connection (the camera's own IP). Default: chosen by the OS. */
  localAddress?: string;
  /** At fps > 0, a frame is dropped instead of queued when this many bytes wait in the socket. Default 8 MiB. */
  maxSendQueueBytes?: number;
  /**
   * An image connection whose host takes no bytes for this long while data waits in the socket is closed (a
   * 'warning' with {@link WriteStallError}, `stats.writeStalls`; then Error / ERR_TCP_RESET and the usual
   * reconnect), so a host that stops reading cannot hold the device's stream, at any fps. Default 10000 ms.
   */
  writeStallTimeoutMs?: number;
  /** Opens the TCP connection (default `net.connect`); for tests and custom routing. */
  connect?: (target: ConnectTarget) => Socket;
}

/** A change of STREAM_STATE. */
export interface DeviceStateChange {
  state: StreamStateName;
  previous: StreamStateName;
  /** ERR_CODE at the time of the change. */
  errCode: number;
}

/** Counters of a {@link ScGvmpDevice}. */
export interface ScGvmpDeviceStats {
  connectAttempts: number;
  connections: number;
  framesSent: number;
  framesDropped: number;
  bytesSent: number;
  /** Image connections closed because the host took no bytes for `writeStallTimeoutMs`. */
  writeStalls: number;
}

/** Events of a {@link ScGvmpDevice}. */
export interface ScGvmpDeviceEvents {
  state: [change: DeviceStateChange];
  errorCode: [code: number, name: string];
  /** A reconnect was scheduled after `delayMs` (attempt counts from 1 per error streak). */
  retry: [info: { attempt: number; delayMs: number }];
  connection: [info: { remoteAddress: string; remotePort: number; localPort: number }];
  /** A non-fatal problem (source failure, reconnect limit reached). */
  warning: [error: Error];
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, factor: 2, maxMs: 4000 };
const LOCAL: RegisterRequestContext = { fromControlHolder: true };

/**
 * The device side of SC_GVMP: five GVCP registers and the note's state machine.
 *
 * - Idle -> Connecting on STREAM_START=1 when MCDA and MCP are valid (else the write is refused, ERR_PARAM_INCOMPLETE).
 * - Connecting -> Streaming when the TCP connection to MCDA:MCP is established.
 * - Connecting -> Error on refusal (ERR_CONNECT_FAIL) or after `connectTimeoutMs` (ERR_CONNECT_TIMEOUT).
 * - Streaming -> Error when the connection is reset or closed by the host (ERR_TCP_RESET).
 * - STREAM_START=1 while Connecting or Streaming is refused with ERR_STREAM_BUSY (the stream goes on).
 * - STREAM_START=0 from any state -> Idle, the connection closed at once.
 * - In Error with STREAM_START still 1 it reconnects after 1 s, 2 s, 4 s, 4 s ... (reset on success); writing
 *   STREAM_START=1 in Error restarts at once.
 */
export class ScGvmpDevice extends EventEmitter<ScGvmpDeviceEvents> implements AsyncDisposable {
  readonly registers: Readonly<ScGvmpRegisterMap>;
  readonly stats: ScGvmpDeviceStats = {
    connectAttempts: 0,
    connections: 0,
    framesSent: 0,
    framesDropped: 0,
    bytesSent: 0,
    writeStalls: 0,
  };
  private readonly connectTimeoutMs: number;
  private readonly backoff: Backoff;
  private readonly maxReconnects: number;
  private readonly keepAlive: boolean | { initialDelayMs: number };
  private readonly requireSession: boolean;
  private readonly fps: number;
  private readonly localAddress: string | undefined;
  private readonly maxSendQueueBytes: number;
  private readonly writeStallTimeoutMs: number;
  private readonly connectFn: (target: ConnectTarget) => Socket;
  private source: FrameSource;
  private _state: StreamStateCode = StreamState.Idle;
  private _errCode: number = ErrorCode.ERR_NONE;
  private mcda = 0;
  private mcp = 0;
  private streamStart = 0;
  /** Generation of the current STREAM_START=1 session; callbacks of older ones are ignored. */
  private session = 0;
  private socket: Socket | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private captureTimer: ReturnType<typeof setInterval> | undefined;
  private reconnects = 0;
  private seq = 0;
  private index = 0;
  private producing = false;
  private sourceEnded = false;
  private readonly detachers: (() => void)[] = [];

  constructor(options: ScGvmpDeviceOptions = {}) {
    super();
    this.registers = Object.freeze(resolveRegisterMap(options.registers));
    this.connectTimeoutMs = positive(options.connectTimeoutMs ?? 3000, 'connectTimeoutMs');
    this.backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF);
    this.maxReconnects = options.maxReconnects ?? Number.POSITIVE_INFINITY;
    if (!(this.maxReconnects >= 0)) throw new ValueOutOfRangeError('maxReconnects', 'must be >= 0');
    this.keepAlive = options.keepAlive ?? false;
    this.requireSession = options.requireSession ?? false;
    this.fps = options.fps ?? 10;
    if (!(this.fps >= 0 && this.fps <= 1000)) throw new ValueOutOfRangeError('fps', `${this.fps} is not in 0..1000`);
    this.localAddress = options.localAddress;
    this.maxSendQueueBytes = positive(options.maxSendQueueBytes ?? 8 * 1024 * 1024, 'maxSendQueueBytes');
    this.writeStallTimeoutMs = positive(options.writeStallTimeoutMs ?? 10_000, 'writeStallTimeoutMs');
    this.connectFn = options.connect ?? ((t) => netConnect(t));
    this.source = resolveSource(options.source, options.testPattern);
  }

  /** STREAM_STATE as a name. */
  get state(): StreamStateName {
    return streamStateName(this._state)!;
  }

  /** STREAM_STATE as the register value. */
  get stateCode(): StreamStateCode {
    return this._state;
  }

  /** ERR_CODE. */
  get errCode(): number {
    return this._errCode;
  }

  /** MCDA as an address ('0.0.0.0' when unset). */
  get destinationAddress(): string {
    return u32ToIpv4(this.mcda);
  }

  /** MCP (0 when unset). */
  get destinationPort(): number {
    return this.mcp;
  }

  /** Replaces the frame source (takes effect with the next frame). */
  setSource(source: 'jpeg' | 'raw' | FrameSource, testPattern?: TestPatternOptions): void {
    this.source = resolveSource(source, testPattern);
    this.sourceEnded = false;
  }

  /** True when `address` is one of this device's registers. */
  handles(address: number): boolean {
    const r = this.registers;
    return (
      address === r.mcda ||
      address === r.mcp ||
      address === r.streamStart ||
      address === r.streamState ||
      address === r.errCode
    );
  }

  /** Reads one register; throws {@link ScGvmpRegisterWriteError} (INVALID_ADDRESS) for an address not served. */
  readRegister(address: number, _context: RegisterRequestContext = LOCAL): number {
    const r = this.registers;
    if (address === r.mcda) return this.mcda;
    if (address === r.mcp) return this.mcp;
    if (address === r.streamStart) return this.streamStart;
    if (address === r.streamState) return this._state;
    if (address === r.errCode) return this._errCode;
    throw new ScGvmpRegisterWriteError(GvcpStatus.INVALID_ADDRESS, `0x${address.toString(16)} is no SC_GVMP register`);
  }

  /**
   * Writes one register as a GVCP write from `context` would. A refused write throws
   * {@link ScGvmpRegisterWriteError} carrying the GVCP status to acknowledge it with (and sets ERR_CODE when the
   * refusal is an SC_GVMP error).
   */
  writeRegister(address: number, value: number, context: RegisterRequestContext = LOCAL): void {
    const r = this.registers;
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new ScGvmpRegisterWriteError(GvcpStatus.INVALID_PARAMETER, `${value} is not a 32-bit register value`);
    }
    if (address === r.mcda || address === r.mcp) {
      if (address === r.mcp && value > 0xffff) {
        throw new ScGvmpRegisterWriteError(
          GvcpStatus.INVALID_PARAMETER,
          `MCP ${value} is not a port (bits 16..31 must be 0)`,
        );
      }
      // The destination of a session in progress is not redirected (its reconnects would go elsewhere).
      if (this._state === StreamState.Connecting || this._state === StreamState.Streaming) {
        this.refuse(ErrorCode.ERR_STREAM_BUSY, `${address === r.mcda ? 'MCDA' : 'MCP'} written while ${this.state}`);
      }
      if (address === r.mcda) this.mcda = value >>> 0;
      else this.mcp = value;
      return;
    }
    if (address === r.streamStart) {
      this.writeStreamStart(value, context);
      return;
    }
    if (address === r.streamState || address === r.errCode) {
      throw new ScGvmpRegisterWriteError(GvcpStatus.WRITE_PROTECT, `0x${address.toString(16)} is read-only`);
    }
    throw new ScGvmpRegisterWriteError(GvcpStatus.INVALID_ADDRESS, `0x${address.toString(16)} is no SC_GVMP register`);
  }

  /** Defines the five registers on a GVCP register host; returns a function that removes them again. */
  attach(host: ScGvmpRegisterHost): () => void {
    const addresses = Object.values(this.registers);
    for (const address of addresses) {
      host.defineRegister(address, {
        read: (context) => this.readRegister(address, context),
        write: (value, context) => this.writeRegister(address, value, context),
      });
    }
    const unsubscribe = host.onControlLost?.(() => this.controlLost());
    const detach = (): void => {
      const i = this.detachers.indexOf(detach);
      if (i < 0) return;
      this.detachers.splice(i, 1);
      unsubscribe?.();
      for (const address of addresses) host.removeRegister?.(address);
    };
    this.detachers.push(detach);
    return detach;
  }

  /**
   * The control channel holder lost control (session expired). With `requireSession`, a session in progress ends
   * as with STREAM_START=0 and ERR_CODE becomes ERR_NO_SESSION; otherwise nothing happens.
   */
  controlLost(): void {
    if (!this.requireSession || this.streamStart === 0) return;
    this.setErrCode(ErrorCode.ERR_NO_SESSION);
    this.stopSession();
  }

  /** Stops streaming (as STREAM_START=0) and detaches from every register host. */
  close(): Promise<void> {
    this.stopSession();
    for (const d of [...this.detachers]) d();
    this.removeAllListeners();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private writeStreamStart(value: number, context: RegisterRequestContext): void {
    if (value !== 0 && value !== 1) {
      throw new ScGvmpRegisterWriteError(GvcpStatus.INVALID_PARAMETER, `STREAM_START ${value} is neither 0 nor 1`);
    }
    if (this.requireSession && !context.fromControlHolder) {
      this.refuse(ErrorCode.ERR_NO_SESSION, 'STREAM_START written by a client that does not hold the control channel');
    }
    if (value === 0) {
      this.stopSession();
      return;
    }
    if (this._state === StreamState.Connecting || this._state === StreamState.Streaming) {
      this.refuse(ErrorCode.ERR_STREAM_BUSY, `STREAM_START=1 while ${this.state}`);
    }
    if (!this.paramsValid()) {
      this.refuse(ErrorCode.ERR_PARAM_INCOMPLETE, 'STREAM_START=1 before MCDA and MCP hold a valid destination');
    }
    this.startSession();
  }

  private refuse(code: ErrorCodeValue, message: string): never {
    this.setErrCode(code);
    const status = ErrorCodeGvcpStatus[code] ?? GvcpStatus.INVALID_PARAMETER;
    throw new ScGvmpRegisterWriteError(status, `${message} (${errorCodeName(code)})`, code);
  }

  /** A unicast destination: not 0.0.0.0, not broadcast, not multicast; a non-zero port. */
  private paramsValid(): boolean {
    const first = this.mcda >>> 24;
    return this.mcda !== 0 && this.mcda !== 0xffffffff && (first < 224 || first > 239) && this.mcp !== 0;
  }

  private startSession(): void {
    this.clearSession();
    const gen = ++this.session;
    this.streamStart = 1;
    this.backoff.reset();
    this.reconnects = 0;
    this.seq = 0;
    this.index = 0;
    this.sourceEnded = false;
    this.setErrCode(ErrorCode.ERR_NONE);
    this.connect(gen);
  }

  private stopSession(): void {
    this.session++;
    this.streamStart = 0;
    this.clearSession();
    this.setState(StreamState.Idle);
  }

  /** Cancels timers and closes the connection (no state change). */
  private clearSession(): void {
    clearTimeout(this.connectTimer);
    clearTimeout(this.retryTimer);
    clearInterval(this.captureTimer);
    this.connectTimer = this.retryTimer = this.captureTimer = undefined;
    const s = this.socket;
    this.socket = null;
    s?.destroy();
    this.producing = false;
  }

  private connect(gen: number): void {
    if (!this.paramsValid()) {
      this.fail(gen, ErrorCode.ERR_PARAM_INCOMPLETE, false);
      return;
    }
    this.setState(StreamState.Connecting);
    this.stats.connectAttempts++;
    const target: ConnectTarget = { host: u32ToIpv4(this.mcda), port: this.mcp };
    if (this.localAddress !== undefined) target.localAddress = this.localAddress;
    let socket: Socket;
    try {
      socket = this.connectFn(target);
    } catch (error) {
      this.emit('warning', error as Error);
      this.fail(gen, ErrorCode.ERR_CONNECT_FAIL, true);
      return;
    }
    this.socket = socket;
    let connected = false;
    let done = false;
    const current = (): boolean => gen === this.session && this.socket === socket;
    const failConnect = (code: ErrorCodeValue): void => {
      if (done) return;
      done = true;
      clearTimeout(this.connectTimer);
      socket.destroy();
      if (!current()) return;
      this.socket = null;
      this.fail(gen, code, true);
    };
    this.connectTimer = setTimeout(() => failConnect(ErrorCode.ERR_CONNECT_TIMEOUT), this.connectTimeoutMs);
    socket.once('connect', () => {
      if (done) return;
      connected = true;
      clearTimeout(this.connectTimer);
      if (!current()) {
        done = true;
        socket.destroy();
        return;
      }
      this.onConnected(gen, socket);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected)
        failConnect(error.code === 'ETIMEDOUT' ? ErrorCode.ERR_CONNECT_TIMEOUT : ErrorCode.ERR_CONNECT_FAIL);
      // After the connect, the 'close' that follows the error reports the reset.
    });
    socket.once('close', () => {
      if (!connected) {
        failConnect(ErrorCode.ERR_CONNECT_FAIL);
        return;
      }
      if (done) return;
      done = true;
      if (!current()) return;
      this.socket = null;
      this.fail(gen, ErrorCode.ERR_TCP_RESET, true);
    });
  }

  private onConnected(gen: number, socket: Socket): void {
    this.stats.connections++;
    this.backoff.reset();
    this.reconnects = 0;
    socket.setNoDelay(true);
    if (this.keepAlive) {
      socket.setKeepAlive(true, typeof this.keepAlive === 'object' ? this.keepAlive.initialDelayMs : 0);
    }
    // The host sends nothing; read and discard so that its FIN or RST is noticed at once.
    socket.on('data', () => {});
    socket.once('end', () => socket.destroy());
    this.watchWrites(socket);
    this.setState(StreamState.Streaming);
    this.emit('connection', {
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      localPort: socket.localPort ?? 0,
    });
    if (this.fps === 0) void this.pump(gen, socket);
    // Capture starts with the first connection of a session (so Seq 0 is the first frame sent) and then runs
    // on through reconnections: frames captured while the channel is down show as Seq gaps.
    else if (this.captureTimer === undefined) {
      this.captureTimer = setInterval(() => this.capture(gen), 1000 / this.fps);
      this.capture(gen);
    }
  }

  /**
   * Closes `socket` when its host stops taking bytes: data waits in it and the kernel has accepted none of it for
   * `writeStallTimeoutMs` (checked a few times per period; the 'close' that follows enters Error and reconnects).
   */
  private watchWrites(socket: Socket): void {
    const period = this.writeStallTimeoutMs;
    // bytes handed to the kernel: bytesWritten counts what still waits in the socket's buffer too
    const accepted = (): number => socket.bytesWritten - socket.writableLength;
    let last = accepted();
    let since = Date.now();
    const timer = setInterval(
      () => {
        const now = Date.now();
        const a = accepted();
        if (a !== last || socket.writableLength === 0) {
          last = a;
          since = now;
          return;
        }
        if (now - since < period) return;
        clearInterval(timer);
        this.stats.writeStalls++;
        this.emit('warning', new WriteStallError(socket.writableLength, now - since));
        socket.destroy();
      },
      Math.max(10, Math.min(1000, period / 4)),
    );
    timer.unref?.();
    socket.once('close', () => clearInterval(timer));
  }

  /** Enters Error with `code`; schedules a reconnect while STREAM_START stays 1 (when `retry`). */
  private fail(gen: number, code: ErrorCodeValue, retry: boolean): void {
    this.setErrCode(code);
    this.setState(StreamState.Error);
    if (!retry || gen !== this.session || this.streamStart !== 1) return;
    if (this.reconnects >= this.maxReconnects) {
      this.emit('warning', new Error(`gave up after ${this.reconnects} reconnects; write STREAM_START to retry`));
      return;
    }
    this.reconnects++;
    const delayMs = this.backoff.next();
    this.emit('retry', { attempt: this.reconnects, delayMs });
    this.retryTimer = setTimeout(() => {
      if (gen === this.session && this._state === StreamState.Error) this.connect(gen);
    }, delayMs);
  }

  /** One capture tick at `fps`: Seq advances whether or not the frame can be sent. */
  private capture(gen: number): void {
    if (gen !== this.session || this.sourceEnded) return;
    const index = this.index++;
    const seq = this.seq;
    this.seq = (this.seq + 1) >>> 0;
    const socket = this.socket;
    if (this._state !== StreamState.Streaming || socket === null || this.producing) {
      this.stats.framesDropped++;
      return;
    }
    if (socket.writableLength >= this.maxSendQueueBytes) {
      this.stats.framesDropped++;
      return;
    }
    let result: ReturnType<FrameSource>;
    try {
      result = this.source(index);
    } catch (error) {
      this.sourceFailed(error);
      return;
    }
    if (!(result instanceof Promise)) {
      this.deliver(gen, socket, seq, result);
      return;
    }
    this.producing = true;
    result.then(
      (frame) => {
        this.producing = false;
        if (gen === this.session && this.socket === socket) this.deliver(gen, socket, seq, frame);
        else this.stats.framesDropped++;
      },
      (error: unknown) => {
        this.producing = false;
        this.sourceFailed(error);
      },
    );
  }

  private deliver(gen: number, socket: Socket, seq: number, frame: SourceFrame | undefined): void {
    if (frame === undefined) {
      this.sourceEnded = true;
      return;
    }
    if (gen !== this.session || this._state !== StreamState.Streaming) {
      this.stats.framesDropped++;
      return;
    }
    this.send(socket, seq, frame);
  }

  /** fps = 0: frames back to back, waiting for the socket to drain (no drops). */
  private async pump(gen: number, socket: Socket): Promise<void> {
    const live = (): boolean => gen === this.session && this.socket === socket && this._state === StreamState.Streaming;
    let sinceYield = 0;
    while (live() && !this.sourceEnded) {
      const index = this.index++;
      const seq = this.seq;
      this.seq = (this.seq + 1) >>> 0;
      let frame: SourceFrame | undefined;
      try {
        const produced = this.source(index);
        frame = produced instanceof Promise ? await produced : produced;
      } catch (error) {
        this.sourceFailed(error);
        return;
      }
      if (frame === undefined) {
        this.sourceEnded = true;
        return;
      }
      if (!live()) return;
      if (!this.send(socket, seq, frame)) {
        await drained(socket);
        sinceYield = 0;
      } else if (++sinceYield >= 64) {
        // The kernel took everything at once (small frames): let timers and register writes run now and then,
        // or a synchronous source would hold the event loop forever.
        await new Promise<void>((resolve) => setImmediate(resolve));
        sinceYield = 0;
      }
    }
  }

  /** Writes header and payload with one writev (the payload is not copied). Returns false when the socket is full. */
  private send(socket: Socket, seq: number, frame: SourceFrame): boolean {
    // A slice of Node's shared 8 KiB allocation pool: already off-heap, so the writev takes it as is (a fresh
    // 12-byte Uint8Array lives on the V8 heap and would be moved out of it for the native write, per frame).
    const header = Buffer.allocUnsafe(SC_GVMP_HEADER_SIZE);
    try {
      encodeFrameHeaderInto(
        { flags: frameFlags(frame.kind, frame.keyFrame), seq, payloadLength: frame.payload.byteLength },
        header,
        0,
      );
    } catch (error) {
      this.sourceFailed(error);
      return true;
    }
    socket.cork();
    socket.write(header);
    const ok = socket.write(frame.payload);
    socket.uncork();
    this.stats.framesSent++;
    this.stats.bytesSent += header.byteLength + frame.payload.byteLength;
    return ok;
  }

  private sourceFailed(error: unknown): void {
    this.stats.framesDropped++;
    this.emit('warning', error instanceof Error ? error : new Error(String(error)));
  }

  private setState(next: StreamStateCode): void {
    const previous = this._state;
    if (previous === next) return;
    this._state = next;
    this.emit('state', { state: streamStateName(next)!, previous: streamStateName(previous)!, errCode: this._errCode });
  }

  private setErrCode(code: number): void {
    if (this._errCode === code) return;
    this._errCode = code;
    this.emit('errorCode', code, errorCodeName(code) ?? String(code));
  }
}

function resolveSource(source: ScGvmpDeviceOptions['source'], testPattern?: TestPatternOptions): FrameSource {
  if (typeof source === 'function') return source;
  return testPatternSource(source ?? 'jpeg', testPattern);
}

function positive(v: number, field: string): number {
  if (!(Number.isFinite(v) && v > 0)) throw new ValueOutOfRangeError(field, `${v} must be a positive number`);
  return v;
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}
