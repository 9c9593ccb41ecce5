import type { RemoteInfo, Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortError,
  abortReason,
  type CallOptions,
  deadlineSignal,
  listIpv4Interfaces,
  PendingRequests,
  PerSecondBudget,
  PortPool,
  TimeoutError,
  WireError,
} from '@cam/net-utils';
import {
  type CommandName,
  decodeMessage,
  type EhomeMessage,
  type EhomeRequest,
  type EhomeRequestOf,
  type EhomeResponse,
  type EhomeResponseOf,
  type EncodableMessage,
  encodeMessage,
  type ImplausibleReason,
  implausibleSignal,
  keepaliveScan,
  MAX_SIGNAL_BYTES,
  MIN_SIGNAL_BYTES,
  type PlatformCommand,
  type RequestParams,
  type ResponseParams,
  request,
  response,
  Status,
  scanKeepalive,
  UnknownCommandError,
} from '../codec/index.js';
import { MemoryStore } from '../store/memory-store.js';
import type { EhomeStore } from '../store/types.js';
import { createUdpSocket } from '../transport/udp.js';
import { DeviceHandle, type DevicePort, type MediaContext } from './device-handle.js';
import { DeviceOfflineError } from './errors.js';
import { type EhomeEvent, type EhomeServerEvents, EventQueue, type StoredMedia } from './events.js';
import { KeepaliveAnswers, platformVersion } from './keepalive-answers.js';
import { MediaLinker } from './linker.js';
import { PictureServer } from './picture-server.js';
import { PlatformRecorder } from './recorder.js';
import { RegisterAdmission } from './register-admission.js';
import { type DeviceRegistry, type DeviceSession, MemoryDeviceRegistry } from './registry.js';
import {
  ALARM_SERVER_TYPE_UDP,
  DEFAULT_ALARM_PORT,
  DEFAULT_REGISTER_PORT,
  type EhomeServerOptions,
  type EhomeServerStats,
  PICTURE_SERVER_TYPE_HTTP,
} from './server-options.js';

export {
  ALARM_SERVER_TYPE_UDP,
  DEFAULT_ALARM_PORT,
  DEFAULT_REGISTER_PORT,
  type EhomeServerOptions,
  type EhomeServerStats,
  PICTURE_SERVER_TYPE_HTTP,
} from './server-options.js';

/** What the server keeps with a request to a device, to match its response. */
interface PendingRequest {
  deviceId: string;
  command: CommandName;
}

export { platformVersion };

function firstLanIpv4(): string {
  try {
    const i = listIpv4Interfaces().find((x) => !x.internal);
    return i?.address ?? '127.0.0.1';
  } catch {
    return '127.0.0.1';
  }
}

/**
 * The platform side of EHome: register server (PAG/CMS) on UDP 7660, alarm server (AMS) on UDP, picture server
 * on HTTP. Keeps one session per DeviceID, detects silent devices, answers every device signal, sends requests to
 * devices with resends, links alarms to their media, and reports everything as events (typed emitter and
 * {@link EhomeServer.events}).
 *
 * Above 500 lines because it is the one owner of the session table that its three parts change (signals arriving,
 * requests sent to devices with their pending table, the sweep); what needs none of that state lives beside it:
 * options (server-options.ts), REGISTER admission (register-admission.ts), the store (recorder.ts), per-device calls
 * (device-handle.ts, through the narrow DevicePort), KEEPALIVE answers and alarm/media linking.
 */
