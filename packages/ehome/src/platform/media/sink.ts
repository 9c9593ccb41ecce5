/**
 * Platform side: the TCP listener on a media port that takes one device's media connection and yields its access
 * units, with limits on frame size, held units and accept time.
 */
import { EventEmitter } from 'node:events';
import type { Server, Socket } from 'node:net';
import {
  abortReason,
  type PortLease,
  type PortPool,
  ProtocolError,
  readIntoUserBuffer,
  TimeoutError,
} from '@cam/net-utils';
import { type MediaEvent, MediaStreamDecoder, type MediaStreamStats } from '../../codec/media/framing.js';
import type { AccessUnit } from '../../codec/media/ps.js';

/** Options of {@link MediaSink.open}. */
export interface MediaSinkOptions {
  /** Pool the listening port comes from (the "port range configured by the media service"). */
  pool: PortPool;
  /** The only address allowed to connect (the device's). Any other peer is refused and counted. */
  expectedAddress: string;
  /** Address to listen on; default the pool's. */
  host?: string;
  /** How long to wait for the device to connect. Default 10 s. */
  acceptTimeoutMs?: number;
  /** Also deliver the raw PS chunks (`ps` events). */
  emitPs?: boolean;
  /** Largest access unit. Default 8 MiB. */
  maxAccessUnitSize?: number;
  /** Access units held for a slow consumer before the socket is paused (TCP backpressure). Default 64. */
  highWaterMark?: number;
  /**
   * Read the connection into one reused 64 KiB buffer (Node's `onread`) instead of a new Buffer per read. The
   * decoder copies what it keeps, so nothing refers to the buffer after a read; this spares the garbage collector
   * one 64 KiB external buffer per read (most of a TCP receiver's CPU in Node). Default true; ignored (plain reads)
   * with `emitPs`, whose chunks are views into the read buffer.
   */
  reuseReadBuffer?: boolean;
  signal?: AbortSignal;
}

/** Events of a {@link MediaSink}. */
export interface MediaSinkEvents {
  connected: [remote: { address: string; port: number }];
  rejected: [remote: { address: string; port: number }];
  gap: [lost: number];
  closed: [error: Error | undefined];
}

function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}

/**
 * The platform end of one preview or playback stream: a TCP port taken from a {@link PortPool}, waiting for the
 * device to connect and push its stream. Only `expectedAddress` may connect, and only once. The stream is decoded
 * (framing detected, RTP, MPEG-PS) into access units, delivered by iterating the sink. The port goes back to the
 * pool when the stream ends or the sink is closed.
 */
export class MediaSink extends EventEmitter<MediaSinkEvents> implements AsyncIterable<MediaEvent> {
  readonly port: number;
  readonly host: string;
  readonly expectedAddress: string;
  readonly decoder: MediaStreamDecoder;
  /** Connections refused because they came from another address or after the device's. */
  rejectedConnections = 0;
  private readonly lease: PortLease<Server>;
  private readonly options: MediaSinkOptions;
  private socket: Socket | undefined;
  private readonly queue: MediaEvent[] = [];
  /** Events of one chunk (reused: most chunks complete no access unit). */
  private readonly scratch: MediaEvent[] = [];
  private queuedAccessUnits = 0;
  private failure: Error | undefined;
  private finished = false;
  private wake: (() => void) | undefined;
  private acceptTimer: ReturnType<typeof setTimeout> | undefined;
  private closing: Promise<void> | undefined;
  private readonly onAbort = (): void => this.fail(abortReason(this.options.signal!));

