/**
 * The simulated device's signalling session (EhomeDevice): one UDP socket, REGISTER with backoff, KEEPALIVE at the
 * platform's interval, its own requests (ALARM, GPS, DEVICESTATUS, TRANSDATA, UPGRADESTATUS) with resends, and the
 * per-session reply cache for the platform's commands. About 600 lines, kept as one class on purpose: the socket,
 * the pending-request table, the heartbeat and the reply cache share one lifecycle (register, re-register, reboot,
 * close). Everything else is elsewhere: command answers in commands.ts, HTTP uploads and the upgrade download in
 * http.ts, signal parameters in signals.ts, the recording index in recordings.ts, media in media/, types in
 * options.ts. None of those imports this file.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import {
  AbortError,
  abortReason,
  Backoff,
  type BackoffOptions,
  type CallOptions,
  deadlineSignal,
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
  type EhomeResponse,
  type EhomeResponseOf,
  type EncodableMessage,
  encodeMessage,
  formatEhomeTime,
  type PictureEntry,
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
import { answerCommand, type CommandContext, type PtzState } from './commands.js';
import { DEFAULT_MAX_REPLY_BYTES, downloadUpgrade, uploadMedia } from './http.js';
import { playbackClipSizer, scenePicture } from './media/clips.js';
import type { EhomeDeviceEvents, EhomeDeviceOptions, EhomeDeviceStats, SimulatedDeviceView } from './options.js';
import {
  findSimulatedRecording,
  querySimulated,
  type RecordingSizer,
  type SimulatedRecording,
  simulatedRecordingIndex,
  simulatedRecordingsBetween,
} from './recordings.js';
import { type GpsFix, gpsParams, registerParams } from './signals.js';

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, factor: 2, maxMs: 30_000, jitter: 0.2 };

/**
 * A simulated EHome device (seed 002 device role): registers with backoff until the platform answers,
 * heartbeats at the interval the platform set, registers again when told (a non-200 KEEPALIVE answer) or when
 * heartbeats go unanswered, answers every platform command, raises alarms with linked pictures, sends GPS.
 */
export class EhomeDevice extends EventEmitter<EhomeDeviceEvents> implements AsyncDisposable, SimulatedDeviceView {
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
  readonly ptzState = new Map<number, PtzState>();
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
        const r = await this.send(
          'cms',
          'REGISTER',
          registerParams(this.deviceId, this.firmwareVersion, this.version, this.address(), this.options),
          { attemptMs, resends: 0 },
        );
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
  async sendGps(fix: GpsFix, options?: CallOptions): Promise<void> {
    await this.sendOk('cms', 'GPS', gpsParams(this.deviceId, fix), options);
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
    const jpeg = this.takePicture(channel, picId);
    const r = await this.upload('picture', channel, picId, jpeg, signal);
    this.pictures.push({ picId, time: formatEhomeTime(new Date()), size: jpeg.length, channel });
    if (this.pictures.length > 1000) this.pictures.shift();
    return r;
  }

  private takePicture(channel: number, picId: string): Uint8Array {
    return (this.options.takePicture ?? (() => scenePicture()))(channel, picId);
  }

  /** POSTs a picture or video to the picture server named at registration. */
  private upload(
    kind: 'picture' | 'video',
    channel: number,
    id: string,
    body: Uint8Array,
    signal?: AbortSignal,
  ): Promise<{ size: number; url: string }> {
    return uploadMedia({
      pictureServer: this.registration?.pictureServer,
      pictureServerPort: this.registration?.pictureServerPort,
      signallingHost: this.options.server.host,
      deviceId: this.deviceId,
      kind,
      channel,
      id,
      body,
      maxReplyBytes: this.options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES,
      signal: signal ? AbortSignal.any([signal, this.closer.signal]) : this.closer.signal,
    });
  }

  // ---- platform commands -------------------------------------------------------------------------------------

  private context: CommandContext | undefined;

  /** What the command answers (commands.ts) may read and change; made on first use (after the constructor). */
  private get commandContext(): CommandContext {
    if (this.context) return this.context;
    const o = this.options;
    this.context = {
      deviceId: this.deviceId,
      channels: this.channels,
      devType: o.devType,
      serialNumber: o.serialNumber,
      pictures: this.pictures,
      ptzState: this.ptzState,
      config: this.config,
      mediaHandler: o.mediaHandler,
      view: this,
      takePicture: (channel, picId) => this.takePicture(channel, picId),
      uploadPicture: (channel, picId) => this.uploadPicture(channel, picId),
      recordingsBetween: (channel, fileType, start, stop) => this.recordingsBetween(channel, fileType, start, stop),
      reboot: () => void this.reboot(),
      upgrade: (params) => void this.runUpgrade(params),
      onPtz: (state) => this.emit('ptz', state),
      onConfig: (configCmd, xml) => this.emit('config', configCmd, xml),
    };
    return this.context;
  }

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
      answer = await answerCommand(req, this.commandContext);
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
    try {
      const { bytes, sha256 } = await downloadUpgrade(
        p.url,
        this.options.maxUpgradeBytes ?? 64 * 1024 * 1024,
        this.closer.signal,
      );
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