export class EhomeServer extends EventEmitter<EhomeServerEvents> implements AsyncDisposable {
  readonly registry: DeviceRegistry;
  readonly stats: EhomeServerStats = {
    datagrams: 0,
    badDatagrams: 0,
    implausibleDatagrams: 0,
    droppedEventsSuppressed: 0,
    registrations: 0,
    keepalives: 0,
    unknownDevice: 0,
    addressMismatch: 0,
    refused: 0,
    requestsSent: 0,
    resends: 0,
    timeouts: 0,
    unmatchedResponses: 0,
    alarms: 0,
    alarmsNotStored: 0,
    eventsDropped: 0,
    registersHeld: 0,
    registersThrottled: 0,
    sessionsRefused: 0,
  };
  readonly keepAliveSeconds: number;
  readonly offlineAfterMissed: number;
  /** The picture server, when one runs. */
  readonly pictures: PictureServer | undefined;
  private readonly options: EhomeServerOptions;
  private readonly cms: Socket;
  private readonly ams: Socket | undefined;
  private readonly linker: MediaLinker;
  /** Requests to devices waiting for their response, by sequence (net-utils' one UDP request/resend loop). */
  private readonly pending = new PendingRequests<number, PendingRequest, EhomeResponse>();
  private readonly queues = new Set<EventQueue<EhomeEvent>>();
  private readonly upgradeWaiters = new Map<string, Set<(r: RequestParams<'UPGRADESTATUS'>) => void>>();
  /** Alarms seen lately: when, and the commit of their record (a resend is answered once that commit is done). */
  private readonly recentAlarms = new Map<string, { at: number; committed: Promise<boolean> }>();
  readonly store: EhomeStore;
  private readonly recorder: PlatformRecorder;
  private readonly port: DevicePort;
  private readonly admission: RegisterAdmission;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private sequence = 0;
  private closed = false;
  private advertised = '127.0.0.1';
  private mediaPool: PortPool | undefined;
  private ownsMediaPool = false;
  private readonly mediaStreams = new Set<{ close(): Promise<void> }>();
  private readonly keepaliveScan = keepaliveScan();
  private readonly keepaliveAnswers = new KeepaliveAnswers();
  /** 'dropped' events allowed per second (see `droppedEventsPerSecond`). */
  private readonly droppedBudget: PerSecondBudget;

  constructor(options: EhomeServerOptions = {}) {
    super();
    this.options = options;
    this.droppedBudget = new PerSecondBudget(options.droppedEventsPerSecond ?? 100);
    this.registry = options.registry ?? new MemoryDeviceRegistry();
    this.store = options.store ?? new MemoryStore();
    this.recorder = new PlatformRecorder(
      this.store,
      (l, m, f) => this.log(l, m, f),
      options.retention,
      (files) => (this.pictures ? this.pictures.remove(files) : Promise.resolve()),
    );
    this.port = {
      session: (id) => this.registry.get(id),
      request: (id, command, params, o) => this.request(id, command, params, o),
      media: () => this.mediaContext(),
      waitCaptureUpload: (id, picId, signal) => this.linker.waitCapture(id, picId, signal),
      waitUpgradeResult: (id, o) => this.waitUpgradeResult(id, o),
    };
    this.keepAliveSeconds = options.keepAliveSeconds ?? 15;
    this.offlineAfterMissed = options.offlineAfterMissed ?? 6;
    if (!(this.keepAliveSeconds >= 1 && this.keepAliveSeconds <= 3600))
      throw new RangeError('keepAliveSeconds: 1..3600');
    if (!(this.offlineAfterMissed >= 1)) throw new RangeError('offlineAfterMissed must be >= 1');
    this.admission = new RegisterAdmission({
      registry: this.registry,
      stats: this.stats,
      options,
      closed: () => this.closed,
      probe: (session, ms) => this.request(session.deviceId, 'GETDEVICEWORKSTATUS', {}, { timeoutMs: ms }),
      answer: (req, rinfo, status, reason) =>
        this.reply(
          this.cms,
          rinfo,
          response(req, status, reason, undefined, { version: platformVersion(req.version) }),
        ),
      publish: (e) => this.publish(e),
      log: (level, message, fields) => this.log(level, message, fields),
      retry: (req, rinfo) => this.onRegister(req, rinfo),
    });
    const type = options.address?.includes(':') ? 'udp6' : 'udp4';
    this.cms = createUdpSocket(type);
    this.cms.on('message', (msg, rinfo) => this.onCmsDatagram(msg, rinfo));
    this.cms.on('error', (e) => this.log('warn', 'register socket error', { error: e.message }));
    if (options.alarmPort !== false) {
      this.ams = createUdpSocket(type);
      this.ams.on('message', (msg, rinfo) => this.onAmsDatagram(msg, rinfo));
      this.ams.on('error', (e) => this.log('warn', 'alarm socket error', { error: e.message }));
    }
    this.linker = new MediaLinker(options.linkTimeoutMs ?? 30_000, 10_000, (e) => this.publish(e));
    if (options.picturePort !== false) {
      this.pictures = new PictureServer({
        directory: options.dataDirectory ?? join(tmpdir(), 'cam-ehome'),
        ...(options.address !== undefined ? { address: options.address } : {}),
        port: options.picturePort || 0,
        ...(options.maxPictureBytes !== undefined ? { maxPictureBytes: options.maxPictureBytes } : {}),
        ...(options.maxVideoBytes !== undefined ? { maxVideoBytes: options.maxVideoBytes } : {}),
        ...(options.maxStoredBytes !== undefined ? { maxTotalBytes: options.maxStoredBytes } : {}),
        ...options.pictureLimits,
        authorize: (deviceId, address) => this.registry.get(deviceId)?.address === address,
        onStored: async (media) => {
          await this.recorder.media(media);
          this.onMediaStored(media);
        },
        onRefused: (address, port, status, reason) =>
          this.publish({ type: 'dropped', server: 'picture', address, port, reason: `${status} ${reason}` }),
      });
    }
  }

