/**
 * Platform side: preview, playback and download sessions (INVITESTREAM / PLAYBACK / DOWNLOAD signalling, a media
 * port from the pool, the sink, and the controls that travel to the device).
 */
import { createWriteStream } from 'node:fs';
import { type CallOptions, type PortPool, ProtocolError, throwIfAborted } from '@cam/net-utils';
import type { RecordedFile } from '../../codec/index.js';
import type { MediaEvent, MediaStreamStats } from '../../codec/media/framing.js';
import type { AccessUnit } from '../../codec/media/ps.js';
import { speedToWire } from '../../codec/media/speed.js';
import { MediaSink } from './sink.js';

/** What the platform side of a stream needs from a device handle (kept structural to avoid a cycle). */
export interface MediaControlChannel {
  readonly deviceId: string;
  /** Address the device's media connection must come from (its signalling address). */
  deviceAddress(): string;
  /** The platform's media port pool, listen host and the SinkIP told to devices. */
  media(): { pool: PortPool; sinkAddress: string; track(s: { close(): Promise<void> }): () => void };
  call(command: string, params: Record<string, unknown>, options?: CallOptions): Promise<Record<string, unknown>>;
}

/** Options of a preview. */
export interface PreviewOptions extends CallOptions {
  channel?: number;
  stream?: 'main' | 'sub' | 'third';
  /** Deliver raw PS chunks too (`ps` events from {@link EhomeStreamSession.events}). */
  emitPs?: boolean;
  /** How long the device has to connect after INVITESTREAM. Default 10 s. */
  connectTimeoutMs?: number;
}

/** Options of a playback. */
export interface PlaybackOptions extends CallOptions {
  channel?: number;
  /** Start and end of the range (`YYYY-MM-DD HH:MM:SS` device time, or a Date read as UTC). */
  start: string | Date;
  end: string | Date;
  /** Play this file of the range; default the first recording found in the range. */
  file?: RecordedFile | string;
  /** Speed factor: 2 = twice as fast, 0.5 = half speed (1/16 .. 16). Default 1. */
  speed?: number;
  reverse?: boolean;
  emitPs?: boolean;
  connectTimeoutMs?: number;
}

/** Progress of a download. */
export interface DownloadProgress {
  bytes: number;
  total: number | undefined;
}

/** Options of a download. */
export interface DownloadOptions extends CallOptions {
  channel?: number;
  onProgress?: (p: DownloadProgress) => void;
  connectTimeoutMs?: number;
}

/** Result of a download. */
export interface DownloadResult {
  path: string;
  bytes: number;
  fileSize: number | undefined;
  stats: MediaStreamStats;
}

