import { type CallOptions, deadlineSignal, type PortPool } from '@cam/net-utils';
import type {
  EhomeResponseOf,
  PlatformCommand,
  PtzCommand,
  RecordedFile,
  RequestParams,
  ResponseParams,
  XmlTree,
} from '../codec/index.js';
import { DeviceOfflineError, DeviceStatusError } from './errors.js';
import type { StoredMedia } from './events.js';
import {
  type DownloadOptions,
  type DownloadResult,
  downloadRecording,
  type EhomeStreamSession,
  type MediaControlChannel,
  openPlayback,
  openPreview,
  type PlaybackOptions,
  type PreviewOptions,
} from './media/stream-session.js';
import type { DeviceSession } from './registry.js';

/** Where media streams get their TCP port, the SinkIP told to the device, and teardown on platform close. */
export interface MediaContext {
  pool: PortPool;
  sinkAddress: string;
  track(s: { close(): Promise<void> }): () => void;
}

/**
 * What a {@link DeviceHandle} needs of the platform, and nothing more: the server hands each handle this narrow
 * port, so the handle does not depend on the server (no import circle) and the server exposes no methods that
 * exist only for the handle.
 */
export interface DevicePort {
  session(deviceId: string): Readonly<DeviceSession> | undefined;
  request<C extends PlatformCommand>(
    deviceId: string,
    command: C,
    params: RequestParams<C>,
    options?: CallOptions,
  ): Promise<EhomeResponseOf<C>>;
  media(): MediaContext;
  waitCaptureUpload(deviceId: string, picId: string, signal: AbortSignal): Promise<StoredMedia>;
  waitUpgradeResult(deviceId: string, options: CallOptions): Promise<RequestParams<'UPGRADESTATUS'>>;
}

/** A picture the platform asked for, as the device reported it and as the picture server stored it. */
export interface CapturedPicture {
  picId: string;
  /** The stored upload (absent when `upload: false`). */
  media: StoredMedia | undefined;
  response: ResponseParams<'CAPTUREPICTURE'>;
}

let picCounter = 0;

/**
 * Requests to one device (`server.device(id)`, over the narrow {@link DevicePort}). Each call correlates the reply by Sequence, resends up to the
 * server's `maxResends`, rejects with a `TimeoutError` / the signal's reason / `DeviceOfflineError`, and with
 * {@link DeviceStatusError} when the device answers with a non-2xx status.
 */
export class DeviceHandle {
  constructor(
    private readonly platform: DevicePort,
    readonly deviceId: string,
  ) {}

  /** The device's session, when it is online. */
  get session(): Readonly<DeviceSession> | undefined {
    return this.platform.session(this.deviceId);
  }

  /** Sends any platform command and returns the raw response (any status). */
  request<C extends PlatformCommand>(
    command: C,
    params: RequestParams<C>,
    options?: CallOptions,
  ): Promise<EhomeResponseOf<C>> {
    return this.platform.request(this.deviceId, command, params, options);
  }

  /** Sends a command and returns the params of its 2xx response (or throws {@link DeviceStatusError}). */
  async call<C extends PlatformCommand>(
    command: C,
    params: RequestParams<C>,
    options?: CallOptions,
  ): Promise<ResponseParams<C>> {
    const r = await this.request(command, params, options);
    if (r.status < 200 || r.status > 299 || r.params === undefined) {
      throw new DeviceStatusError(this.deviceId, command, r.status, r.description);
    }
    return r.params;
  }

