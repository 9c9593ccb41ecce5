import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { LengthFramer, readFrames, ValueOutOfRangeError, WireError } from '@cam/net-utils';
import {
  GUID_PLACEHOLDER,
  HANDSHAKE_TIMEOUT_MS,
  HOST_SILENCE_LIMIT_MS,
  MAX_FILE_CONTENT_CHUNK,
  PACKET_TIMEOUT_MS,
  SDK_PORT,
  TcpVersion,
} from '../codec/constants.js';
import { HErrorCode } from '../codec/error-codes.js';
import {
  decodePacket,
  decodeSearchDatagram,
  encodePacket,
  encodeSearchDatagram,
  type FileStartAsk,
  type SdkPacket,
} from '../codec/packets.js';
import { encodeSdkCall, SdkCallAssembler, SdkChunkError, sdkFraming } from '../codec/sdk-call.js';
import { buildSdkResponse, escapeXmlAttribute, parseSdkXml } from '../codec/xml.js';
import { md5File, packFileContent } from '../transport/files.js';
import { ControllerModel } from './controller.js';
import { InThreadMd5, OffThreadMd5 } from './md5-worker.js';
import type { SdkMethodHandler, SdkMethodRequest, SdkMethodResult } from './method.js';

const DEFAULT_DEVICE_ID = 'CAM-SDK-SIM-01';

export interface SdkDeviceOptions {
  /** Address to listen on (default 0.0.0.0; tests use 127.0.0.1). */
  address?: string;
  /** TCP port, default 10001; 0 picks a free one. */
  port?: number;
  /** Answer UDP search on the same port number (default true). */
  search?: boolean;
  /** Directory received files are stored in; without it file transfers answer kCreateFileFailed. */
  dir?: string;
  /** Lowest transport version accepted (default 0x1000005); lower -> kVersionTooLow. */
  minVersion?: number;
  /** Highest transport version spoken (default 0x1000009); a higher ask is answered with this. */
  maxVersion?: number;
  /** Answer the version ask with the 10-byte variant (extra u16 status 0) of the vendor's C# demo. */
  versionAnswerWithStatus?: boolean;
  /** XML bytes per answer packet (9204 default, 9200 like the vendor C++). */
  chunkSize?: number;
  /** Device id in search answers and GetDeviceInfo (at most 15 bytes). */
  deviceId?: string;
  /** Extra bytes after the id in search answers. */
  searchData?: Uint8Array;
  /** `<version value>` answered to GetIFVersion. */
  sdkVersion?: string;
  /**
   * Drop a host that sent no whole packet for this long (60 s). Bytes of a packet that never completes do not count,
   * so a trickle cannot keep a connection forever.
   */
  hostSilenceMs?: number;
  /** A packet whose first byte arrived must be whole within this (10 s): a floor on a sender's rate. */
  packetTimeoutMs?: number;
  /** Transport negotiation and GetIFVersion must be done within this after connecting (10 s). */
  handshakeTimeoutMs?: number;
  /** At most one kTcpHeartbeatAnswer per connection in this interval (1 s); more asks are counted and ignored. */
  heartbeatAnswerIntervalMs?: number;
  /** Largest file accepted, default 4 GiB. */
  maxFileSize?: number;
  /**
   * Hash received files on a worker thread, so MD5 overlaps receiving. Default: on when the machine has more than
   * one core (`os.availableParallelism()`), else each 1 MiB batch is hashed on the main thread (see BENCHMARKS.md).
   */
  hashOffThread?: boolean;
  /**
   * Most hosts connected at once (default 64). When full, a new connection evicts the oldest one that has not
   * finished its handshake; when every connection has, the new one is closed at once.
   */
  maxConnections?: number;
  /** Most connections from one source address (default 8); more are closed at once. */
  maxConnectionsPerSource?: number;
  /** Search answers per second to all sources together (default 20); see README, Limits. */
  searchAnswersPerSecond?: number;
  /** Search answers per second to one source address (default 2). */
  searchAnswersPerSourcePerSecond?: number;
  /** Method handlers, in addition to (or replacing) the built-ins. */
  handlers?: Record<string, SdkMethodHandler>;
  /** Size of the simulated LED screen in pixels (default 128 x 64): programs must fit, snapshots have this size. */
  screen?: { width: number; height: number };
}

export interface ReceivedFile {
  name: string;
  path: string;
  size: number;
  md5: string;
  fileType: number;
}