  private constructor(lease: PortLease<Server>, options: MediaSinkOptions) {
    super();
    this.lease = lease;
    this.options = options;
    this.port = lease.port;
    this.host = lease.host;
    this.expectedAddress = options.expectedAddress;
    this.decoder = new MediaStreamDecoder({
      ...(options.emitPs ? { emitPs: true } : {}),
      ...(options.maxAccessUnitSize ? { maxAccessUnitSize: options.maxAccessUnitSize } : {}),
    });
    // Connections arrive paused, so the accepted one can be re-wrapped for reused-buffer reads before any read.
    (lease.handle as Server & { pauseOnConnect: boolean }).pauseOnConnect = true;
    lease.handle.on('connection', (socket) => this.onConnection(socket));
    const timeoutMs = options.acceptTimeoutMs ?? 10_000;
    this.acceptTimer = setTimeout(() => {
      if (!this.socket)
        this.fail(new TimeoutError(`waiting for ${this.expectedAddress} to connect to port ${this.port}`, timeoutMs));
    }, timeoutMs);
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Takes a port from the pool and listens on it. Throws PortPoolExhaustedError when none is free. */
  static async open(options: MediaSinkOptions): Promise<MediaSink> {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const lease = await options.pool.acquireTcp(options.host === undefined ? {} : { host: options.host });
    return new MediaSink(lease, options);
  }

  /** Decoder counters (bytes, RTP packets, losses, access units). */
  get stats(): MediaStreamStats {
    return this.decoder.stats;
  }

  /** True once the device connected. */
  get connected(): boolean {
    return this.socket !== undefined;
  }

  /**
   * Only the access units. With `reuseBuffers`, an access unit's `data` is valid until the next one is asked for
   * (its memory is then reused, sparing the garbage collector a buffer per frame); copy what you keep.
   */
  async *accessUnits(options: { reuseBuffers?: boolean } = {}): AsyncGenerator<AccessUnit, void, undefined> {
    for await (const e of this) {
      if (e.type !== 'access-unit') continue;
      yield e.accessUnit;
      if (options.reuseBuffers) this.decoder.recycle(e.accessUnit.data);
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<MediaEvent, void, undefined> {
    try {
      for (;;) {
        const e = this.queue.shift();
        if (e) {
          if (e.type === 'access-unit') this.queuedAccessUnits--;
          if (this.socket?.isPaused() && this.queuedAccessUnits <= (this.options.highWaterMark ?? 64) / 2) {
            this.socket.resume();
          }
          yield e;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.finished) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      await this.close();
    }
  }

  /** Stops the stream: closes the connection and returns the port to the pool. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.finished = true;
      clearTimeout(this.acceptTimer);
      this.options.signal?.removeEventListener('abort', this.onAbort);
      this.socket?.destroy();
      await this.lease.release();
      this.emit('closed', this.failure);
      this.notify();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private fail(error: Error): void {
    if (this.finished) return;
    this.failure ??= error;
    void this.close();
  }

  private onConnection(accepted: Socket): void {
    let socket = accepted;
    const remote = { address: plainAddress(socket.remoteAddress), port: socket.remotePort ?? 0 };
    if (this.socket || this.finished || remote.address !== this.expectedAddress) {
      this.rejectedConnections++;
      socket.destroy();
      this.emit('rejected', remote);
      return;
    }
    clearTimeout(this.acceptTimer);
    const onChunk = (chunk: Uint8Array): void => {
      try {
        this.decoder.pushTo(chunk, this.scratch);
        this.enqueue(this.scratch);
      } catch (error) {
        this.fail(error as Error);
      }
    };
    // One reused read buffer (Node's `onread`) instead of a Buffer per read; the decoder copies what it keeps.
    const buffer = new Uint8Array(READ_BUFFER_SIZE);
    const reader =
      this.options.reuseReadBuffer === false || this.options.emitPs
        ? undefined
        : readIntoUserBuffer(socket, {
            buffer,
            callback: (n) => {
              onChunk(buffer.subarray(0, n));
              return true;
            },
          });
    if (reader) {
      socket = reader;
      socket.resume();
    } else {
      socket.on('data', onChunk);
      socket.resume();
    }
    this.socket = socket;
    this.emit('connected', remote);
    socket.on('end', () => {
      try {
        this.enqueue(this.decoder.end());
      } catch (error) {
        this.failure ??= error as Error;
      }
      this.finished = true;
      void this.close();
    });
    socket.on('error', (error) =>
      this.fail(
        new ProtocolError(`media connection from ${remote.address} failed: ${error.message}`, undefined, {
          cause: error,
        }),
      ),
    );
    socket.on('close', () => {
      if (!this.finished) {
        this.finished = true;
        void this.close();
      }
    });
  }

  private enqueue(events: MediaEvent[]): void {
    if (events.length === 0) return;
    for (const e of events) {
      if (e.type === 'access-unit') this.queuedAccessUnits++;
      if (e.type === 'gap') this.emit('gap', e.lost);
      this.queue.push(e);
    }
    events.length = 0;
    if (this.queuedAccessUnits > (this.options.highWaterMark ?? 64)) this.socket?.pause();
    this.notify();
  }
}

/** Size of the reused read buffer. */
const READ_BUFFER_SIZE = 64 * 1024;