  /**
   * CAPTUREPICTURE: the device takes a picture and uploads it to the picture server under the PicID the platform
   * chose; resolves once both the reply and the upload arrived (in either order). `uploadTimeoutMs` (default 15 s)
   * bounds the wait for the upload.
   */
  async capturePicture(
    options: {
      channel?: number;
      resolution?: string;
      quality?: number;
      upload?: boolean;
      uploadTimeoutMs?: number;
    } & CallOptions = {},
  ): Promise<CapturedPicture> {
    const picId = `P${Date.now().toString(36)}${(++picCounter).toString(36)}`;
    const upload = options.upload ?? true;
    const params: RequestParams<'CAPTUREPICTURE'> = {
      channel: options.channel ?? 1,
      uploadFlag: upload ? 1 : 0,
      picId,
    };
    if (options.resolution !== undefined) params.resolution = options.resolution;
    if (options.quality !== undefined) params.quality = options.quality;
    const waitMs = options.uploadTimeoutMs ?? 15_000;
    const deadline = deadlineSignal(
      {
        signal: options.signal,
        timeoutMs:
          (options.timeoutMs ?? Number.POSITIVE_INFINITY) === Number.POSITIVE_INFINITY ? waitMs : options.timeoutMs,
      },
      `upload of picture ${picId} from ${this.deviceId}`,
    );
    // Cancels the upload wait however the call ends (a failed capture must not leave a waiter behind).
    const done = new AbortController();
    try {
      const waitSignal = AbortSignal.any([deadline.signal, done.signal]);
      const uploaded = upload ? this.platform.waitCaptureUpload(this.deviceId, picId, waitSignal) : undefined;
      uploaded?.catch(() => {});
      const response = await this.call('CAPTUREPICTURE', params, { signal: deadline.signal });
      const media = uploaded ? await uploaded : undefined;
      return { picId, media, response };
    } finally {
      done.abort();
      deadline.dispose();
    }
  }

  /** REBOOT: the device answers, then restarts and registers again. */
  async reboot(options?: CallOptions): Promise<void> {
    await this.call('REBOOT', {}, options);
  }

  /**
   * UPGRADE: the device accepts, downloads `url` over HTTP(S) and reports with UPGRADESTATUS. Resolves with the
   * final report (SUCCEEDED or FAILED) unless `waitForResult: false`; `resultTimeoutMs` (default 120 s) bounds it.
   */
  async upgrade(
    url: string,
    options: CallOptions & {
      version?: string;
      fileSize?: number;
      sha256?: string;
      waitForResult?: boolean;
      resultTimeoutMs?: number;
    } = {},
  ): Promise<RequestParams<'UPGRADESTATUS'> | undefined> {
    const params: RequestParams<'UPGRADE'> = { url };
    if (options.version !== undefined) params.version = options.version;
    if (options.fileSize !== undefined) params.fileSize = options.fileSize;
    if (options.sha256 !== undefined) params.sha256 = options.sha256;
    const wait = options.waitForResult ?? true;
    const done = new AbortController();
    const result = wait
      ? this.platform.waitUpgradeResult(this.deviceId, {
          signal: options.signal ? AbortSignal.any([options.signal, done.signal]) : done.signal,
          timeoutMs: options.resultTimeoutMs ?? 120_000,
        })
      : undefined;
    result?.catch(() => {});
    try {
      await this.call('UPGRADE', params, { signal: options.signal, timeoutMs: options.timeoutMs });
      return result ? await result : undefined;
    } finally {
      done.abort();
    }
  }

  /** PTZCONTROL: start or stop a movement at speed 1-7. */
  async ptz(
    options: { channel?: number; command: PtzCommand; action?: 'Start' | 'Stop'; speed?: number } & CallOptions,
  ): Promise<void> {
    await this.call(
      'PTZCONTROL',
      {
        channel: options.channel ?? 1,
        ptzCmd: options.command,
        action: options.action ?? 'Start',
        speed: options.speed ?? 4,
      },
      options,
    );
  }

  /** GETDEVICECONFIG: `ConfigXML` of `configCmd` (e.g. GetServerInfo). */
  async getConfig(
    configCmd: string,
    options: CallOptions & { params?: [number?, number?, number?, number?] } = {},
  ): Promise<XmlTree> {
    const r = await this.call('GETDEVICECONFIG', { configCmd, ...configParams(options.params) }, options);
    return r.configXml;
  }

  /** SETDEVICECONFIG: writes `configXml` for `configCmd`. */
  async setConfig(
    configCmd: string,
    configXml: XmlTree,
    options: CallOptions & { params?: [number?, number?, number?, number?] } = {},
  ): Promise<void> {
    await this.call('SETDEVICECONFIG', { configCmd, ...configParams(options.params), configXml }, options);
  }

  /** GETDEVICEWORKSTATUS: run state, CPU, memory, disks, channels. */
  async workStatus(options?: CallOptions): Promise<ResponseParams<'GETDEVICEWORKSTATUS'>['status']> {
    return (await this.call('GETDEVICEWORKSTATUS', {}, options)).status;
  }