export interface SdkDeviceStats {
  connections: number;
  badPackets: number;
  badDatagrams: number;
  searchAnswers: number;
  calls: number;
  errorAnswers: number;
  illegalInterleaves: number;
  droppedSilentHosts: number;
  filesReceived: number;
  fileBytesReceived: number;
  heartbeatAsks: number;
  /** Heartbeat asks beyond one per `heartbeatAnswerIntervalMs`: not answered. */
  heartbeatAsksIgnored: number;
  refusedConnections: number;
  /** Connections refused because their source already had `maxConnectionsPerSource`. */
  refusedPerSource: number;
  /** Connections that had not finished the handshake, closed to make room for a new one. */
  evictedConnections: number;
  /** Connections closed for not finishing the handshake in time. */
  handshakeTimeouts: number;
  /** Connections closed because a packet did not complete within `packetTimeoutMs`. */
  slowPackets: number;
  /** Search asks not answered because of the rate limits. */
  searchAsksLimited: number;
  /** Well-formed packets a host should not send (answers, GPS): ignored. */
  unexpectedPackets: number;
  /** kSDKCmdAsk packets received (chunks, not calls). */
  sdkCmdPackets: number;
}

type State = 'connected' | 'negotiated' | 'file-receive' | 'file-send';

interface Receive {
  ask: FileStartAsk;
  partPath: string;
  finalPath: string;
  /** Null when the final file was already complete (existSize = size). */
  handle: FileHandle | null;
  /** Running MD5 on the hashing thread (fed in file order, one batch at a time). */
  hashId: number;
  /** Bytes received (on disk plus buffered). */
  received: number;
  /** Bytes on disk. */
  written: number;
  /** Content being collected; `spare` is the other buffer (being written, or free). */
  batch: Uint8Array;
  spare: Uint8Array;
  batchFill: number;
  /** The write in flight (at most one), so receiving and hashing overlap the disk. */
  inflight: Promise<void> | null;
  writeFailed: boolean;
  complete: boolean;
}

const FILE_NAME_RE = /^[^/\\\0]+$/;
const BATCH = 1 << 20;

/**
 * Device side (下位机) of the SDK TCP protocol: a simulated Huidu controller. Follows the note's rules: version
 * negotiation, a guid per connection (from GetIFVersion), chunked calls, file receive with MD5 and resume, no SDK
 * call during a file transfer, heartbeats, UDP search.
 */