/** `YYYY-MM-DD HH:MM:SS` (the EHome time format) from a Date (UTC) or a string. */
export function ehomeTime(t: string | Date): string {
  if (typeof t === 'string') return t;
  return t.toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * A live preview or playback stream on the platform: the decoded access units (iterate it), and the controls that
 * travel to the device as signalling (PLAYBACKCONTROL, FORCEIFRAME, BYESTREAM). The port goes back to the pool when
 * the stream ends or {@link stop} is called.
 */
export class EhomeStreamSession implements AsyncIterable<AccessUnit>, AsyncDisposable {
  readonly kind: 'preview' | 'playback';
  readonly session: string;
  readonly channel: number;
  private readonly sink: MediaSink;
  private readonly control: MediaControlChannel;
  private readonly untrack: () => void;
  private readonly streamType: string;
  private stopped = false;
  private speedValue: number;
  private reverseValue: boolean;

  /** @internal */
  constructor(init: {
    kind: 'preview' | 'playback';
    session: string;
    channel: number;
    sink: MediaSink;
    control: MediaControlChannel;
    streamType: string;
    speed: number;
    reverse: boolean;
  }) {
    this.kind = init.kind;
    this.session = init.session;
    this.channel = init.channel;
    this.sink = init.sink;
    this.control = init.control;
    this.streamType = init.streamType;
    this.speedValue = init.speed;
    this.reverseValue = init.reverse;
    this.untrack = init.control.media().track(this);
  }

  /** The platform port the device pushes to. */
  get port(): number {
    return this.sink.port;
  }

  get stats(): MediaStreamStats {
    return this.sink.stats;
  }

  get speed(): number {
    return this.speedValue;
  }

  get reverse(): boolean {
    return this.reverseValue;
  }

  /** The detected framing of the device's stream (after the first bytes). */
  get framing(): string | undefined {
    return this.sink.decoder.framing;
  }

  /** Every event: access units, raw PS chunks (with `emitPs`), RTP sequence gaps. */
  events(): AsyncIterable<MediaEvent> {
    return this.sink;
  }

  [Symbol.asyncIterator](): AsyncIterator<AccessUnit> {
    return this.sink.accessUnits();
  }

  async pause(options?: CallOptions): Promise<void> {
    await this.playbackControl({ action: 'PAUSE' }, options);
  }

  async resume(options?: CallOptions): Promise<void> {
    await this.playbackControl({ action: 'RESUME' }, options);
  }

  /** Fast or slow playback: a factor from 1/16 to 16. */
  async setSpeed(speed: number, options?: CallOptions): Promise<void> {
    await this.playbackControl({ action: 'SPEED', speed: speedToWire(speed) }, options);
    this.speedValue = speed;
  }

  /** Absolute-time playback: jump to a time inside the range. */
  async seek(time: string | Date, options?: CallOptions): Promise<void> {
    await this.playbackControl({ action: 'SEEK', time: ehomeTime(time) }, options);
  }

  /** Reverse (true) or forward (false) playback. */
  async setReverse(reverse: boolean, options?: CallOptions): Promise<void> {
    await this.playbackControl({ action: reverse ? 'REVERSE' : 'FORWARD' }, options);
    this.reverseValue = reverse;
  }

  /** Asks the device for a key frame now (preview). */
  async forceIFrame(options?: CallOptions): Promise<void> {
    await this.control.call('FORCEIFRAME', { channel: this.channel, channelType: this.streamType }, options);
  }

  /** BYESTREAM to the device, then closes the connection and frees the port. Idempotent. */
  async stop(options?: CallOptions): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.control.call('BYESTREAM', { session: this.session }, { timeoutMs: 2000, ...options });
    } catch {
      /* the device may be gone already; the local side is torn down regardless */
    } finally {
      await this.sink.close();
      this.untrack();
    }
  }

  close(): Promise<void> {
    return this.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private async playbackControl(params: Record<string, unknown>, options?: CallOptions): Promise<void> {
    if (this.kind !== 'playback') throw new ProtocolError('playback control needs a playback session', 'NOT_PLAYBACK');
    await this.control.call('PLAYBACKCONTROL', { session: this.session, ...params }, options);
  }
}

async function openSink(
  control: MediaControlChannel,
  emitPs: boolean | undefined,
  connectTimeoutMs: number | undefined,
  signal?: AbortSignal,
) {
  const { pool } = control.media();
  return MediaSink.open({
    pool,
    expectedAddress: control.deviceAddress(),
    ...(emitPs ? { emitPs } : {}),
    ...(connectTimeoutMs !== undefined ? { acceptTimeoutMs: connectTimeoutMs } : {}),
    ...(signal ? { signal } : {}),
  });
}

/** INVITESTREAM: a port from the pool, the device connects and pushes the live stream. */
export async function openPreview(
  control: MediaControlChannel,
  options: PreviewOptions = {},
): Promise<EhomeStreamSession> {
  throwIfAborted(options.signal);
  const channel = options.channel ?? 1;
  const streamType = (options.stream ?? 'main').toUpperCase();
  const sink = await openSink(control, options.emitPs, options.connectTimeoutMs, options.signal);
  try {
    const r = await control.call(
      'INVITESTREAM',
      { channel, channelType: streamType, sinkIp: control.media().sinkAddress, sinkPort: sink.port },
      options,
    );
    return new EhomeStreamSession({
      kind: 'preview',
      session: String(r.session),
      channel,
      sink,
      control,
      streamType,
      speed: 1,
      reverse: false,
    });
  } catch (error) {
    await sink.close();
    throw error;
  }
}