  /** GETDEVICECAPABILITY. */
  capabilities(options?: CallOptions): Promise<ResponseParams<'GETDEVICECAPABILITY'>> {
    return this.call('GETDEVICECAPABILITY', {}, options);
  }

  /**
   * QUERYRECORDEDFILES over the whole range: pages of up to `chunkSize` (default 8) from StartIdx 0 until an
   * empty page, at most `maxFiles` (default 1000) files. A device may return fewer than asked to keep its answer
   * within 1500 bytes, so only an empty page ends the listing.
   */
  async queryRecords(
    options: {
      channel?: number;
      start: string;
      stop: string;
      fileType?: number;
      chunkSize?: number;
      maxFiles?: number;
    } & CallOptions,
  ): Promise<RecordedFile[]> {
    const chunkSize = options.chunkSize ?? 8;
    const max = options.maxFiles ?? 1000;
    const out: RecordedFile[] = [];
    while (out.length < max) {
      const r = await this.call(
        'QUERYRECORDEDFILES',
        {
          channel: options.channel ?? 1,
          fileType: options.fileType ?? 255,
          startTime: options.start,
          stopTime: options.stop,
          chunkSize,
          startIdx: out.length,
        },
        options,
      );
      out.push(...r.files.slice(0, max - out.length));
      if (r.files.length === 0) break;
    }
    return out;
  }

  /**
   * Live preview (INVITESTREAM): takes a TCP port from the platform's media pool, tells the device to connect and
   * push, and returns the stream (iterate it for H.264 / H.265 access units). Only this device may connect.
   */
  preview(options: PreviewOptions = {}): Promise<EhomeStreamSession> {
    return openPreview(this.mediaChannel(), options);
  }

  /**
   * Playback: queries the recordings in the range, then PLAYBACK of the chosen file to a pooled port. The session
   * controls pause / resume / speed / seek / reverse.
   */
  playback(options: PlaybackOptions): Promise<EhomeStreamSession & { recordings: RecordedFile[] }> {
    return openPlayback(this.mediaChannel(), (o) => this.queryRecords(o), options);
  }

  /** DOWNLOAD of a recording into `path` (the device's MPEG-PS), with progress. */
  download(file: RecordedFile | string, path: string, options: DownloadOptions = {}): Promise<DownloadResult> {
    return downloadRecording(this.mediaChannel(), file, path, options);
  }

  private mediaChannel(): MediaControlChannel {
    return {
      deviceId: this.deviceId,
      deviceAddress: () => {
        const session = this.session;
        if (!session) throw new DeviceOfflineError(this.deviceId);
        return session.address;
      },
      media: () => this.platform.media(),
      call: (command, params, options) =>
        this.call(command as PlatformCommand, params as never, options) as Promise<Record<string, unknown>>,
    };
  }

  /** QUERYPICTURES over a time range (paged like {@link queryRecords}). */
  async queryPictures(
    options: { channel?: number; start: string; stop: string; chunkSize?: number; maxPictures?: number } & CallOptions,
  ): Promise<ResponseParams<'QUERYPICTURES'>['pictures']> {
    const chunkSize = options.chunkSize ?? 8;
    const max = options.maxPictures ?? 1000;
    const out: ResponseParams<'QUERYPICTURES'>['pictures'] = [];
    while (out.length < max) {
      const r = await this.call(
        'QUERYPICTURES',
        {
          channel: options.channel ?? 1,
          startTime: options.start,
          stopTime: options.stop,
          chunkSize,
          startIdx: out.length,
        },
        options,
      );
      out.push(...r.pictures.slice(0, max - out.length));
      if (r.pictures.length === 0) break;
    }
    return out;
  }
}

function configParams(p: [number?, number?, number?, number?] | undefined): {
  configParam1?: number;
  configParam2?: number;
  configParam3?: number;
  configParam4?: number;
} {
  const out: { configParam1?: number; configParam2?: number; configParam3?: number; configParam4?: number } = {};
  if (p?.[0] !== undefined) out.configParam1 = p[0];
  if (p?.[1] !== undefined) out.configParam2 = p[1];
  if (p?.[2] !== undefined) out.configParam3 = p[2];
  if (p?.[3] !== undefined) out.configParam4 = p[3];
  return out;
}
