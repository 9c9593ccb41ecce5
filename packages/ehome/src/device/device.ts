import { createHash } from 'node:crypto';
import type { RemoteInfo, Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import {
  AbortError,
  abortReason,
  Backoff,
  type BackoffOptions,
  type CallOptions,
  deadlineSignal,
  FrameTooLargeError,
  PendingRequests,
  ProtocolError,
  sleep,
} from '@cam/net-utils';
import {
  type CommandName,
  type DeviceCommand,
  decodeMessage,
  type EhomeMessage,
  type EhomeRequest,
  type EhomeRequestOf,
  type EhomeResponse,
  type EhomeResponseOf,
  type EncodableMessage,
  encodeMessage,
  formatEhomeTime,
  type PictureEntry,
  type PtzCommand,
  type RequestParams,
  type ResponseParams,
  request,
  response,
  type SignalEncoding,
  SignalTooLargeError,
  Status,
  type XmlTree,
} from '../codec/index.js';
import { createUdpSocket } from '../transport/udp.js';
import { CLIP_FPS, clipFrameAt, clipPsBytes, loadClip, scenePicture } from './media/clips.js';
import {
  findSimulatedRecording,
  querySimulated,
  type RecordingSizer,
  type SimulatedRecording,
  simulatedRecordingIndex,
  simulatedRecordingsBetween,
} from './recordings.js';

/** Answer a media handler gives (part 2 of the issue plugs preview and playback in here). */
export interface MediaAnswer<C extends CommandName = CommandName> {
  status: number;
  description: string;
  params?: ResponseParams<C>;
}
/** Handles MEDIA requests (INVITESTREAM, BYESTREAM, PLAYBACK, PLAYBACKCONTROL, FORCEIFRAME, DOWNLOAD). Without one the device answers 501. */
export type MediaHandler = (request: EhomeRequest, device: EhomeDevice) => Promise<MediaAnswer>;

/** Settings of a simulated {@link EhomeDevice}. */
export interface EhomeDeviceOptions {
  /** Register server (IP address and port). */
  server: { host: string; port: number };
  deviceId: string;
  /** EHome 4.0 `<Password>` sent in REGISTER. */
  password?: string;
  /** `<Version>`: "2.0" (GB2312 signals) or "4.0" (UTF-8). Default "4.0". */
  version?: string;
  /** Signal encoding; default GB2312 for 2.x, UTF-8 otherwise. */
  encoding?: SignalEncoding;
  firmwareVersion?: string;
  devType?: number;
  manufacture?: number;
  serialNumber?: string;
  /** Local address and port to send from. Default 0.0.0.0 and any port. */
  localAddress?: string;
  localPort?: number;
  /** Video channels, 1..64. Default 1. */
  channels?: number;
  /**
   * A fixed recording index. Default: every day has recordings, derived from its date
   * ({@link simulatedRecordingIndex}), sized as their download of the shipped playback clip weighs.
   */
  recordings?: SimulatedRecording[];
  /** Day listed in {@link EhomeDevice.recordings} (any day can be queried). Default today (UTC). */
  recordingDay?: string;
  /** Bytes a download of a stretch of recording weighs. Default: MPEG-PS of the shipped playback clip. */
  recordingSizer?: RecordingSizer;
  /** Register retry backoff. Default 500 ms doubling to 30 s with 20 % jitter. */
  backoff?: BackoffOptions;
  /** Wait for a REGISTER reply per attempt. Default 2000 ms. */
  registerAttemptMs?: number;
  /** Wait per attempt of the device's own requests (alarm, GPS, status) before resending. Default 1000 ms. */
  requestAttemptMs?: number;
  /** Resends of those requests. Default 3. */
  maxResends?: number;
  /** Unanswered KEEPALIVEs in a row after which the device registers again. Default 3. */
  keepAliveMissLimit?: number;
  /** Largest upgrade package downloaded. Default 64 MiB. */
  maxUpgradeBytes?: number;
  /** Largest reply of the picture server read after an upload (more is a `FrameTooLargeError`). Default 64 KiB. */
  maxReplyBytes?: number;
  /** Pause between REBOOT and registering again. Default 200 ms. */
  rebootDelayMs?: number;
  /** Makes the picture of a capture or alarm; default a JPEG of the preview scene at that second. */
  takePicture?: (channel: number, picId: string) => Uint8Array;
  /** Configuration blocks by ConfigCmd (GETDEVICECONFIG/SETDEVICECONFIG); GetServerInfo is generated. */
  config?: Record<string, XmlTree>;
  /** MEDIA requests (preview, playback). */
  mediaHandler?: MediaHandler;
}

/** Events of an {@link EhomeDevice}. */
export interface EhomeDeviceEvents {
  registered: [params: ResponseParams<'REGISTER'>];
  /** The platform answered REGISTER with a non-200 status (wrong password, not allowed); the device retries. */
  refused: [status: number, description: string];
  reregistering: [reason: string];
  command: [request: EhomeRequest];
  reboot: [];
  ptz: [state: { channel: number; command: PtzCommand; action: 'Start' | 'Stop'; speed: number }];
  upgrade: [report: RequestParams<'UPGRADESTATUS'>];
  config: [configCmd: string, xml: XmlTree];
  dropped: [reason: string];
}

/** Counters of a device. */
export interface EhomeDeviceStats {
  registrations: number;
  registerAttempts: number;
  keepalivesSent: number;
  /** KEEPALIVEs the platform answered (with any status). */
  keepalivesAnswered: number;
  keepalivesMissed: number;
  commands: number;
  duplicateRequests: number;
  dropped: number;
}

const DEFAULT_MAX_REPLY_BYTES = 64 * 1024;

/**
 * Reads a fetch response body as text, refusing more than `limit` bytes (declared or received) with a
 * {@link FrameTooLargeError}; the rest of the body is cancelled, never read.
 */
async function readCappedText(res: Response, limit: number, what: string): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await res.body?.cancel().catch(() => {});
    throw new FrameTooLargeError(declared, limit, what);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new FrameTooLargeError(total, limit, what);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Control characters of a peer's text shown as `\xNN`, so a reply cannot drive the terminal it is printed on. */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is replaced
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, factor: 2, maxMs: 30_000, jitter: 0.2 };

