/**
 * Device side: the end of a stream that connects to the platform's media port and pushes access units (MPEG-PS over
 * RTP) at the source's frame rate times the playback speed, honouring TCP backpressure.
 */
import { connect, type Socket } from 'node:net';
import { abortReason, ProtocolError, TimeoutError, ValueOutOfRangeError } from '@cam/net-utils';
import { type MediaFraming, MediaStreamEncoder } from '../../codec/media/framing.js';

/** A source of access units for a {@link MediaPusher} (a live encoder, or a recording being played back). */
export interface AccessUnitSource {
  /** The next access unit in presentation order (or reverse order when playing backwards); undefined at the end. */
  next(): { data: Uint8Array; pts: number; keyframe: boolean } | undefined;
  /** Jumps to a time (ms since the start of the source), optional. */
  seek?(ms: number): void;
  /** Plays backwards from now on, optional. */
  setReverse?(reverse: boolean): void;
}

/** Options of {@link MediaPusher}. */
export interface MediaPusherOptions {
  /** Platform address from INVITESTREAM (SinkIP / SinkPort). */
  host: string;
  port: number;
  source: AccessUnitSource;
  /** Nominal frames per second of the source. Default 25. */
  fps?: number;
  framing?: MediaFraming;
  strayByte?: boolean;
  /** Connect timeout. Default 5 s. */
  connectTimeoutMs?: number;
  /** Local address to connect from. */
  localAddress?: string;
  signal?: AbortSignal;
}

/**
 * The device end of a stream: connects to the platform's sink and pushes access units at the source's frame rate
 * times the playback speed, honouring TCP backpressure. Supports pause/resume, speed, seek and reverse (forwarded
 * to the source) as playback control needs.
 */
export class MediaPusher {
  readonly options: MediaPusherOptions;
  private readonly encoder: MediaStreamEncoder;
  private socket: Socket | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private paused = false;
  private speedValue = 1;
  private stopped = false;
  private done: Promise<void> | undefined;
  private resolveDone: (() => void) | undefined;
  /** Access units sent. */
  sent = 0;
  /** Bytes written. */
  bytes = 0;

  constructor(options: MediaPusherOptions) {
    this.options = options;
    this.encoder = new MediaStreamEncoder({
      framing: options.framing ?? 'rtp-interleaved',
      strayByte: options.strayByte ?? false,
    });
  }

  get speed(): number {
    return this.speedValue;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Connects and starts pushing; resolves once connected. `finished` settles when the stream ends. */
  async start(): Promise<void> {
    const { host, port, signal } = this.options;
    if (signal?.aborted) throw abortReason(signal);
    const timeoutMs = this.options.connectTimeoutMs ?? 5000;
    this.socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({
        host,
        port,
        ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}),
      });
      const t = setTimeout(() => {
        s.destroy();
        reject(new TimeoutError(`connecting to media sink ${host}:${port}`, timeoutMs));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(new ProtocolError(`media sink ${host}:${port} refused: ${e.message}`, undefined, { cause: e }));
      });
    });
    this.socket.setNoDelay(true);
    this.socket.on('error', () => this.stop());
    this.socket.on('close', () => this.finish());
    signal?.addEventListener('abort', () => this.stop(), { once: true });
    this.done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
    this.schedule(0);
  }

  /** Settles when the stream has ended (source exhausted, stopped, or the platform closed the connection). */
  get finished(): Promise<void> {
    return this.done ?? Promise.resolve();
  }

  pause(): void {
    this.paused = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  resume(): void {
    if (!this.paused || this.stopped) return;
    this.paused = false;
    this.schedule(0);
  }

  /** Playback speed factor, 1/16 .. 16 (fast and slow playback). */
  setSpeed(speed: number): void {
    if (!(speed >= 1 / 16 && speed <= 16)) throw new ValueOutOfRangeError('speed', `${speed} not in 1/16..16`);
    this.speedValue = speed;
  }

  seek(ms: number): void {
    this.options.source.seek?.(ms);
  }

  setReverse(reverse: boolean): void {
    this.options.source.setReverse?.(reverse);
  }

  /** Stops pushing and closes the connection. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.end();
    this.socket?.destroy();
    this.finish();
  }

  private finish(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.resolveDone?.();
  }

  private schedule(delay: number): void {
    if (this.stopped || this.paused) return;
    this.timer = setTimeout(() => this.tick(), delay);
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped || this.paused || !this.socket) return;
    const au = this.options.source.next();
    if (!au) {
      this.socket.end();
      this.finish();
      return;
    }
    const bytes = this.encoder.encode(au);
    this.sent++;
    this.bytes += bytes.length;
    const interval = 1000 / ((this.options.fps ?? 25) * this.speedValue);
    if (this.socket.write(bytes)) this.schedule(interval);
    else this.socket.once('drain', () => this.schedule(interval));
  }
}
