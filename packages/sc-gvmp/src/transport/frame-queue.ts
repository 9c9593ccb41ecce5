import type { Socket } from 'node:net';
import { abortReason, type LengthFramer, readIntoUserBuffer, WireError } from '@cam/net-utils';
import { SC_GVMP_HEADER_SIZE } from '../codec/constants.js';
import { SlowFrameError } from '../codec/errors.js';

/** Options of {@link SocketFrameQueue}. */
export interface SocketFrameQueueOptions {
  /** Bytes of complete frames queued before the socket is paused (resumed at half). */
  maxBufferedBytes: number;
  /** Aborting destroys the socket; {@link SocketFrameQueue.shift} then throws the reason at once. */
  signal?: AbortSignal;
  /**
   * Read the connection straight into memory (an accepted socket still paused and unread, see net-utils
   * `readIntoUserBuffer`): the body of a frame in progress is read directly into its buffer, everything else into one
   * reused 64 KiB buffer, so a large frame is never copied in user space and no Buffer is allocated per read. The
   * framer must copy whole frames (`copyWholeFrames`). Falls back to `data` events when the socket cannot be adopted.
   */
  direct?: boolean;
  /**
   * Minimum data rate while a frame is in progress (see {@link SocketFrameQueue}); 0 turns the check off.
   * `graceMs` is the time a frame may take before the rate counts. Default: off.
   */
  minRate?: { bytesPerSecond: number; graceMs: number };
}

/** How often the minimum data rate is checked (only while a frame is in progress). */
const RATE_CHECK_MS = 500;

const SCRATCH_SIZE = 64 * 1024;
/** From this frame size on, a direct reader reads the next header alone (see the constructor). */
const LARGE_FRAME = 16 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * The host's receive queue: whole frames from a socket through a framer, pulled synchronously. It follows net-utils
 * `readFrames` (same backpressure, end, error and abort semantics: frames completed before a framing error are
 * delivered first, then the typed error; an abort drops what is queued) with two differences that matter at a few
 * thousand frames per second: the consumer is woken only when a chunk completed a frame (an 8 MB frame spans some
 * 128 TCP chunks: readFrames wakes its reader for each of them), and frames are taken with a plain method call, so
 * the host's own iterator is the only async step per frame instead of two nested generators.
 */
export class SocketFrameQueue {
  private readonly queue: Uint8Array[] = [];
  private head = 0;
  private queuedBytes = 0;
  private failure: Error | null = null;
  private aborted: Error | null = null;
  private ended = false;
  /** The last frame was large (direct reads: read the next header alone). */
  private largeFrames = false;
  private wake: (() => void) | null = null;
  private readonly maxBuffered: number;
  private readonly signal: AbortSignal | undefined;
  /** Bytes read from the connection so far, and the rate check's state (see {@link checkRate}). */
  private received = 0;
  private busySince = 0;
  private busyFrom = 0;
  private rateTimer: ReturnType<typeof setInterval> | undefined;
  private readonly minRate: { bytesPerSecond: number; graceMs: number } | undefined;

  /** The connection read from: the socket given, or the one that adopted its handle for direct reads. */
  readonly socket: Socket;
  /** True when reads go straight into frame buffers (see {@link SocketFrameQueueOptions.direct}). */
  readonly direct: boolean;

  constructor(
    accepted: Socket,
    private readonly framer: LengthFramer,
    options: SocketFrameQueueOptions,
  ) {
    this.maxBuffered = options.maxBufferedBytes;
    this.signal = options.signal;
    if (options.minRate !== undefined && options.minRate.bytesPerSecond > 0) {
      this.minRate = options.minRate;
      // One cheap timer per connection, not one per frame: it samples whether a frame is in progress.
      this.rateTimer = setInterval(() => this.checkRate(), RATE_CHECK_MS);
      this.rateTimer.unref();
    }
    let socket = accepted;
    if (options.direct === true) {
      const scratch = new Uint8Array(SCRATCH_SIZE);
      // Between large frames, read just a header: the whole body then goes straight into its buffer (one more read
      // per frame, no copy). Between small frames, read a whole scratch buffer: many frames per read.
      const headerOnly = scratch.subarray(0, SC_GVMP_HEADER_SIZE);
      const adopted = readIntoUserBuffer(accepted, {
        buffer: () => framer.pendingBody() ?? (this.largeFrames ? headerOnly : scratch),
        callback: (n, buffer) => this.onRead(n, buffer, buffer.buffer === scratch.buffer),
      });
      if (adopted) socket = adopted;
    }
    this.socket = socket;
    this.direct = socket !== accepted;
    if (!this.direct) socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (this.signal?.aborted) this.onAbort();
    else if (socket.readableEnded || socket.destroyed) {
      // Already over: neither `end` nor `close` may come again.
      const errored = (socket as { errored?: unknown }).errored;
      if (errored instanceof Error) this.failure = errored;
      this.onEnd();
    }
    if (socket.isPaused()) socket.resume();
  }