export class SdkDevice extends EventEmitter<{
  file: [ReceivedFile];
  call: [SdkMethodRequest];
  connection: [string];
}> {
  readonly options: SdkDeviceOptions;
  readonly stats: SdkDeviceStats = {
    connections: 0,
    badPackets: 0,
    badDatagrams: 0,
    searchAnswers: 0,
    calls: 0,
    errorAnswers: 0,
    illegalInterleaves: 0,
    droppedSilentHosts: 0,
    filesReceived: 0,
    fileBytesReceived: 0,
    heartbeatAsks: 0,
    heartbeatAsksIgnored: 0,
    refusedPerSource: 0,
    evictedConnections: 0,
    handshakeTimeouts: 0,
    slowPackets: 0,
    searchAsksLimited: 0,
    sdkCmdPackets: 0,
    refusedConnections: 0,
    unexpectedPackets: 0,
  };
  private readonly server: Server;
  private udp: UdpSocket | null = null;
  private readonly handlers = new Map<string, SdkMethodHandler>();
  private readonly sockets = new Set<Socket>();
  private readonly connections = new Set<DeviceConnection>();
  private readonly perSource = new Map<string, number>();
  private readonly searchLimiter: SearchLimiter;
  private readonly pending = new Set<Promise<void>>();
  /** @internal Hashing thread shared by all connections. */
  readonly md5: OffThreadMd5 | InThreadMd5;

  /** The controller's state and vendor methods (name, time, luminance, screen, fonts, files, programs). */
  readonly controller: ControllerModel;

  private constructor(options: SdkDeviceOptions, controller: ControllerModel) {
    super();
    this.options = options;
    this.controller = controller;
    this.md5 = (options.hashOffThread ?? availableParallelism() > 1) ? new OffThreadMd5() : new InThreadMd5();
    this.server = createServer((s) => this.accept(s));
    this.searchLimiter = new SearchLimiter(
      options.searchAnswersPerSecond ?? 20,
      options.searchAnswersPerSourcePerSecond ?? 2,
    );
    this.installBuiltins();
    for (const [m, h] of Object.entries(options.handlers ?? {})) this.handlers.set(m, h);
  }

  /** Creates a device and starts listening (TCP, and UDP search on the same port number). */
  static async start(options: SdkDeviceOptions = {}): Promise<SdkDevice> {
    const w = options.screen?.width ?? 128;
    const h = options.screen?.height ?? 64;
    if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1 || w > 8192 || h > 8192) {
      throw new ValueOutOfRangeError('screen', `${w}x${h} is not a screen size in 1..8192`);
    }
    const controller = await ControllerModel.open({
      width: w,
      height: h,
      deviceId: options.deviceId ?? DEFAULT_DEVICE_ID,
      ...(options.dir === undefined ? {} : { dir: options.dir }),
    });
    const device = new SdkDevice(options, controller);
    // Throws ValueOutOfRangeError now for an id over 15 bytes or oversized search data, not on the first search.
    device.searchAnswer(0);
    await device.listen();
    return device;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get address(): string {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.address : '';
  }

  /** UDP port answering search, or 0 when search is off. */
  get udpPort(): number {
    return this.udp ? this.udp.address().port : 0;
  }

  get deviceId(): string {
    return this.options.deviceId ?? DEFAULT_DEVICE_ID;
  }

  /** What the screen shows now (or `atMs` after the current program started), as PNG. */
  snapshot(atMs?: number): Promise<Uint8Array> {
    return this.controller.snapshot(atMs === undefined ? undefined : this.controller.state.programSince + atMs);
  }

  /** Registers (or replaces) a method handler. */
  handle(method: string, handler: SdkMethodHandler): this {
    this.handlers.set(method, handler);
    return this;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.udp) {
      const u = this.udp;
      this.udp = null;
      await new Promise<void>((resolve) => u.close(() => resolve()));
    }
    await this.settled();
    await this.controller.flush();
    await this.md5.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal */
  lookup(method: string): SdkMethodHandler | undefined {
    return this.handlers.get(method);
  }

  /** @internal */
  emitFile(file: ReceivedFile): void {
    this.stats.filesReceived++;
    this.emit('file', file);
  }

  /** @internal Partial-file writes of dropped connections; a new transfer waits for them. */
  track(p: Promise<unknown>): void {
    const done = p.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(done);
    void done.then(() => this.pending.delete(done));
  }

  /** @internal */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** @internal */
  forget(c: DeviceConnection, socket: Socket): void {
    if (!this.connections.delete(c)) return;
    this.sockets.delete(socket);
    const n = (this.perSource.get(c.source) ?? 1) - 1;
    if (n <= 0) this.perSource.delete(c.source);
    else this.perSource.set(c.source, n);
  }

  private async listen(): Promise<void> {
    const host = this.options.address ?? '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? SDK_PORT, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    if (this.options.search === false) return;
    const udp = createSocket('udp4');
    udp.on('message', (msg, rinfo) => this.onSearch(msg, rinfo.address, rinfo.port));
    try {
      await bindUdp(udp, this.port, host);
    } catch {
      await bindUdp(udp, 0, host);
    }
    this.udp = udp;
  }

  private onSearch(msg: Uint8Array, address: string, port: number): void {
    let d: ReturnType<typeof decodeSearchDatagram>;
    try {
      d = decodeSearchDatagram(msg);
    } catch {
      this.stats.badDatagrams++;
      return;
    }
    if (d.type !== 'kSearchDeviceAsk') {
      this.stats.badDatagrams++;
      return;
    }
    // The answer (21+ bytes) is larger than the 6-byte ask, and UDP sources can be forged: rate-limited, so a flood
    // of asks is answered with far fewer bytes than it sent (amplification below 1x; issue #22).
    const answer = this.searchAnswer(d.version);
    if (!this.searchLimiter.allow(address, Date.now())) {
      this.stats.searchAsksLimited++;
      return;
    }
    this.stats.searchAnswers++;
    this.udp?.send(answer, port, address);
  }

  private searchAnswer(version: number): Uint8Array {
    return encodeSearchDatagram({
      type: 'kSearchDeviceAnswer',
      version,
      deviceId: this.deviceId,
      data: this.options.searchData ?? new Uint8Array(0),
    });
  }

  private accept(socket: Socket): void {
    const source = socket.remoteAddress ?? '';
    const fromSource = this.perSource.get(source) ?? 0;
    if (fromSource >= (this.options.maxConnectionsPerSource ?? 8)) {
      this.stats.refusedConnections++;
      this.stats.refusedPerSource++;
      socket.destroy();
      return;
    }
    if (this.connections.size >= (this.options.maxConnections ?? 64)) {
      // Full: make room by closing the oldest connection still in its handshake (a flood of idle connections
      // cannot lock out a host that completes its handshake), else refuse.
      let victim: DeviceConnection | undefined;
      for (const c of this.connections) {
        if (!c.handshakeDone) {
          victim = c;
          break;
        }
      }
      if (!victim) {
        this.stats.refusedConnections++;
        socket.destroy();
        return;
      }
      this.stats.evictedConnections++;
      victim.close();
    }
    this.stats.connections++;
    this.sockets.add(socket);
    this.perSource.set(source, fromSource + 1);
    const c = new DeviceConnection(this, socket, source);
    this.connections.add(c);
    this.emit('connection', `${socket.remoteAddress}:${socket.remotePort}`);
    void c.run();
    c.watch();
  }

  private installBuiltins(): void {
    const sdkVersion = this.options.sdkVersion ?? '1000000';
    // GetIFVersion is handled by the connection (it issues the guid); this entry only answers the version.
    this.handlers.set('GetIFVersion', () => `<version value="${escapeXmlAttribute(sdkVersion)}"/>`);
    for (const [m, h] of Object.entries(this.controller.handlers())) this.handlers.set(m, h);
  }
}