/**
 * Playback as the note describes: query the recordings of the range first, then PLAYBACK of the chosen file (or the
 * time range) to a port from the pool.
 */
export async function openPlayback(
  control: MediaControlChannel,
  queryRecords: (o: { channel: number; start: string; stop: string } & CallOptions) => Promise<RecordedFile[]>,
  options: PlaybackOptions,
): Promise<EhomeStreamSession & { recordings: RecordedFile[] }> {
  throwIfAborted(options.signal);
  const channel = options.channel ?? 1;
  const start = ehomeTime(options.start);
  const stop = ehomeTime(options.end);
  const recordings = await queryRecords({
    channel,
    start,
    stop,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const wanted = typeof options.file === 'string' ? options.file : options.file?.name;
  const file = wanted ? recordings.find((r) => r.name === wanted) : recordings[0];
  if (!file) {
    throw new ProtocolError(
      wanted
        ? `no recording named ${wanted} in ${start} .. ${stop}`
        : `no recording on channel ${channel} in ${start} .. ${stop}`,
      'NO_RECORDING',
    );
  }
  const speed = options.speed ?? 1;
  const sink = await openSink(control, options.emitPs, options.connectTimeoutMs, options.signal);
  try {
    const r = await control.call(
      'PLAYBACK',
      {
        channel,
        // biome-ignore lint/complexity/useMathMinMax: `YYYY-MM-DD HH:MM:SS` strings, compared as text
        startTime: start < file.start ? file.start : start,
        // biome-ignore lint/complexity/useMathMinMax: `YYYY-MM-DD HH:MM:SS` strings, compared as text
        stopTime: stop > file.stop ? file.stop : stop,
        fileName: file.name,
        sinkIp: control.media().sinkAddress,
        sinkPort: sink.port,
        ...(options.reverse ? { reverse: 1 } : {}),
        ...(speed !== 1 ? { speed: speedToWire(speed) } : {}),
      },
      options,
    );
    const s = new EhomeStreamSession({
      kind: 'playback',
      session: String(r.session),
      channel,
      sink,
      control,
      streamType: 'MAIN',
      speed,
      reverse: options.reverse ?? false,
    });
    return Object.assign(s, { recordings });
  } catch (error) {
    await sink.close();
    throw error;
  }
}

/** DOWNLOAD: the device pushes the file's program stream; it is written to `path` with progress. */
export async function downloadRecording(
  control: MediaControlChannel,
  file: RecordedFile | string,
  path: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  throwIfAborted(options.signal);
  const name = typeof file === 'string' ? file : file.name;
  const sink = await openSink(control, true, options.connectTimeoutMs, options.signal);
  const untrack = control.media().track(sink);
  const out = createWriteStream(path);
  try {
    const r = await control.call(
      'DOWNLOAD',
      { channel: options.channel ?? 1, fileName: name, sinkIp: control.media().sinkAddress, sinkPort: sink.port },
      options,
    );
    const total = typeof r.fileSize === 'number' ? r.fileSize : undefined;
    let bytes = 0;
    for await (const e of sink) {
      if (e.type !== 'ps') continue;
      bytes += e.bytes.length;
      if (!out.write(e.bytes)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      options.onProgress?.({ bytes, total });
    }
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (total !== undefined && bytes !== total) {
      throw new ProtocolError(`download of ${name} ended after ${bytes} of ${total} bytes`, 'SHORT_DOWNLOAD');
    }
    return { path, bytes, fileSize: total, stats: sink.stats };
  } catch (error) {
    out.destroy();
    throw error;
  } finally {
    await sink.close();
    untrack();
  }
}