/**
 * A simulated EHome device (seed 002 device role): registers with backoff until the platform answers,
 * heartbeats at the interval the platform set, registers again when told (a non-200 KEEPALIVE answer) or when
 * heartbeats go unanswered, answers every platform command, raises alarms with linked pictures, sends GPS.
 */
export class EhomeDevice extends EventEmitter<EhomeDeviceEvents> implements AsyncDisposable {
  readonly deviceId: string;
  readonly stats: EhomeDeviceStats = {
    registrations: 0,
    registerAttempts: 0,
    keepalivesSent: 0,
    keepalivesAnswered: 0,
    keepalivesMissed: 0,
    commands: 0,
    duplicateRequests: 0,
    dropped: 0,
  };
  /** What the platform answered to the last REGISTER. */
  registration: ResponseParams<'REGISTER'> | undefined;
  firmwareVersion: string;
  /** PTZ movement per channel (the last command). */
  readonly ptzState = new Map<number, { command: PtzCommand; action: 'Start' | 'Stop'; speed: number }>();
  /** Pictures taken (for QUERYPICTURES). */
  readonly pictures: (PictureEntry & { channel: number })[] = [];
  /** The recordings of `recordingDay` (or the fixed index); {@link recordingsBetween} answers any day. */
  readonly recordings: SimulatedRecording[];
  /** What a download of a stretch of recording weighs (the index's `size`). */
  readonly recordingSizer: RecordingSizer;
  private readonly options: EhomeDeviceOptions;
  private readonly socket: Socket;
  private readonly version: string;
  private readonly encoding: SignalEncoding;
  /** Number of video channels (1..64). */
  readonly channels: number;
  private readonly config = new Map<string, XmlTree>();
  private readonly answered = new Map<string, Uint8Array | null>();
  private readonly closer = new AbortController();
  /** Requests waiting for their response, by sequence (net-utils' one UDP request/resend loop). */
  private readonly pending = new PendingRequests<number, { command: CommandName }, EhomeResponse>({
    signal: this.closer.signal,
  });
  private sequence = 0;
  private heartbeat: ReturnType<typeof setTimeout> | undefined;
  private registering: Promise<void> | undefined;
  private bound = false;
  private missed = 0;
  private picCounter = 0;
  private _registered = false;