  /**
   * The next complete frame, or undefined when none is queued: then throws the abort reason, the framing or socket
   * error once every frame before it was taken, or returns undefined (check {@link done}, else {@link wait}).
   */
  shift(): Uint8Array | undefined {
    if (this.aborted) throw this.aborted;
    const queue = this.queue;
    if (this.head < queue.length) {
      const frame = queue[this.head]!;
      queue[this.head++] = EMPTY;
      this.queuedBytes -= frame.byteLength;
      if (this.head === queue.length) {
        queue.length = 0;
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > queue.length) {
        queue.splice(0, this.head);
        this.head = 0;
      }
      if (this.queuedBytes <= this.maxBuffered / 2 && !this.ended && this.socket.isPaused()) this.socket.resume();
      return frame;
    }
    if (this.failure) throw this.failure;
    return undefined;
  }

  /** True once the stream ended cleanly and every frame was taken. */
  get done(): boolean {
    return this.ended && this.head >= this.queue.length && this.failure === null;
  }

  /** Resolves when a frame was queued or the stream ended, failed or was aborted. */
  wait(): Promise<void> {
    if (this.head < this.queue.length || this.ended || this.failure || this.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  /** Stops listening; pauses the socket when it is still open (nothing it reads later is lost). */
  detach(): void {
    const socket = this.socket;
    this.wake = null;
    clearInterval(this.rateTimer);
    if (!this.direct) socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('close', this.onEnd);
    socket.off('error', this.onError);
    this.signal?.removeEventListener('abort', this.onAbort);
    if (!socket.destroyed && !socket.readableEnded) socket.pause();
  }

  /**
   * The minimum data rate: while the framer holds a partial frame (or header), the bytes received since it became
   * busy must keep up with `bytesPerSecond` once `graceMs` passed. Only bytes count, so a trickle cannot renew the
   * allowance the way it renews an idle timer; a connection idle between frames is not affected (a triggered
   * camera may be silent for long). Sampled every {@link RATE_CHECK_MS}.
   */
  private checkRate(): void {
    const rate = this.minRate;
    if (rate === undefined || this.failure || this.aborted || this.ended) return;
    // Idle between frames, or paused by us because the consumer is behind (backpressure is not the peer's fault):
    // the measurement starts again.
    if (this.framer.idle || this.socket.isPaused()) {
      this.busySince = 0;
      return;
    }
    const now = performance.now();
    if (this.busySince === 0) {
      this.busySince = now;
      this.busyFrom = this.received - this.framer.bufferedBytes;
      return;
    }
    const elapsed = now - this.busySince;
    const got = this.received - this.busyFrom;
    if (elapsed > rate.graceMs && got < (rate.bytesPerSecond * (elapsed - rate.graceMs)) / 1000) {
      clearInterval(this.rateTimer);
      this.failure = new SlowFrameError(got, elapsed, rate.bytesPerSecond);
      this.socket.destroy();
      this.notify();
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private readonly onData = (chunk: Uint8Array): void => {
    // A plain Uint8Array view of the chunk (not a Buffer): the framer's subarray calls are then the typed-array
    // builtin rather than Buffer's JS override, and frames have one type whether assembled or views of a chunk.
    const bytes =
      chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.onRead(bytes.byteLength, bytes, true);
  };

  /**
   * `n` bytes arrived at the start of `buffer`: a chunk to frame (`chunk`), or the next bytes of the frame body in
   * progress, read straight into it. Returns false to pause the socket (too much queued).
   */
  private onRead(n: number, buffer: Uint8Array, chunk: boolean): boolean {
    if (this.failure || this.aborted) return false;
    this.received += n;
    const queue = this.queue;
    const before = queue.length;
    try {
      if (chunk) this.framer.pushTo(n === buffer.byteLength ? buffer : buffer.subarray(0, n), queue);
      else this.framer.commitBody(n, queue);
    } catch (error) {
      this.failure = error as Error;
      this.socket.destroy();
    }
    if (queue.length === before && this.failure === null) return true; // mid-frame: nothing to wake for
    for (let i = before; i < queue.length; i++) this.queuedBytes += queue[i]!.byteLength;
    if (queue.length > before) this.largeFrames = queue[queue.length - 1]!.byteLength >= LARGE_FRAME;
    let more = true;
    if (this.queuedBytes > this.maxBuffered && !this.socket.destroyed) {
      this.socket.pause();
      more = false;
    }
    this.notify();
    return more;
  }

  private readonly onEnd = (): void => {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.rateTimer);
    if (!this.failure && !this.aborted) {
      try {
        this.framer.end();
      } catch (error) {
        this.failure = error as Error;
      }
    }
    this.notify();
  };

  private readonly onError = (error: Error): void => {
    // A socket error (ECONNRESET, EPIPE) is reported typed: inside a frame it is the frame's TruncatedError (the
    // socket's error as its cause); between frames nothing was lost and the connection simply ended.
    if (this.failure === null && this.aborted === null && !WireError.isInstance(error)) {
      if (this.framer.idle) {
        this.onEnd();
        return;
      }
      try {
        this.framer.end();
      } catch (truncated) {
        if (truncated instanceof Error) {
          truncated.cause ??= error;
          this.failure = truncated;
          this.notify();
          return;
        }
      }
    }
    this.failure ??= error;
    this.notify();
  };

  private readonly onAbort = (): void => {
    clearInterval(this.rateTimer);
    this.aborted ??= abortReason(this.signal!);
    this.socket.destroy();
    this.notify();
  };
}