/**
 * Token buckets for search answers: one for all sources and one per source address (at most 1024 tracked; the
 * oldest is forgotten first). A bucket holds one second of answers.
 */
class SearchLimiter {
  private global: { tokens: number; at: number };
  private readonly sources = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly perSourcePerSecond: number,
  ) {
    this.global = { tokens: perSecond, at: 0 };
  }

  allow(source: string, now: number): boolean {
    let b = this.sources.get(source);
    if (!b) {
      if (this.sources.size >= 1024) this.sources.delete(this.sources.keys().next().value!);
      b = { tokens: this.perSourcePerSecond, at: now };
      this.sources.set(source, b);
    }
    refill(this.global, this.perSecond, now);
    refill(b, this.perSourcePerSecond, now);
    if (this.global.tokens < 1 || b.tokens < 1) return false;
    this.global.tokens--;
    b.tokens--;
    return true;
  }
}

function refill(b: { tokens: number; at: number }, perSecond: number, now: number): void {
  const elapsed = Math.max(0, now - b.at);
  b.tokens = Math.min(perSecond, b.tokens + (elapsed * perSecond) / 1000);
  b.at = now;
}

function bindUdp(udp: UdpSocket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    udp.once('error', onError);
    udp.bind(port, host, () => {
      udp.off('error', onError);
      resolve();
    });
  });
}

/**
 * One host connection: the device side of the handshake, call assembly and dispatch, file reception with MD5
 * checks, and the replies. Above 500 lines on purpose: these are the states of one connection's protocol state
 * machine over one framer, in the order the protocol runs them; the vendor methods themselves are in controller.ts.
 */
class DeviceConnection {
  private state: State = 'connected';
  private guid: string | null = null;
  private readonly assembler = new SdkCallAssembler();
  private receive: Receive | null = null;
  /** When the last whole packet arrived (bytes of an unfinished packet do not count). */
  private lastHeard = Date.now();
  /** When the packet in progress started arriving, or null between packets. */
  private packetSince: number | null = null;
  private packetStart = 0;
  private readonly connectedAt = Date.now();
  private lastHeartbeatAnswer = Number.NEGATIVE_INFINITY;
  /** True once the host negotiated and called GetIFVersion. */
  handshakeDone = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerDue = 0;
  private closed = false;
  private readonly abort = new AbortController();
  private readonly remote: string;
  private readonly framer = new LengthFramer(sdkFraming());