  constructor(options: EhomeDeviceOptions) {
    super();
    this.options = options;
    this.deviceId = options.deviceId;
    this.version = options.version ?? '4.0';
    this.encoding = options.encoding ?? (this.version.startsWith('2.') ? 'GB2312' : 'UTF-8');
    this.channels = options.channels ?? 1;
    if (!(this.channels >= 1 && this.channels <= 64)) throw new RangeError('channels: 1..64');
    this.firmwareVersion = options.firmwareVersion ?? 'V5.6.0 build 200101';
    this.recordingSizer = options.recordingSizer ?? playbackClipSizer;
    this.recordings =
      options.recordings ??
      simulatedRecordingIndex(
        this.channels,
        options.recordingDay ?? formatEhomeTime(new Date()).slice(0, 10),
        this.recordingSizer,
      );
    for (const [k, v] of Object.entries(options.config ?? {})) this.config.set(k, v);
    this.socket = createUdpSocket(options.localAddress?.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    this.socket.on('error', () => {
      this.stats.dropped++;
    });
  }

  /** True while registered (between a 200 REGISTER answer and the next re-register, reboot or close). */
  get registered(): boolean {
    return this._registered;
  }

  /** Local address and port the device sends from. */
  address(): { address: string; port: number } {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  /**
   * Binds the socket and registers, retrying with backoff until the platform answers 200. Resolves once
   * registered; rejects only when `signal` fires or the device is closed.
   */
  async start(options: CallOptions = {}): Promise<void> {
    if (!this.bound) {
      await new Promise<void>((resolve, reject) => {
        this.socket.once('error', reject);
        this.socket.bind(this.options.localPort ?? 0, this.options.localAddress ?? '0.0.0.0', () => {
          this.socket.off('error', reject);
          resolve();
        });
      });
      this.bound = true;
    }
    await this.ensureRegistering(options);
  }

  private ensureRegistering(options: CallOptions = {}): Promise<void> {
    if (!this.registering) {
      const p = this.registerLoop().finally(() => {
        if (this.registering === p) this.registering = undefined;
      });
      p.catch(() => {});
      this.registering = p;
    }
    if (!options.signal && options.timeoutMs === undefined) return this.registering;
    const deadline = deadlineSignal(options, `register ${this.deviceId}`);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(abortReason(deadline.signal));
      deadline.signal.addEventListener('abort', onAbort, { once: true });
      this.registering!.then(resolve, reject).finally(() => {
        deadline.signal.removeEventListener('abort', onAbort);
        deadline.dispose();
      });
    });
  }

  private async registerLoop(): Promise<void> {
    this.stopHeartbeat();
    this._registered = false;
    const backoff = new Backoff(this.options.backoff ?? DEFAULT_BACKOFF);
    const attemptMs = this.options.registerAttemptMs ?? 2000;
    // Bounded by close(): the loop ends when the device is closed.
    while (!this.closer.signal.aborted) {
      this.stats.registerAttempts++;
      try {
        const r = await this.send('cms', 'REGISTER', this.registerParams(), { attemptMs, resends: 0 });
        if (r.status === Status.OK && r.params) {
          // A new platform session: its Sequences start again, so answers cached for the old one must never be
          // replayed to it (a new platform's request #1 is not the old platform's #1).
          this.answered.clear();
          this.registration = r.params;
          this._registered = true;
          this.missed = 0;
          this.stats.registrations++;
          this.scheduleHeartbeat();
          this.emit('registered', r.params);
          return;
        }
        this.emit('refused', r.status, r.description);
      } catch (e) {
        if (this.closer.signal.aborted) throw e;
      }
      await backoff.wait(this.closer.signal);
    }
    throw abortReason(this.closer.signal);
  }

  private registerParams(): RequestParams<'REGISTER'> {
    const a = this.address();
    const p: RequestParams<'REGISTER'> = {
      netUnitType: 'PU',
      deviceId: this.deviceId,
      firmwareVersion: this.firmwareVersion,
      localIp: a.address,
      localPort: a.port,
      devType: this.options.devType ?? 1,
      manufacture: this.options.manufacture ?? 0,
    };
    if (this.options.serialNumber !== undefined) p.serialNumber = this.options.serialNumber;
    if (this.options.password !== undefined) p.password = this.options.password;
    if (!this.version.startsWith('2.')) {
      p.detectPackage = 0;
      p.reliableTransmission = 0;
    }
    return p;
  }

  /** Registers again now (what the device does when the platform answers KEEPALIVE with a non-200 status). */
  reRegister(reason = 'asked'): Promise<void> {
    if (this.registering) return this.registering;
    this.emit('reregistering', reason);
    return this.ensureRegistering();
  }

  private scheduleHeartbeat(): void {
    this.stopHeartbeat();
    const seconds = this.registration?.keepAliveSeconds ?? 15;
    this.heartbeat = setTimeout(() => this.beat(), seconds * 1000);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
  }