  /** True when an allowlist or passwords are configured. */
  get accessControl(): boolean {
    return this.admission.accessControl;
  }

  /** Binds every server; resolves with the ports actually used. */
  async listen(): Promise<{ port: number; alarmPort: number | undefined; picturePort: number | undefined }> {
    const address = this.options.address ?? '0.0.0.0';
    await bindUdp(this.cms, this.options.port ?? DEFAULT_REGISTER_PORT, address);
    const recvBufferSize = this.options.recvBufferSize ?? 4 * 1024 * 1024;
    setRecvBuffer(this.cms, recvBufferSize);
    if (this.ams) {
      await bindUdp(this.ams, (this.options.alarmPort as number | undefined) ?? DEFAULT_ALARM_PORT, address);
      setRecvBuffer(this.ams, recvBufferSize);
    }
    if (this.pictures) await this.pictures.listen();
    this.advertised =
      this.options.advertisedAddress ?? (address === '0.0.0.0' || address === '::' ? firstLanIpv4() : address);
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepIntervalMs ?? 1000);
    this.sweepTimer.unref?.();
    return this.addresses();
  }

  /** Ports in use. */
  addresses(): { port: number; alarmPort: number | undefined; picturePort: number | undefined } {
    return {
      port: this.cms.address().port,
      alarmPort: this.ams ? this.ams.address().port : undefined,
      picturePort: this.pictures?.port,
    };
  }

  /**
   * What media streams need: the port pool (created on first use), the SinkIP, and registration of a stream so
   * {@link close} tears it down.
   */
  private mediaContext(): MediaContext {
    if (!this.mediaPool) {
      const o = this.options.mediaPorts;
      if (o instanceof PortPool) this.mediaPool = o;
      else {
        const range = o ?? { min: 20_000, max: 20_999 };
        this.mediaPool = new PortPool({ ...range, host: this.options.address ?? '0.0.0.0' });
        this.ownsMediaPool = true;
      }
    }
    return {
      pool: this.mediaPool,
      sinkAddress: this.options.mediaAddress ?? this.advertised,
      track: (stream) => {
        this.mediaStreams.add(stream);
        return () => this.mediaStreams.delete(stream);
      },
    };
  }

  /** Sessions of online devices. */
  devices(): DeviceSession[] {
    return [...this.registry.values()];
  }

  /** A handle to send requests to `deviceId` (it need not be online yet; calls fail if it is not). */
  device(deviceId: string): DeviceHandle {
    return new DeviceHandle(this.port, deviceId);
  }

  /**
   * Events as an async iterable (bounded: a consumer more than `maxQueue` events behind loses the oldest, counted
   * in `stats.eventsDropped`). Ends when the server closes or `signal` fires.
   */
  events(options: { signal?: AbortSignal; maxQueue?: number } = {}): AsyncIterableIterator<EhomeEvent> {
    const q: EventQueue<EhomeEvent> = new EventQueue<EhomeEvent>(
      options.maxQueue ?? 10_000,
      () => {
        this.queues.delete(q);
      },
      options.signal,
    );
    if (this.closed) q.end();
    else this.queues.add(q);
    return q;
  }

  /** Runs the retention policy now (the sweep runs it once a minute); resolves once rows and files are gone. */
  enforceRetention(): Promise<void> {
    return this.recorder.enforceRetention();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await Promise.allSettled([...this.mediaStreams].map((m) => m.close()));
    this.mediaStreams.clear();
    if (this.ownsMediaPool) await this.mediaPool?.close();
    const err = new AbortError('EHome server closed');
    this.pending.rejectWhere(err);
    this.linker.close(err);
    for (const q of [...this.queues]) q.end();
    await Promise.all([
      closeUdp(this.cms),
      this.ams ? closeUdp(this.ams) : Promise.resolve(),
      this.pictures?.close() ?? Promise.resolve(),
    ]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- platform -> device requests -------------------------------------------------------------------------

  /**
   * Sends a request to a registered device and resolves with its response (any status). Resends up to
   * `maxResends` times, `requestAttemptMs` apart, to the device's current address; rejects with a
   * {@link TimeoutError} after the last, with the signal's reason when aborted, with {@link DeviceOfflineError}
   * when the device is not online or goes offline meanwhile.
   */
  request<C extends PlatformCommand>(
    deviceId: string,
    command: C,
    params: RequestParams<C>,
    options: CallOptions = {},
  ): Promise<EhomeResponseOf<C>> {
    if (this.closed) return Promise.reject(new AbortError('EHome server closed'));
    const session = this.registry.get(deviceId);
    if (!session) return Promise.reject(new DeviceOfflineError(deviceId));
    if (this.pending.size >= (this.options.maxPendingRequests ?? 4096)) {
      return Promise.reject(new DeviceOfflineError(deviceId, 'cannot be asked: too many outstanding requests'));
    }
    let seq = this.nextSequence();
    while (this.pending.has(seq)) seq = this.nextSequence();
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(
        request(command, seq, params, { version: platformVersion(session.version), encoding: session.encoding }),
      );
    } catch (e) {
      return Promise.reject(e);
    }
    const started = Date.now();
    const attemptMs = this.options.requestAttemptMs ?? 2000;
    const maxResends = this.options.maxResends ?? 3;
    const answer = this.pending.request(
      seq,
      { deviceId, command },
      {
        ...options,
        attemptMs,
        resends: maxResends,
        what: `${command} to ${deviceId}`,
        send: (attempt) => {
          const s = this.registry.get(deviceId);
          if (!s) throw new DeviceOfflineError(deviceId, 'went offline');
          if (attempt > 0) this.stats.resends++;
          this.stats.requestsSent++;
          this.cms.send(bytes, s.port, s.address);
        },
        onTimeout: () => {
          this.stats.timeouts++;
        },
      },
    ) as Promise<EhomeResponseOf<C>>;
    // The command history: every request, answered or not.
    answer.then(
      (r) => this.recorder.command(deviceId, command, started, r.status, undefined),
      (e: unknown) =>
        this.recorder.command(deviceId, command, started, undefined, e instanceof Error ? e : new Error(String(e))),
    );
    return answer;
  }

  /** Waits for the final UPGRADESTATUS (SUCCEEDED or FAILED) of a device. */
  private waitUpgradeResult(deviceId: string, options: CallOptions = {}): Promise<RequestParams<'UPGRADESTATUS'>> {
    const deadline = deadlineSignal(options, `upgrade of ${deviceId}`);
    return new Promise((resolve, reject) => {
      let s = this.upgradeWaiters.get(deviceId);
      if (!s) {
        s = new Set();
        this.upgradeWaiters.set(deviceId, s);
      }
      const waiters = s;
      const done = (r: RequestParams<'UPGRADESTATUS'>): void => {
        cleanup();
        resolve(r);
      };
      const onAbort = (): void => {
        cleanup();
        reject(abortReason(deadline.signal));
      };
      const cleanup = (): void => {
        waiters.delete(done);
        if (waiters.size === 0) this.upgradeWaiters.delete(deviceId);
        deadline.signal.removeEventListener('abort', onAbort);
        deadline.dispose();
      };
      if (deadline.signal.aborted) {
        onAbort();
        return;
      }
      deadline.signal.addEventListener('abort', onAbort, { once: true });
      waiters.add(done);
    });
  }

  /** Next platform sequence (wraps at 2^32). */
  private nextSequence(): number {
    this.sequence = this.sequence >= 0xffffffff ? 1 : this.sequence + 1;
    return this.sequence;
  }

  // ---- incoming ----------------------------------------------------------------------------------------------

  private onCmsDatagram(buf: Buffer, rinfo: RemoteInfo): void {
    this.stats.datagrams++;
    const implausible = implausibleSignal(buf);
    if (implausible !== undefined) {
      this.dropImplausible('cms', rinfo, implausible, buf.length);
      return;
    }
    if (scanKeepalive(buf, this.keepaliveScan) && this.onKeepalive(buf, rinfo)) return;
    let msg: EhomeMessage;
    try {
      msg = decodeMessage(buf);
    } catch (e) {
      this.drop('cms', rinfo, e);
      return;
    }
    if (msg.kind === 'response') {
      this.onResponse(msg, rinfo);
      return;
    }
    try {
      this.onRequest(msg, rinfo);
    } catch (e) {
      // A handler bug or an unencodable reply must never take the server down.
      this.drop('cms', rinfo, e);
    }
  }

  private onRequest(req: EhomeRequest, rinfo: RemoteInfo): void {
    switch (req.command) {
      case 'REGISTER':
        this.onRegister(req, rinfo);
        return;
      case 'KEEPALIVE': {
        const s = this.authentic(req, req.params.deviceId, rinfo, this.cms);
        if (!s) return;
        this.stats.keepalives++;
        const answer = this.keepaliveAnswers.template(req.version, req.encoding ?? 'UTF-8').encode(req.sequence);
        this.cms.send(answer, rinfo.port, rinfo.address);
        return;
      }
      case 'LOGOUT': {
        const s = this.authentic(req, req.params.deviceId, rinfo, this.cms);
        if (!s) return;
        this.reply(this.cms, rinfo, response(req, Status.OK, 'OK', {}, { version: platformVersion(req.version) }));
        this.goOffline(s, 'logout');
        return;
      }
      case 'GPS': {
        const s = this.authentic(req, req.params.deviceId, rinfo, this.cms);
        if (!s) return;
        const g = req.params;
        const lat = (g.latitude / 360000) * (g.divisionNS === 'S' ? -1 : 1);
        const lon = (g.longitude / 360000) * (g.divisionEW === 'W' ? -1 : 1);
        this.publish({ type: 'gps', deviceId: s.deviceId, gps: g, latitude: lat, longitude: lon });
        if (g.needsResponse !== 0) {
          const params = g.retransFlag === undefined ? {} : { retransFlag: g.retransFlag };
          this.reply(
            this.cms,
            rinfo,
            response(req, Status.OK, 'OK', params, { version: platformVersion(req.version) }),
          );
        }
        return;
      }
      case 'DEVICESTATUS':
      case 'UPGRADESTATUS':
      case 'TRANSDATA': {
        const s = this.authentic(req, req.params.deviceId, rinfo, this.cms);
        if (!s) return;
        if (req.command === 'DEVICESTATUS') this.publish({ type: 'status', deviceId: s.deviceId, status: req.params });
        else if (req.command === 'TRANSDATA') this.publish({ type: 'data', deviceId: s.deviceId, data: req.params });
        else {
          this.publish({ type: 'upgrade', deviceId: s.deviceId, report: req.params });
          if (req.params.state !== 'DOWNLOADING') {
            const waiters = this.upgradeWaiters.get(s.deviceId);
            if (waiters) for (const w of [...waiters]) w(req.params);
          }
        }
        this.reply(this.cms, rinfo, response(req, Status.OK, 'OK', {}, { version: platformVersion(req.version) }));
        return;
      }
      case 'ALARM':
        this.onAlarm(req, rinfo, this.cms);
        return;
      default:
        // A platform command sent to the platform: answer instead of staying silent.
        this.reply(
          this.cms,
          rinfo,
          response(req, Status.BAD_REQUEST, `${req.command} is sent by the platform, not to it`, undefined, {
            version: platformVersion(req.version),
          }),
        );
    }
  }

  private onRegister(req: EhomeRequestOf<'REGISTER'>, rinfo: RemoteInfo): void {
    if (this.admission.admit(req, rinfo)) this.acceptRegister(req, rinfo);
  }

  private acceptRegister(req: EhomeRequestOf<'REGISTER'>, rinfo: RemoteInfo): void {
    const p = req.params;
    const version = platformVersion(req.version);
    const now = Date.now();
    const existing = this.registry.get(p.deviceId);
    // What a REGISTER (re)sets, for a new session and for one that moved or registered again alike.
    const fields = {
      address: rinfo.address,
      port: rinfo.port,
      firmwareVersion: p.firmwareVersion,
      devType: p.devType,
      netUnitType: p.netUnitType,
      localIp: p.localIp,
      localPort: p.localPort,
      manufacture: p.manufacture,
      serialNumber: p.serialNumber,
      version: req.version,
      encoding: req.encoding ?? 'UTF-8',
      registeredAt: now,
      lastSeen: now,
    };
    const session: DeviceSession = existing ?? { deviceId: p.deviceId, ...fields };
    if (existing) {
      if (existing.address !== rinfo.address || existing.port !== rinfo.port) {
        const from = { address: existing.address, port: existing.port };
        const to = { address: rinfo.address, port: rinfo.port };
        this.log('info', 'session moved (NAT rebinding)', { deviceId: p.deviceId, from, to });
        this.publish({ type: 'moved', deviceId: p.deviceId, from, to });
      }
      if (existing.address !== rinfo.address) {
        this.admission.countSource(existing.address, -1);
        this.admission.countSource(rinfo.address, 1);
      }
      Object.assign(existing, fields);
    } else {
      this.registry.set(session);
      this.admission.countSource(rinfo.address, 1);
    }
    this.stats.registrations++;
    const params: ResponseParams<'REGISTER'> = { keepAliveSeconds: this.keepAliveSeconds };
    const ports = this.addresses();
    if (ports.alarmPort !== undefined) {
      params.alarmServerIp = this.advertised;
      params.alarmServerPort = ports.alarmPort;
      params.alarmServerType = ALARM_SERVER_TYPE_UDP;
    }
    if (this.options.ntp) {
      params.ntpServerIp = this.options.ntp.ip;
      params.ntpServerPort = this.options.ntp.port ?? 123;
      params.ntpInterval = this.options.ntp.intervalMinutes ?? 60;
    }
    if (ports.picturePort !== undefined) {
      params.pictureServer = this.advertised;
      params.pictureServerPort = ports.picturePort;
      params.pictureServerType = PICTURE_SERVER_TYPE_HTTP;
    }
    this.reply(this.cms, rinfo, response(req, Status.OK, 'OK', params, { version }));
    this.recorder.session(session, true);
    this.publish({ type: 'online', deviceId: session.deviceId, session, reRegistered: existing !== undefined });
  }

  /**
   * The session a device signal belongs to, refreshed, or `undefined` after answering with the re-register
   * status: for an unknown DeviceID, and for a known one sending from another address (a session only moves
   * through REGISTER, which access control checks).
   */
  private authentic(req: EhomeRequest, deviceId: string, rinfo: RemoteInfo, socket: Socket): DeviceSession | undefined {
    const s = this.registry.get(deviceId);
    let why: string | undefined;
    if (!s) {
      this.stats.unknownDevice++;
      why = 'unknown device, register again';
    } else if (s.address !== rinfo.address || (socket === this.cms && s.port !== rinfo.port)) {
      this.stats.addressMismatch++;
      why = 'address differs from the registered one, register again';
      this.log('warn', 'signal from another address', {
        deviceId,
        registered: `${s.address}:${s.port}`,
        from: `${rinfo.address}:${rinfo.port}`,
      });
    }
    if (why !== undefined || !s) {
      const status = this.options.reRegisterStatus ?? Status.FORBIDDEN;
      this.reply(socket, rinfo, response(req, status, why ?? '', undefined, { version: platformVersion(req.version) }));
      return undefined;
    }
    s.lastSeen = Date.now();
    return s;
  }

  private onAmsDatagram(buf: Buffer, rinfo: RemoteInfo): void {
    this.stats.datagrams++;
    const implausible = implausibleSignal(buf);
    if (implausible !== undefined) {
      this.dropImplausible('ams', rinfo, implausible, buf.length);
      return;
    }
    let msg: EhomeMessage;
    try {
      msg = decodeMessage(buf);
    } catch (e) {
      this.drop('ams', rinfo, e);
      return;
    }
    if (msg.kind !== 'request' || msg.command !== 'ALARM') {
      this.drop('ams', rinfo, new Error(`${msg.kind} ${msg.command} sent to the alarm server`));
      return;
    }
    try {
      this.onAlarm(msg, rinfo, this.ams!);
    } catch (e) {
      this.drop('ams', rinfo, e);
    }
  }

  /**
   * An alarm is acknowledged only once its record is committed to the store, so a platform killed at any moment
   * never acknowledged an alarm it lost: a device that got no answer resends, and the resend is stored once (by
   * DeviceID, Sequence and AlarmTime, also across a restart). A store that cannot commit leaves the alarm unanswered.
   */
  private onAlarm(req: EhomeRequestOf<'ALARM'>, rinfo: RemoteInfo, socket: Socket): void {
    const s = this.authentic(req, req.params.deviceId, rinfo, socket);
    if (!s) return;
    const key = `${s.deviceId}\u0000${req.sequence}`;
    const now = Date.now();
    let seen = this.recentAlarms.get(key);
    if (!seen) {
      if (this.recentAlarms.size >= 10_000) {
        const oldest = this.recentAlarms.keys().next().value;
        if (oldest !== undefined) this.recentAlarms.delete(oldest);
      }
      const deviceId = s.deviceId;
      const committed = this.recorder.alarm(deviceId, req.params, req.sequence, now).then(
        ({ id, duplicate }) => {
          if (!duplicate) {
            this.stats.alarms++;
            this.linker.onAlarm(deviceId, req.params, now, id);
          }
          return true;
        },
        (e: unknown) => {
          this.stats.alarmsNotStored++;
          this.recentAlarms.delete(key); // a resend tries the store again
          this.log('warn', 'alarm not stored, not acknowledged', {
            deviceId,
            error: e instanceof Error ? e.message : String(e),
          });
          return false;
        },
      );
      seen = { at: now, committed };
      this.recentAlarms.set(key, seen);
    }
    if (req.params.needsResponse === 0) return;
    void seen.committed.then((ok) => {
      if (ok && !this.closed) {
        this.reply(socket, rinfo, response(req, Status.OK, 'OK', {}, { version: platformVersion(req.version) }));
      }
    });
  }

  private onResponse(res: EhomeResponse, rinfo: RemoteInfo): void {
    const p = this.pending.meta(res.sequence);
    if (!p || p.command !== res.command) {
      this.stats.unmatchedResponses++;
      return;
    }
    const s = this.registry.get(p.deviceId);
    if (!s || s.address !== rinfo.address || s.port !== rinfo.port) {
      this.stats.addressMismatch++;
      return;
    }
    s.lastSeen = Date.now();
    this.pending.resolve(res.sequence, res);
  }

  private onMediaStored(media: StoredMedia): void {
    const linkedTo = this.linker.onMedia(media, Date.now());
    this.publish({ type: 'media', media, linkedTo });
  }

  // ---- housekeeping ------------------------------------------------------------------------------------------

  private sweep(): void {
    const now = Date.now();
    const limit = this.keepAliveSeconds * 1000 * this.offlineAfterMissed;
    for (const s of this.registry.values()) if (now - s.lastSeen > limit) this.goOffline(s, 'timeout');
    this.linker.sweep(now);
    this.recorder.tick(now, this.registry.values());
    for (const [k, t] of this.recentAlarms) {
      if (now - t.at < 120_000) break;
      this.recentAlarms.delete(k);
    }
  }

  private goOffline(s: DeviceSession, reason: 'timeout' | 'logout'): void {
    if (this.registry.get(s.deviceId) !== s) return;
    this.registry.delete(s.deviceId);
    this.admission.countSource(s.address, -1);
    this.admission.forget(s.deviceId);
    const err = new DeviceOfflineError(s.deviceId, reason === 'logout' ? 'logged out' : 'went offline');
    this.pending.rejectWhere(err, (p) => p.deviceId === s.deviceId);
    this.linker.dropDevice(s.deviceId, err);
    this.log('info', 'device offline', { deviceId: s.deviceId, reason });
    this.recorder.session(s, false);
    this.publish({ type: 'offline', deviceId: s.deviceId, reason, lastSeen: s.lastSeen });
  }

  /**
   * The hot path: a KEEPALIVE of the canonical shape (already scanned into `keepaliveScan`) from the address its
   * session registered from. Refreshes the session and answers from a prepared buffer: no text, no message object,
   * no allocation but the DeviceID string. Returns false for anything else (unknown device, other address), which
   * then takes the general path and its answers.
   */
  private onKeepalive(buf: Buffer, rinfo: RemoteInfo): boolean {
    const k = this.keepaliveScan;
    // One string for the lookup (the scanner checked these bytes are ASCII, so latin1 reads them exactly).
    const s = this.registry.get(buf.toString('latin1', k.deviceIdStart, k.deviceIdEnd));
    if (s === undefined || s.address !== rinfo.address || s.port !== rinfo.port) return false;
    s.lastSeen = Date.now();
    this.stats.keepalives++;
    const answer = this.keepaliveAnswers.answer(buf, k);
    this.cms.send(answer, rinfo.port, rinfo.address);
    // Queued rather than sent at once (socket buffer full): the socket keeps that buffer.
    if (this.cms.getSendQueueCount() !== 0) this.keepaliveAnswers.handOver(answer);
    return true;
  }

  private reply(socket: Socket, rinfo: RemoteInfo, msg: EncodableMessage): void {
    socket.send(encodeMessage(msg), rinfo.port, rinfo.address);
  }

  /**
   * A datagram not even shaped like a signal (the byte pre-check before the XML parser): counted; a 'dropped' event
   * (a string, no Error) only for someone listening and within the per-second budget.
   */
  private dropImplausible(server: 'cms' | 'ams', rinfo: RemoteInfo, why: ImplausibleReason, length: number): void {
    this.stats.badDatagrams++;
    this.stats.implausibleDatagrams++;
    if (!this.wantsDropped()) return;
    const reason =
      why === 'size'
        ? `not a signal: ${length} bytes (${MIN_SIGNAL_BYTES}..${MAX_SIGNAL_BYTES})`
        : why === 'start'
          ? 'not a signal: does not start with <?, <!-- or <PPVSPMessage'
          : 'not a signal: does not end with </PPVSPMessage>';
    this.publish({ type: 'dropped', server, address: rinfo.address, port: rinfo.port, reason });
  }

  /**
   * True when a 'dropped' event would reach anyone (a listener or an event stream) and the per-second budget
   * (`droppedEventsPerSecond`) has room; a flood of bad datagrams then costs a counter, not an event each.
   */
  private wantsDropped(): boolean {
    if (this.queues.size === 0 && this.listenerCount('dropped') === 0 && this.listenerCount('event') === 0)
      return false;
    if (this.droppedBudget.take()) return true;
    this.stats.droppedEventsSuppressed++;
    return false;
  }

  private drop(server: 'cms' | 'ams', rinfo: RemoteInfo, e: unknown): void {
    this.stats.badDatagrams++;
    if (!this.wantsDropped()) return;
    const reason =
      e instanceof UnknownCommandError
        ? `unknown command ${e.command}`
        : WireError.isInstance(e)
          ? `${e.name}: ${e.message}`
          : String(e instanceof Error ? e.message : e);
    this.publish({ type: 'dropped', server, address: rinfo.address, port: rinfo.port, reason });
  }

  private publish(e: EhomeEvent): void {
    this.recorder.event(e);
    // Listener exceptions must not break the datagram loop.
    try {
      const emit = this.emit as (name: string, ev: EhomeEvent) => boolean;
      emit.call(this, e.type, e);
      emit.call(this, 'event', e);
    } catch (err) {
      this.log('warn', 'event listener threw', { error: err instanceof Error ? err.message : String(err) });
    }
    for (const q of this.queues) {
      const before = q.dropped;
      q.push(e);
      this.stats.eventsDropped += q.dropped - before;
    }
  }

  private log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
    this.options.log?.(level, message, fields);
  }
}

function bindUdp(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function closeUdp(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** Asks for a receive buffer; the OS may grant less (capped at net.core.rmem_max) or refuse (the default stays). */
function setRecvBuffer(socket: Socket, bytes: number): void {
  try {
    socket.setRecvBufferSize(bytes);
  } catch {
    // refused: the default queue stays
  }
}