  constructor(
    private readonly device: SdkDevice,
    private readonly socket: Socket,
    readonly source: string,
  ) {
    this.remote = socket.remoteAddress ?? '';
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => this.close());
    this.armTimer();
  }

  /**
   * Watches packet boundaries as bytes arrive (registered after `run` started reading, so the framer has taken the
   * chunk): a completed packet counts as hearing from the host, even while a long operation holds up processing;
   * a packet in progress must finish within `packetTimeoutMs`.
   */
  watch(): void {
    this.socket.on('data', () => {
      const f = this.framer;
      const start = f.position - f.bufferedBytes;
      const now = Date.now();
      if (start !== this.packetStart) {
        this.lastHeard = now;
        this.packetStart = start;
        this.packetSince = f.idle ? null : now;
      } else if (this.packetSince === null && !f.idle) this.packetSince = now;
      // A packet started: make sure the timer looks at it by its deadline.
      const limit = this.opts.packetTimeoutMs ?? PACKET_TIMEOUT_MS;
      if (this.packetSince !== null && this.timerDue > this.packetSince + limit && this.timer !== undefined) {
        clearTimeout(this.timer);
        this.armTimer();
      }
    });
  }

  private get opts(): SdkDeviceOptions {
    return this.device.options;
  }

  async run(): Promise<void> {
    try {
      for await (const frame of readFrames(this.socket, this.framer, { signal: this.abort.signal })) {
        let p: SdkPacket;
        try {
          p = decodePacket(frame);
        } catch {
          this.device.stats.badPackets++;
          this.socket.destroy();
          return;
        }
        await this.onPacket(p);
        if (this.closed) return;
      }
    } catch (error) {
      if (WireError.isInstance(error) && error.name !== 'AbortError') this.device.stats.badPackets++;
    } finally {
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.abort.abort();
    this.socket.destroy();
    const r = this.receive;
    this.receive = null;
    // A dropped connection keeps what arrived, for a resume; a later FileStart waits for this write.
    if (r) {
      this.device.track(
        this.flush(r).then(() => {
          this.device.md5.drop(r.hashId);
          return r.handle?.close().catch(() => {});
        }),
      );
    }
    this.device.forget(this, this.socket);
  }

  private send(bytes: Uint8Array): boolean {
    if (this.closed) return true;
    return this.socket.write(bytes);
  }

  private async sendAwait(bytes: Uint8Array): Promise<void> {
    if (this.send(bytes) || this.closed) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** kErrorAnswer, after which the connection is back in the just-connected state. */
  private errorAnswer(code: number): void {
    this.device.stats.errorAnswers++;
    this.send(encodePacket({ type: 'kErrorAnswer', code }));
    this.state = 'connected';
    this.guid = null;
    this.assembler.reset();
  }

  /**
   * One timer for the three deadlines: host silence, the packet in progress, the handshake. The device sends
   * nothing on its own (no unsolicited heartbeat: a host that answers every Answer with an Ask would make a loop,
   * issue #19); it only answers the host's asks.
   */
  private armTimer(): void {
    const silence = this.opts.hostSilenceMs ?? HOST_SILENCE_LIMIT_MS;
    const packetLimit = this.opts.packetTimeoutMs ?? PACKET_TIMEOUT_MS;
    const handshakeLimit = this.opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    const now = Date.now();
    let due = this.lastHeard + silence;
    if (this.packetSince !== null) due = Math.min(due, this.packetSince + packetLimit);
    if (!this.handshakeDone) due = Math.min(due, this.connectedAt + handshakeLimit);
    // Re-checked at least once a second; `watch` re-arms earlier when a packet starts.
    const delay = Math.max(0, Math.min(due - now, 1000));
    this.timerDue = now + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      const t = Date.now();
      if (t - this.lastHeard >= silence) {
        this.device.stats.droppedSilentHosts++;
        this.close();
        return;
      }
      if (this.packetSince !== null && t - this.packetSince >= packetLimit) {
        this.device.stats.slowPackets++;
        this.close();
        return;
      }
      if (!this.handshakeDone && t - this.connectedAt >= handshakeLimit) {
        this.device.stats.handshakeTimeouts++;
        this.close();
        return;
      }
      this.armTimer();
    }, delay);
    this.timer.unref?.();
  }

  private async onPacket(p: SdkPacket): Promise<void> {
    switch (p.type) {
      case 'kTcpHeartbeatAsk': {
        // Answered, at most once per interval: a host that asks in a loop gets no loop partner.
        this.device.stats.heartbeatAsks++;
        const t = Date.now();
        if (t - this.lastHeartbeatAnswer < (this.opts.heartbeatAnswerIntervalMs ?? 1000)) {
          this.device.stats.heartbeatAsksIgnored++;
          return;
        }
        this.lastHeartbeatAnswer = t;
        this.send(encodePacket({ type: 'kTcpHeartbeatAnswer' }));
        return;
      }
      case 'kTcpHeartbeatAnswer':
        return;
      case 'kSDKServiceAsk':
        await this.illegalIfTransferring();
        this.negotiate(p.version);
        return;
      case 'kSDKCmdAsk':
        this.device.stats.sdkCmdPackets++;
        if (this.state === 'file-receive' || this.state === 'file-send') {
          await this.illegalIfTransferring();
          return;
        }
        if (this.state !== 'negotiated') {
          this.errorAnswer(HErrorCode.kProcessError);
          return;
        }
        await this.onSdkChunk(p);
        return;
      case 'kFileStartAsk':
        if (this.state !== 'negotiated') {
          await this.illegalIfTransferring();
          this.errorAnswer(HErrorCode.kProcessError);
          return;
        }
        await this.onFileStart(p);
        return;
      case 'kFileContentAsk':
        if (this.state !== 'file-receive' || !this.receive) {
          this.errorAnswer(HErrorCode.kProcessError);
          return;
        }
        await this.onFileContent(this.receive, p.data);
        return;
      case 'kFileEndAsk':
        if (this.state !== 'file-receive' || !this.receive) {
          this.errorAnswer(HErrorCode.kProcessError);
          return;
        }
        await this.onFileEnd(this.receive);
        return;
      case 'kFileEndAnswer':
        if (this.state === 'file-send') this.state = 'negotiated';
        return;
      case 'kReadFileAsk':
        if (this.state !== 'negotiated') {
          await this.illegalIfTransferring();
          this.errorAnswer(HErrorCode.kProcessError);
          return;
        }
        await this.onReadFile(p.name);
        return;
      case 'kFileListStartAsk':
        if (this.state !== 'negotiated') {
          this.errorAnswer(HErrorCode.kProcessError);
          return;
        }
        this.send(encodePacket({ type: 'kFileListStartAnswer', status: 0 }));
        return;
      case 'kFileListEndAsk':
        this.send(encodePacket({ type: 'kFileListEndAnswer', status: 0 }));
        return;
      default:
        // Answers a host has no business sending, GPS pushes: counted and ignored.
        this.device.stats.unexpectedPackets++;
        return;
    }
  }

  /**
   * The note: an SDK message inserted into a file transfer marks the connection as an illegal-operation connection
   * and cancels the SDK negotiation. We answer kProcessError, drop the transfer (the partial file stays for a
   * resume) and return to the just-connected state; the host must renegotiate (or reconnect).
   */
  private async illegalIfTransferring(): Promise<void> {
    if (this.state !== 'file-receive' && this.state !== 'file-send') return;
    this.device.stats.illegalInterleaves++;
    const r = this.receive;
    this.receive = null;
    if (r) {
      await this.flush(r);
      await r.handle?.close().catch(() => {});
      this.device.md5.drop(r.hashId);
    }
    this.errorAnswer(HErrorCode.kProcessError);
  }

  private negotiate(version: number): void {
    const min = this.opts.minVersion ?? TcpVersion.v5;
    const max = this.opts.maxVersion ?? TcpVersion.v9;
    if (version < min) {
      this.errorAnswer(HErrorCode.kVersionTooLow);
      return;
    }
    const answer = Math.min(version, max);
    this.send(
      encodePacket(
        this.opts.versionAnswerWithStatus
          ? { type: 'kSDKServiceAnswer', version: answer, status: 0 }
          : { type: 'kSDKServiceAnswer', version: answer },
      ),
    );
    this.state = 'negotiated';
    this.guid = null;
    this.assembler.reset();
  }

  private async onSdkChunk(p: { total: number; index: number; data: Uint8Array }): Promise<void> {
    let whole: Uint8Array | undefined;
    try {
      whole = this.assembler.push(p);
    } catch (error) {
      this.errorAnswer(SdkChunkError.isInstance(error) ? Number(error.code) : HErrorCode.kInvalidXmlIndex);
      return;
    }
    if (!whole) return;
    let env: ReturnType<typeof parseSdkXml>;
    try {
      env = parseSdkXml(whole);
    } catch {
      this.errorAnswer(HErrorCode.kParseXmlFailed);
      return;
    }
    if (env.kind !== 'in') {
      this.errorAnswer(HErrorCode.kParseXmlFailed);
      return;
    }
    this.device.stats.calls++;
    const method = env.method;
    let guid = this.guid;
    if (method === 'GetIFVersion') {
      guid ??= randomBytes(16).toString('hex');
      this.guid = guid;
      this.handshakeDone = true;
    } else if (guid === null || env.guid !== guid) {
      await this.answer(env.guid, method, 'kInvalidGUID', '');
      return;
    }
    const request: SdkMethodRequest = { method, body: env.body, guid, remote: this.remote };
    this.device.emit('call', request);
    const handler = this.device.lookup(method);
    if (!handler) {
      await this.answer(guid, method, 'kInvalidMethod', '');
      return;
    }
    let result: SdkMethodResult;
    try {
      result = await handler(request);
    } catch {
      await this.answer(guid, method, 'kSystemError', '');
      return;
    }
    if (typeof result === 'string') await this.answer(guid, method, 'kSuccess', result);
    else await this.answer(guid, method, result.result ?? 'kSuccess', result.body ?? '');
  }

  private async answer(guid: string, method: string, result: string, body: string): Promise<void> {
    const safeGuid = guid === '' ? GUID_PLACEHOLDER : guid;
    let xml: string;
    try {
      xml = buildSdkResponse({ guid: safeGuid, method, result, body });
    } catch {
      xml = buildSdkResponse({ guid: safeGuid, method: 'Unknown', result: 'kInvalidMethod', body: '' });
    }
    const bytes = new TextEncoder().encode(xml);
    const chunkSize = this.opts.chunkSize;
    try {
      await this.sendAwait(encodeSdkCall(bytes, 'kSDKCmdAnswer', chunkSize === undefined ? {} : { chunkSize }));
    } catch {
      this.errorAnswer(HErrorCode.kXmlCmdTooLong);
    }
  }

  // ---- files ----

  private async onFileStart(ask: FileStartAsk): Promise<void> {
    const dir = this.opts.dir;
    const reply = (status: number, existSize = 0): void => {
      this.send(encodePacket({ type: 'kFileStartAnswer', status, existSize }));
    };
    if (!dir) return reply(HErrorCode.kCreateFileFailed);
    if (!FILE_NAME_RE.test(ask.name) || ask.name === '.' || ask.name === '..' || !/^[0-9a-f]{32}$/i.test(ask.md5)) {
      return reply(HErrorCode.kInvalidParam);
    }
    if (ask.size > (this.opts.maxFileSize ?? 4 * 1024 ** 3)) return reply(HErrorCode.kNotSpaceToSave);
    const md5 = ask.md5.toLowerCase();
    const partDir = join(dir, '.partial');
    // Partial files are keyed by MD5: the same MD5 means the same content, so resuming is safe.
    const partPath = join(partDir, md5);
    const finalPath = join(dir, ask.name);
    try {
      await this.device.settled();
      await mkdir(partDir, { recursive: true });
      const existing = await stat(finalPath).catch(() => null);
      if (existing?.isFile() && existing.size === ask.size && (await md5File(finalPath)) === md5) {
        // Already complete under that name: existSize = size, nothing to send.
        this.receive = {
          ask: { ...ask, md5 },
          partPath,
          finalPath,
          handle: null,
          hashId: 0,
          received: ask.size,
          written: ask.size,
          batch: new Uint8Array(0),
          spare: new Uint8Array(0),
          batchFill: 0,
          inflight: null,
          writeFailed: false,
          complete: true,
        };
        this.state = 'file-receive';
        return reply(0, ask.size);
      }
      const part = await stat(partPath).catch(() => null);
      const exist = part && part.size <= ask.size ? part.size : 0;
      const handle = await open(partPath, exist === 0 ? 'w' : 'r+');
      const hashId = this.device.md5.begin();
      if (exist > 0) {
        // Resume: hash what is already there.
        const buf = new Uint8Array(Math.min(BATCH, exist));
        for (let pos = 0; pos < exist; ) {
          const { bytesRead } = await handle.read(buf, 0, Math.min(buf.byteLength, exist - pos), pos);
          if (bytesRead <= 0) break;
          this.device.md5.update(hashId, buf.subarray(0, bytesRead));
          pos += bytesRead;
        }
      }
      if (this.closed) {
        // The host went away while the file was being opened.
        await handle.close().catch(() => {});
        this.device.md5.drop(hashId);
        return;
      }
      this.receive = {
        ask: { ...ask, md5 },
        partPath,
        finalPath,
        handle,
        hashId,
        received: exist,
        written: exist,
        batch: new Uint8Array(BATCH),
        spare: new Uint8Array(BATCH),
        batchFill: 0,
        inflight: null,
        writeFailed: false,
        complete: false,
      };
      this.state = 'file-receive';
      reply(0, exist);
    } catch {
      reply(HErrorCode.kCreateFileFailed);
    }
  }

  private async onFileContent(r: Receive, data: Uint8Array): Promise<void> {
    if (r.complete || r.received + data.byteLength > r.ask.size) {
      this.receive = null;
      await r.inflight;
      await r.handle?.close().catch(() => {});
      this.device.md5.drop(r.hashId);
      if (!r.complete) await rm(r.partPath, { force: true });
      this.errorAnswer(HErrorCode.kInvalidFileData);
      return;
    }
    r.received += data.byteLength;
    this.device.stats.fileBytesReceived += data.byteLength;
    if (r.batchFill + data.byteLength > r.batch.byteLength) await this.flush(r, false);
    r.batch.set(data, r.batchFill);
    r.batchFill += data.byteLength;
  }

  /**
   * Writes the collected content after what the file holds. Double-buffered: waits for the previous write, starts
   * this one, and (unless `wait`) returns while it runs. False once any write failed.
   */
  private async flush(r: Receive, wait = true): Promise<boolean> {
    if (r.inflight) {
      await r.inflight;
      r.inflight = null;
    }
    if (r.batchFill > 0 && r.handle) {
      const buf = r.batch;
      const n = r.batchFill;
      const position = r.written;
      r.written += n;
      r.batch = r.spare;
      r.spare = buf;
      r.batchFill = 0;
      this.device.md5.update(r.hashId, buf.subarray(0, n));
      r.inflight = r.handle.write(buf, 0, n, position).then(
        () => undefined,
        () => {
          r.writeFailed = true;
        },
      );
    }
    if (wait && r.inflight) {
      await r.inflight;
      r.inflight = null;
    }
    return !r.writeFailed;
  }

  private async onFileEnd(r: Receive): Promise<void> {
    const flushed = await this.flush(r);
    await r.handle?.close().catch(() => {});
    this.receive = null;
    this.state = 'negotiated';
    const reply = (status: number): void => {
      this.send(encodePacket({ type: 'kFileEndAnswer', status }));
    };
    const file: ReceivedFile = {
      name: r.ask.name,
      path: r.finalPath,
      size: r.ask.size,
      md5: r.ask.md5,
      fileType: r.ask.fileType,
    };
    if (r.complete) {
      this.device.emitFile(file);
      return reply(0);
    }
    if (!flushed || r.received < r.ask.size) {
      this.device.md5.drop(r.hashId);
      return reply(flushed ? HErrorCode.kFileNotFinish : HErrorCode.kWriteFileFailed);
    }
    let md5: string;
    try {
      md5 = await this.device.md5.digest(r.hashId);
    } catch {
      return reply(HErrorCode.kSystemError);
    }
    if (md5 !== r.ask.md5) {
      await rm(r.partPath, { force: true });
      return reply(HErrorCode.kFileContentError);
    }
    try {
      await rename(r.partPath, r.finalPath);
    } catch {
      return reply(HErrorCode.kRenameFailed);
    }
    this.device.emitFile(file);
    reply(0);
  }

  private async onReadFile(name: string): Promise<void> {
    const dir = this.opts.dir;
    const fail = (status: number): void => {
      this.send(encodePacket({ type: 'kReadFileAnswer', status, md5: '', size: 0, fileType: 0 }));
    };
    if (!dir || !FILE_NAME_RE.test(name) || name === '.' || name === '..') return fail(HErrorCode.kFileNotFound);
    const path = join(dir, name);
    const s = await stat(path).catch(() => null);
    if (!s?.isFile()) return fail(HErrorCode.kFileNotFound);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch {
      return fail(HErrorCode.kOpenFileFailed);
    }
    try {
      const md5 = await md5File(path, { length: s.size });
      this.send(encodePacket({ type: 'kReadFileAnswer', status: 0, md5, size: s.size, fileType: 0 }));
      this.state = 'file-send';
      const block = new Uint8Array(64 * MAX_FILE_CONTENT_CHUNK);
      for (let pos = 0; pos < s.size && !this.closed; ) {
        const { bytesRead } = await handle.read(block, 0, Math.min(block.byteLength, s.size - pos), pos);
        if (bytesRead <= 0) break;
        await this.sendAwait(packFileContent(block.subarray(0, bytesRead)));
        pos += bytesRead;
      }
      this.send(encodePacket({ type: 'kFileEndAsk' }));
    } finally {
      await handle.close().catch(() => {});
    }
  }
}