  private beat(): void {
    this.heartbeat = undefined;
    if (!this._registered || this.closer.signal.aborted) return;
    const seconds = this.registration?.keepAliveSeconds ?? 15;
    this.stats.keepalivesSent++;
    // One KEEPALIVE per interval, no resends: the next interval is the retry.
    this.send(
      'cms',
      'KEEPALIVE',
      { deviceId: this.deviceId },
      { attemptMs: Math.min(seconds * 1000, 5000), resends: 0 },
    )
      .then((r) => {
        this.stats.keepalivesAnswered++;
        if (r.status === Status.OK) {
          this.missed = 0;
          return;
        }
        void this.reRegister(`KEEPALIVE answered ${r.status} ${r.description}`).catch(() => {});
      })
      .catch(() => {
        if (this.closer.signal.aborted) return;
        this.stats.keepalivesMissed++;
        if (++this.missed >= (this.options.keepAliveMissLimit ?? 3)) {
          void this.reRegister('KEEPALIVE unanswered').catch(() => {});
        }
      });
    if (this._registered) this.scheduleHeartbeat();
  }

  /** Sends LOGOUT and stops heartbeating (the device stays bound; {@link start} registers again). */
  async logout(options: CallOptions = {}): Promise<void> {
    this.stopHeartbeat();
    const wasRegistered = this._registered;
    this._registered = false;
    if (wasRegistered) await this.send('cms', 'LOGOUT', { deviceId: this.deviceId }, { ...options, resends: 1 });
  }

  async close(): Promise<void> {
    if (this.closer.signal.aborted) return;
    this.closer.abort(new AbortError(`device ${this.deviceId} closed`));
    this.stopHeartbeat();
    this._registered = false;
    // the pending requests were rejected by the closer's abort (their table listens to it)
    if (this.bound) await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    else this.socket.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- the device's own requests ----------------------------------------------------------------------------

  private target(to: 'cms' | 'ams'): { host: string; port: number } {
    if (to === 'ams') {
      const r = this.registration;
      if (!r?.alarmServerIp || r.alarmServerPort === undefined) {
        throw new ProtocolError('the platform named no alarm server in its REGISTER answer');
      }
      return {
        host: r.alarmServerIp === '0.0.0.0' ? this.options.server.host : r.alarmServerIp,
        port: r.alarmServerPort,
      };
    }
    return this.options.server;
  }

  /** Sends a device request and waits for its response, resending `resends` times (default 3). */
  send<C extends DeviceCommand>(
    to: 'cms' | 'ams',
    command: C,
    params: RequestParams<C>,
    options: CallOptions & { attemptMs?: number; resends?: number } = {},
  ): Promise<EhomeResponseOf<C>> {
    if (this.closer.signal.aborted) return Promise.reject(abortReason(this.closer.signal));
    const { host, port } = this.target(to);
    this.sequence = this.sequence >= 0xffffffff ? 1 : this.sequence + 1;
    const seq = this.sequence;
    const bytes = encodeMessage(request(command, seq, params, { version: this.version, encoding: this.encoding }));
    const attemptMs = options.attemptMs ?? this.options.requestAttemptMs ?? 1000;
    const resends = options.resends ?? this.options.maxResends ?? 3;
    return this.pending.request(
      seq,
      { command },
      {
        ...options,
        attemptMs,
        resends,
        what: `${command} from ${this.deviceId}`,
        send: () => this.socket.send(bytes, port, host),
      },
    ) as Promise<EhomeResponseOf<C>>;
  }

  private async sendOk<C extends DeviceCommand>(
    to: 'cms' | 'ams',
    command: C,
    params: RequestParams<C>,
    options?: CallOptions,
  ): Promise<EhomeResponseOf<C>> {
    const r = await this.send(to, command, params, options);
    if (r.status !== Status.OK) {
      if (r.status === Status.FORBIDDEN) void this.reRegister(`${command} answered 403`).catch(() => {});
      throw new ProtocolError(`${command} answered ${r.status} ${r.description}`, r.status);
    }
    return r;
  }

  /**
   * Raises an alarm at the alarm server with `pictures` linked pictures (default 1) and optionally a video,
   * uploaded to the picture server before (`order: 'before'`) or after the alarm signal (default, as devices do).
   */
  async raiseAlarm(
    options: {
      channel?: number;
      alarmType?: string;
      description?: string;
      pictures?: number;
      video?: Uint8Array;
      order?: 'before' | 'after';
    } & CallOptions = {},
  ): Promise<{ picIds: string[]; videoId: string | undefined }> {
    const channel = options.channel ?? 1;
    const picIds = Array.from({ length: options.pictures ?? 1 }, () => this.nextPicId());
    const videoId = options.video ? `V${this.nextPicId().slice(1)}` : undefined;
    const upload = async (): Promise<void> => {
      for (const id of picIds) await this.uploadPicture(channel, id, options.signal);
      if (options.video && videoId) await this.upload('video', channel, videoId, options.video, options.signal);
    };
    if (options.order === 'before') await upload();
    const params: RequestParams<'ALARM'> = {
      deviceId: this.deviceId,
      channel,
      alarmType: options.alarmType ?? 'MOTION',
      alarmTime: formatEhomeTime(new Date()),
      picIds,
      needsResponse: 1,
    };
    if (options.description !== undefined) params.description = options.description;
    if (videoId !== undefined) params.videoId = videoId;
    await this.sendOk('ams', 'ALARM', params, options);
    if (options.order !== 'before') await upload();
    return { picIds, videoId };
  }

  /** Sends a GPS fix (signed decimal degrees; EHome carries degrees x 360000 and a hemisphere). */
  async sendGps(
    fix: {
      latitude: number;
      longitude: number;
      speed?: number;
      direction?: number;
      satellites?: number;
      precision?: number;
      height?: number;
      time?: Date;
    },
    options?: CallOptions,
  ): Promise<void> {
    await this.sendOk(
      'cms',
      'GPS',
      {
        deviceId: this.deviceId,
        time: formatEhomeTime(fix.time ?? new Date()),
        divisionEW: fix.longitude < 0 ? 'W' : 'E',
        longitude: Math.round(Math.abs(fix.longitude) * 360000),
        divisionNS: fix.latitude < 0 ? 'S' : 'N',
        latitude: Math.round(Math.abs(fix.latitude) * 360000),
        direction: Math.round(fix.direction ?? 0),
        speed: Math.round(fix.speed ?? 0),
        satellites: fix.satellites ?? 7,
        precision: fix.precision ?? 10,
        height: Math.round(fix.height ?? 0),
        retransFlag: 0,
        needsResponse: 1,
        timeZone: '+00:00',
      },
      options,
    );
  }

  /** Sends a DEVICESTATUS message (e.g. `DISKFULL`, `VIDEOLOSS`). */
  async sendStatus(
    statusType: string,
    options: CallOptions & { channel?: number; description?: string } = {},
  ): Promise<void> {
    const p: RequestParams<'DEVICESTATUS'> = { deviceId: this.deviceId, time: formatEhomeTime(new Date()), statusType };
    if (options.channel !== undefined) p.channel = options.channel;
    if (options.description !== undefined) p.description = options.description;
    await this.sendOk('cms', 'DEVICESTATUS', p, options);
  }

  /** Sends transparent data (DATA module), base64 encoded, at most 768 bytes. */
  async sendData(data: Uint8Array, options: CallOptions & { dataType?: string } = {}): Promise<void> {
    if (data.length > 768) throw new RangeError('transparent data is limited to 768 bytes per signal');
    const p: RequestParams<'TRANSDATA'> = { deviceId: this.deviceId, data: Buffer.from(data).toString('base64') };
    if (options.dataType !== undefined) p.dataType = options.dataType;
    await this.sendOk('cms', 'TRANSDATA', p, options);
  }

  private nextPicId(): string {
    return `P${this.deviceId.replace(/[^A-Za-z0-9]/g, '').slice(-16)}${Date.now().toString(36)}${(++this.picCounter).toString(36)}`.slice(
      0,
      64,
    );
  }

  /** Recordings of `channel` overlapping [start, stop] of `fileType` (255 = any), in time order, on any day. */
  recordingsBetween(channel: number, fileType: number, start: string, stop: string): SimulatedRecording[] {
    const index =
      this.options.recordings ?? simulatedRecordingsBetween(this.channels, channel, start, stop, this.recordingSizer);
    return querySimulated(index, channel, fileType, start, stop);
  }

  /** The recording a PLAYBACK or DOWNLOAD names, by file name or by a time inside it. */
  findRecording(channel: number, by: { fileName?: string; time?: string }): SimulatedRecording | undefined {
    if (by.fileName !== undefined) {
      if (this.options.recordings)
        return this.options.recordings.find((r) => r.name === by.fileName && r.channel === channel);
      return findSimulatedRecording(this.channels, channel, by.fileName, this.recordingSizer);
    }
    const t = by.time;
    if (t === undefined) return undefined;
    return this.recordingsBetween(channel, 255, t, t).find((r) => r.start <= t && r.stop > t);
  }

  private async uploadPicture(
    channel: number,
    picId: string,
    signal?: AbortSignal,
  ): Promise<{ size: number; url: string }> {
    const jpeg = (this.options.takePicture ?? (() => scenePicture()))(channel, picId);
    const r = await this.upload('picture', channel, picId, jpeg, signal);
    this.pictures.push({ picId, time: formatEhomeTime(new Date()), size: jpeg.length, channel });
    if (this.pictures.length > 1000) this.pictures.shift();
    return r;
  }

  /** POSTs a picture or video to the picture server named at registration. */
  private async upload(
    kind: 'picture' | 'video',
    channel: number,
    id: string,
    body: Uint8Array,
    signal?: AbortSignal,
  ): Promise<{ size: number; url: string }> {
    const r = this.registration;
    if (!r?.pictureServer || r.pictureServerPort === undefined) {
      throw new ProtocolError('the platform named no picture server in its REGISTER answer');
    }
    const host = r.pictureServer === '0.0.0.0' ? this.options.server.host : r.pictureServer;
    const query = new URLSearchParams({
      DeviceID: this.deviceId,
      [kind === 'picture' ? 'PicID' : 'VideoId']: id,
      Channel: String(channel),
    });
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${r.pictureServerPort}/ehome/${kind === 'picture' ? 'pictures' : 'videos'}?${query}`;
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': kind === 'picture' ? 'image/jpeg' : 'application/octet-stream' },
      signal: signal
        ? AbortSignal.any([signal, this.closer.signal, AbortSignal.timeout(30_000)])
        : AbortSignal.any([this.closer.signal, AbortSignal.timeout(30_000)]),
    });
    // The reply is the picture server's say-so: read at most `maxReplyBytes` of it, never the whole of an endless one.
    const text = await readCappedText(
      res,
      this.options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES,
      'picture server reply',
    );
    if (!res.ok) {
      throw new ProtocolError(
        `picture server answered ${res.status} ${printable(text.trim()).slice(0, 200)}`,
        res.status,
      );
    }
    return { size: body.length, url };
  }

  // ---- platform commands -------------------------------------------------------------------------------------

  private onDatagram(buf: Buffer, rinfo: RemoteInfo): void {
    // Only the platform's servers may talk to the device.
    const cms = this.options.server;
    const amsIp = this.registration?.alarmServerIp;
    const fromCms = rinfo.address === cms.host && rinfo.port === cms.port;
    const fromAms =
      this.registration?.alarmServerPort === rinfo.port &&
      (rinfo.address === amsIp || (amsIp === '0.0.0.0' && rinfo.address === cms.host));
    if (!fromCms && !fromAms) {
      this.drop(`datagram from ${rinfo.address}:${rinfo.port}, not the platform`);
      return;
    }
    let msg: EhomeMessage;
    try {
      msg = decodeMessage(buf);
    } catch (e) {
      this.drop(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      return;
    }
    if (msg.kind === 'response') {
      if (this.pending.meta(msg.sequence)?.command === msg.command) this.pending.resolve(msg.sequence, msg);
      else this.drop(`unmatched response ${msg.command} #${msg.sequence}`);
      return;
    }
    if (!fromCms) {
      this.drop(`request ${msg.command} from the alarm server`);
      return;
    }
    void this.onRequest(msg, rinfo);
  }

  private drop(reason: string): void {
    this.stats.dropped++;
    this.emit('dropped', reason);
  }

  private async onRequest(req: EhomeRequest, rinfo: RemoteInfo): Promise<void> {
    // A resend of a request already answered gets the same answer without running the command again; a resend
    // of one still running is ignored (its answer is coming).
    const key = `${rinfo.address}:${rinfo.port}:${req.sequence}:${req.command}`;
    if (this.answered.has(key)) {
      this.stats.duplicateRequests++;
      const cached = this.answered.get(key);
      if (cached) this.socket.send(cached, rinfo.port, rinfo.address);
      return;
    }
    this.answered.set(key, null);
    if (this.answered.size > 256) {
      const oldest = this.answered.keys().next().value;
      if (oldest !== undefined) this.answered.delete(oldest);
    }
    this.stats.commands++;
    this.emit('command', req);
    let answer: EncodableMessage;
    try {
      answer = await this.execute(req);
    } catch (e) {
      answer = response(req, Status.INTERNAL_ERROR, e instanceof Error ? e.message.slice(0, 200) : 'failed');
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(answer);
    } catch (e) {
      const why = e instanceof SignalTooLargeError ? 'answer above 1500 bytes' : 'answer not encodable';
      bytes = encodeMessage(response(req, Status.INTERNAL_ERROR, why));
    }
    if (this.closer.signal.aborted) return;
    this.answered.set(key, bytes);
    this.socket.send(bytes, rinfo.port, rinfo.address);
  }

  private async execute(req: EhomeRequest): Promise<EncodableMessage> {
    const ok = <C extends CommandName>(r: EhomeRequestOf<C>, params: ResponseParams<C>): EncodableMessage =>
      response(r, Status.OK, 'OK', params) as EncodableMessage;
    const fail = (status: number, why: string): EncodableMessage => response(req, status, why);
    const hasChannel = (ch: number): boolean => ch >= 1 && ch <= this.channels;
    switch (req.command) {
      case 'CAPTUREPICTURE': {
        const p = req.params;
        if (!hasChannel(p.channel)) return fail(Status.NOT_FOUND, `no channel ${p.channel}`);
        if (p.uploadFlag === 0) {
          const jpeg = (this.options.takePicture ?? (() => scenePicture()))(p.channel, p.picId);
          this.pictures.push({
            picId: p.picId,
            time: formatEhomeTime(new Date()),
            size: jpeg.length,
            channel: p.channel,
          });
          return ok(req, { picId: p.picId, picSize: jpeg.length });
        }
        const up = await this.uploadPicture(p.channel, p.picId);
        return ok(req, { picId: p.picId, picSize: up.size, picUrl: up.url.slice(0, 512) });
      }
      case 'REBOOT':
        setImmediate(() => void this.reboot());
        return ok(req, {});
      case 'UPGRADE':
        setImmediate(() => void this.runUpgrade(req.params));
        return ok(req, {});
      case 'PTZCONTROL': {
        const p = req.params;
        if (!hasChannel(p.channel)) return fail(Status.NOT_FOUND, `no channel ${p.channel}`);
        const state = { command: p.ptzCmd, action: p.action, speed: p.speed };
        this.ptzState.set(p.channel, state);
        this.emit('ptz', { channel: p.channel, ...state });
        return ok(req, {});
      }
      case 'GETDEVICEWORKSTATUS':
        return ok(req, { status: this.workStatus() });
      case 'QUERYRECORDEDFILES': {
        const p = req.params;
        if (!hasChannel(p.channel)) return fail(Status.NOT_FOUND, `no channel ${p.channel}`);
        const all = this.recordingsBetween(p.channel, p.fileType, p.startTime, p.stopTime);
        const files = all.slice(p.startIdx, p.startIdx + p.chunkSize).map(({ name, start, stop, size, flag }) => ({
          name,
          start,
          stop,
          size,
          flag,
        }));
        return fitting((n) => ok(req, { files: files.slice(0, n) }), files.length);
      }
      case 'QUERYPICTURES': {
        const p = req.params;
        const all = this.pictures.filter(
          (x) => x.channel === p.channel && x.time >= p.startTime && x.time <= p.stopTime,
        );
        const pictures = all
          .slice(p.startIdx, p.startIdx + p.chunkSize)
          .map(({ picId, time, size }) => ({ picId, time, size }));
        return fitting((n) => ok(req, { pictures: pictures.slice(0, n) }), pictures.length);
      }
      case 'GETDEVICECAPABILITY':
        return ok(req, {
          channelNumber: this.channels,
          startChannel: 1,
          streamTypes: 'MAIN,SUB,THIRD',
          ptz: 1,
          alarmInNumber: 1,
          alarmOutNumber: 1,
          maxPictureSize: 4 * 1024 * 1024,
          upgrade: 1,
          recordQuery: 1,
        });
      case 'GETDEVICECONFIG': {
        const cmd = req.params.configCmd;
        const xml = cmd === 'GetServerInfo' ? this.serverInfo() : this.config.get(cmd);
        if (!xml) return fail(Status.NOT_FOUND, `unknown ConfigCmd ${cmd}`);
        return ok(req, { configXml: xml });
      }
      case 'SETDEVICECONFIG': {
        const cmd = req.params.configCmd;
        if (cmd === 'GetServerInfo') return fail(Status.FORBIDDEN, 'GetServerInfo is read-only');
        this.config.set(cmd, req.params.configXml);
        this.emit('config', cmd, req.params.configXml);
        return ok(req, {});
      }
      case 'INVITESTREAM':
      case 'BYESTREAM':
      case 'PLAYBACK':
      case 'PLAYBACKCONTROL':
      case 'FORCEIFRAME':
      case 'DOWNLOAD': {
        if (!this.options.mediaHandler) return fail(Status.NOT_IMPLEMENTED, 'media not available on this device');
        const a = await this.options.mediaHandler(req, this);
        return response(req, a.status, a.description, a.params as never) as EncodableMessage;
      }
      default:
        return fail(Status.BAD_REQUEST, `${req.command} is not sent to a device`);
    }
  }

  private workStatus(): ResponseParams<'GETDEVICEWORKSTATUS'>['status'] {
    const mem = process.memoryUsage();
    return {
      run: 0,
      cpu: Math.min(100, Math.round((process.cpuUsage().user / 1e6) % 20) + 3),
      mem: Math.min(100, Math.round((mem.heapUsed / mem.heapTotal) * 100)),
      disks: [{ disk: 1, capacityMb: 953_869, freeMb: 512_000, state: 0 }],
      channels: Array.from({ length: this.channels }, (_, i) => ({
        channel: i + 1,
        recording: 1,
        signal: 0,
        encoding: 0,
        bitrateKbps: 2048,
        clients: 0,
      })),
      alarmInStatus: '',
      alarmOutStatus: '',
      localDisplayStatus: 0,
    };
  }

  private serverInfo(): XmlTree {
    return {
      SERVERINFO: {
        ChannelNumber: String(this.channels),
        ChannelAmount: String(this.channels),
        DVRType: String(this.options.devType ?? 1),
        DiskNumber: '1',
        SerialNumber: this.options.serialNumber ?? `SIM${this.deviceId}`.slice(0, 48),
        AlarmInPortNum: '1',
        AlarmInAmount: '1',
        AlarmOutPortNum: '1',
        AlarmOutAmount: '1',
        StartChannel: '1',
        AudioChanNum: '1',
        MaxDigitChannelNum: '0',
        AudioEncType: '0',
        SmartType: '0',
        StartChan: '1',
        StartDChan: '0',
      },
    };
  }

  private async reboot(): Promise<void> {
    this.emit('reboot');
    this.stopHeartbeat();
    this._registered = false;
    try {
      await sleep(this.options.rebootDelayMs ?? 200, this.closer.signal);
      this.answered.clear();
      await this.ensureRegistering();
    } catch {
      // closed while rebooting
    }
  }

  private async runUpgrade(p: RequestParams<'UPGRADE'>): Promise<void> {
    const report = async (r: Omit<RequestParams<'UPGRADESTATUS'>, 'deviceId'>): Promise<void> => {
      const full = { deviceId: this.deviceId, ...r } as RequestParams<'UPGRADESTATUS'>;
      this.emit('upgrade', full);
      await this.sendOk('cms', 'UPGRADESTATUS', full).catch(() => {});
    };
    await report({ state: 'DOWNLOADING', progress: 0 });
    const limit = this.options.maxUpgradeBytes ?? 64 * 1024 * 1024;
    try {
      const res = await fetch(p.url, { signal: AbortSignal.any([this.closer.signal, AbortSignal.timeout(120_000)]) });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const declared = Number(res.headers.get('content-length') ?? Number.NaN);
      if (declared > limit) throw new Error(`package of ${declared} bytes exceeds ${limit}`);
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        if (bytes > limit) throw new Error(`package exceeds ${limit} bytes`);
        hash.update(chunk);
      }
      const sha256 = hash.digest('hex');
      if (p.fileSize !== undefined && p.fileSize !== bytes)
        throw new Error(`size ${bytes} differs from FileSize ${p.fileSize}`);
      if (p.sha256 !== undefined && p.sha256 !== sha256) throw new Error('SHA256 mismatch');
      if (p.version !== undefined) this.firmwareVersion = p.version;
      await report({ state: 'SUCCEEDED', progress: 100, bytes, sha256 });
    } catch (e) {
      if (this.closer.signal.aborted) return;
      await report({
        state: 'FAILED',
        progress: 0,
        reason: (e instanceof Error ? e.message : String(e)).slice(0, 200),
      });
    }
  }
}

/** Answers with as many list items as fit in one signal (at most `count`). */
function fitting(build: (n: number) => EncodableMessage, count: number): EncodableMessage {
  for (let n = count; n > 0; n--) {
    const m = build(n);
    try {
      encodeMessage(m);
      return m;
    } catch (e) {
      if (!(e instanceof SignalTooLargeError)) throw e;
    }
  }
  return build(0);
}

/** The default {@link RecordingSizer}: MPEG-PS bytes of the shipped playback clip from the frame of that second. */
const playbackClipSizer: RecordingSizer = (startMs, durationMs) =>
  clipPsBytes(loadClip('playback'), clipFrameAt(startMs), Math.round((durationMs / 1000) * CLIP_FPS));
