import type { RemoteInfo, Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import {
  ByteWriter,
  ipv4ToU32,
  isIpv4,
  isLoopback,
  PerSecondBudget,
  sameSubnet,
  ValueOutOfRangeError,
  WireError,
} from '@cam/net-utils';
import {
  ACK_CODE_FOR,
  type ActionCommand,
  actionGroupRegister,
  BootstrapRegister as B,
  DEVICE_INFO_SIZE,
  decodeCommand,
  decodeCommandHeader,
  encodeAck,
  type ForceIpCommand,
  GVCP_HEADER_SIZE,
  GVCP_KEY,
  GVCP_MAX_DATAGRAM,
  GVCP_PORT,
  type GvcpCommand,
  GvcpConfigurationBits,
  GvcpFlag,
  GvcpStatus,
  GvcpUnknownCommandError,
  READMEM_MAX_COUNT,
  READREG_MAX_COUNT,
  WRITEMEM_MAX_COUNT,
  WRITEREG_MAX_COUNT,
} from '../codec/index.js';
import { GvcpDeviceStatusError, statusOf } from './errors.js';
import type { FrameEventName } from './event-control.js';
import type { ChunkName } from './genicam.js';
import { MessageChannel } from './message-channel.js';
import { DeviceModel, intOption, SCHEDULED_ACTION_QUEUE } from './model.js';
import { type Application, ControlChannel, type PrimaryApplication } from './privilege.js';
import { type AccessContext, PartialWriteError, type RegisterSpace, type WriteListener } from './registers.js';
import { RetransmitCache } from './retransmit-cache.js';
import { DeviceSockets } from './sockets.js';
import type {
  ActionSignal,
  ControlChangeReason,
  DeviceEvent,
  EventDelivery,
  GvcpDeviceEvents,
  GvcpDeviceOptions,
  GvcpDeviceStats,
  IpConfig,
} from './types.js';

export { GENICAM_FILE_ADDRESS } from './model.js';
export type {
  ActionSignal,
  ControlChangeReason,
  DeviceEvent,
  EventDelivery,
  GvcpDeviceEvents,
  GvcpDeviceOptions,
  GvcpDeviceStats,
  IpConfig,
} from './types.js';

const MAX_ACTION_DELAY_MS = 600_000;
const MAX_PENDING_ACKS = 100;

/** Hosts whose last reached local address is remembered (for the message channel's source address). */
const REACHED_VIA_MAX = 256;
/** End of the current IP configuration registers (0x0024 IP ... 0x0044 gateway). */
const REACHED_END = 0x0048;
const key = (a: AccessContext): string => `${a.address}:${a.port}`;

/**
 * A simulated GigE Vision camera. This class is the GVCP server (the role of Aravis's arvgvfakecamera.c): the UDP
 * socket, command dispatch and the bounded command queue, PENDING_ACK, the retransmission cache, control channel
 * privilege and heartbeat, DISCOVERY / FORCEIP, ACTION (scheduled too); events go out through message-channel.ts.
 * What the camera holds (bootstrap registers, GenICam features, acquisition state) is the register model, model.ts
 * (arvfakecamera.c), which this server composes; its public API (`registers`, `imageFormat()`, ...) is reached
 * through here.
 *
 * Above 500 lines on purpose: every GVCP command's path (queueing per source, pending acks, retransmissions,
 * privilege checks, the ack) runs through the one dispatch state kept here; split further, each piece would need
 * that state passed around.
 *
 * ```ts
 * await using device = await GvcpDevice.start({ address: '127.0.0.1', port: 0, serialNumber: 'SIM1' });
 * device.onWrite(FeatureRegister.Width, (w) => console.log('width', w));
 * ```
 */
export class GvcpDevice extends EventEmitter<GvcpDeviceEvents> {
  /** The address space; define registers here (`device.registers.define({...})`). */
  readonly registers: RegisterSpace;
  /** Control channel privilege state (CCP). */
  readonly control: ControlChannel;
  readonly stats: GvcpDeviceStats = {
    datagramsReceived: 0,
    commandsExecuted: 0,
    acksSent: 0,
    badDatagrams: 0,
    errorAcksSuppressed: 0,
    notImplemented: 0,
    retransmissionsAnswered: 0,
    retransmissionsWhileBusy: 0,
    accessDenied: 0,
    pendingAcksSent: 0,
    busyRejected: 0,
    heartbeatTimeouts: 0,
    packetResendRequests: 0,
    packetResendRefused: 0,
    actionsAcknowledged: 0,
    actionsIgnored: 0,
    eventsSent: 0,
    eventRetries: 0,
    eventsAcknowledged: 0,
    eventsUnacknowledged: 0,
    handlerErrors: 0,
    sendErrors: 0,
  };
  /** The GenICam XML this device serves. */
  readonly genicamXml: string;
  /** The register model this server answers for (bootstrap table, features, acquisition state). */
  readonly #model: DeviceModel;
  /** Events to the host (MCDA:MCP), with their retries. */
  readonly #messages: MessageChannel;

  readonly #options: GvcpDeviceOptions;
  readonly #bindAddress: string;
  readonly #port: number;
  readonly #pendingAckTime: number;
  readonly #receiveBufferSize: number;
  /** Error answers to non-holders left in the current second, and when that second started. */
  #errorAckBudget: PerSecondBudget;
  readonly #handlerTimeout: number;
  readonly #maxQueued: number;
  readonly #allowBroadcastAck: boolean;
  readonly #cache: RetransmitCache;
  #sockets: DeviceSockets | undefined;
  #rescanTimer: NodeJS.Timeout | undefined;
  /** The local address each host last reached (host IPv4 -> our address), for the message channel's source. */
  readonly #reachedVia = new Map<string, string>();
  #closed = false;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  readonly #maxQueuedPerSource: number;
  readonly #queuedBySource = new Map<string, number>();
  #heartbeatTimer: NodeJS.Timeout | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  #scheduledActions = 0;

  constructor(options: GvcpDeviceOptions = {}) {
    super();
    this.#options = options;
    this.#bindAddress = options.address ?? '0.0.0.0';
    if (!isIpv4(this.#bindAddress))
      throw new ValueOutOfRangeError('address', `"${this.#bindAddress}" is not an IPv4 address`);
    this.#port = options.port ?? GVCP_PORT;
    if (!Number.isInteger(this.#port) || this.#port < 0 || this.#port > 0xffff) {
      throw new ValueOutOfRangeError('port', `${this.#port} is not in 0..65535`);
    }
    this.#pendingAckTime = intOption(options.pendingAckTimeMs, 1000, 1, 0xffff, 'pendingAckTimeMs');
    this.#receiveBufferSize = intOption(options.receiveBufferSize, 4 * 1024 * 1024, 4096, 1 << 30, 'receiveBufferSize');
    this.#errorAckBudget = new PerSecondBudget(
      intOption(options.errorAcksPerSecond, 100, 0, 1_000_000, 'errorAcksPerSecond'),
    );
    this.#handlerTimeout = intOption(options.handlerTimeoutMs, 10_000, 1, 3_600_000, 'handlerTimeoutMs');
    this.#maxQueued = intOption(options.maxQueuedCommands, 32, 1, 10_000, 'maxQueuedCommands');
    this.#maxQueuedPerSource = intOption(
      options.maxQueuedPerSource,
      Math.max(1, Math.floor(this.#maxQueued / 4)),
      1,
      10_000,
      'maxQueuedPerSource',
    );
    this.#allowBroadcastAck = options.allowBroadcastAck ?? true;
    this.#cache = new RetransmitCache(options.retransmitCacheSize ?? 64);
    this.control = new ControlChannel({ switchoverSupported: true });
    this.#model = new DeviceModel(options, { bindAddress: this.#bindAddress, port: this.#port }, this.control, {
      emit: (event, ...args) => this.#emitSafe(event, ...args),
      sendEvent: (event) => void this.sendEvent(event),
      heartbeatSettingsChanged: () => this.#armHeartbeat(),
      writeCcp: (value, from) => this.#writeCcp(value, from),
      deviceReset: () => this.reset(),
    });
    this.registers = this.#model.registers;
    this.genicamXml = this.#model.genicamXml;
    this.#messages = new MessageChannel({
      registers: this.registers,
      stats: this.stats,
      sourceAddress: (host) => this.#messageSource(host),
      timestamp: () => this.timestamp(),
      reportError: (error) => this.#reportError(error),
    });
    if (options.signal) {
      if (options.signal.aborted) this.#closed = true;
      else options.signal.addEventListener('abort', () => void this.close(), { once: true });
    }
  }

  /** Creates a device and starts listening. */
  static async start(options: GvcpDeviceOptions = {}): Promise<GvcpDevice> {
    const device = new GvcpDevice(options);
    await device.listen();
    return device;
  }

  /**
   * Binds the GVCP socket(s): one, bound to `address`; or bound to every interface, one per interface address
   * plus the broadcast addresses (see sockets.ts). Rejects (for example with EADDRINUSE) when the port is taken.
   */
  async listen(): Promise<{ address: string; port: number }> {
    if (this.#closed) throw new Error('GvcpDevice is closed');
    if (this.#sockets) return this.address();
    const sockets = await DeviceSockets.open({
      bindAddress: this.#bindAddress,
      port: this.#port,
      onMessage: (msg, rinfo, reply, local) => this.#onDatagram(reply, msg, rinfo, local),
      currentIp: () => this.ipConfig.ip,
      receiveBufferSize: this.#receiveBufferSize,
      onError: () => {
        this.stats.sendErrors++;
      },
    });
    if (this.#closed) {
      await sockets.close();
      throw new Error('GvcpDevice is closed');
    }
    this.#sockets = sockets;
    const rescanMs = this.#options.interfaceRescanMs ?? 2000;
    if (sockets.everyInterface && rescanMs > 0) {
      // Interfaces come and go (DHCP, a FORCEIP hook, a test's namespace): follow them.
      this.#rescanTimer = setInterval(() => void sockets.refresh(), rescanMs);
      this.#rescanTimer.unref();
    }
    if (this.#port === 0) this.#model.deriveIdentity(sockets.port);
    const where = this.address();
    this.#emitSafe('listening', where);
    return where;
  }

  /** Where the device listens (`0.0.0.0` when bound to every interface). */
  address(): { address: string; port: number } {
    if (!this.#sockets) throw new Error('GvcpDevice is not listening');
    return { address: this.#bindAddress, port: this.#sockets.port };
  }

  /** The addresses the device answers from: the bound one, or every interface address when bound to all. */
  localAddresses(): string[] {
    return this.#sockets?.addresses ?? [];
  }

  /**
   * The address stream packets toward `host` leave from: the device's address that the primary application
   * reached (a real camera streams from its own IP on that link, and hosts filter by it), else the one the stream
   * host reached or that routes to it; `0.0.0.0` (the kernel's choice) unless bound to every interface.
   */
  streamSourceAddress(host: string): string {
    const sockets = this.#sockets;
    if (!sockets?.everyInterface) return this.#bindAddress;
    const primary = this.control.primary?.address;
    const via = primary === undefined ? undefined : this.#reachedVia.get(primary);
    // (a loopback address cannot send to another host)
    if (via !== undefined && sockets.addresses.includes(via) && (!isLoopback(via) || isLoopback(host))) return via;
    return this.#messageSource(host);
  }

  /** Re-reads the host's interfaces now (done after every FORCEIP, and every `interfaceRescanMs`). */
  async refreshInterfaces(): Promise<void> {
    await this.#sockets?.refresh();
  }

  /** The device MAC address. */
  get mac(): string {
    return this.#model.mac;
  }

  get serialNumber(): string {
    return this.#model.serialNumber;
  }

  /** Current IP configuration (as FORCEIP left it). */
  get ipConfig(): IpConfig {
    return this.#model.ipConfig;
  }

  /** True between AcquisitionStart and AcquisitionStop (or loss of control). */
  get acquiring(): boolean {
    return this.#model.acquiring;
  }

  /**
   * The sensor side (a stream sender) finished a frame: SingleFrame acquisitions end after one, MultiFrame after
   * AcquisitionFrameCount (AcquisitionStatus goes to 0 and 'acquisitionStop' says 'complete'). Returns true while the
   * acquisition goes on.
   */
  frameDone(): boolean {
    return this.#model.frameDone();
  }

  /**
   * The sensor side reports a frame event (FrameStart, ExposureEnd): sent as EVENTDATA on the message channel when
   * EventNotification is On for it. Returns whether it was sent.
   */
  frameEvent(name: FrameEventName, e: { frameId: bigint; timestamp: bigint }): boolean {
    return this.#model.frameEvent(name, e);
  }

  /** Drives input line `line` (Line0): an edge that matches TriggerActivation is a Line0 trigger. */
  setLine(line: number, high: boolean): void {
    this.#model.setLine(line, high);
  }

  /** Trigger counters. */
  get triggerStats(): { triggersAccepted: number; triggersIgnored: number; framesAcquired: number } {
    return this.#model.triggerStats;
  }

  /** The image the current feature values describe (for a stream sender). */
  imageFormat(): ReturnType<DeviceModel['imageFormat']> {
    return this.#model.imageFormat();
  }

  /** ChunkModeActive and the chunks ChunkEnable switched on (for a stream sender). */
  chunkSettings(): { active: boolean; enabled: ChunkName[] } {
    return this.#model.chunkSettings();
  }

  /**
   * The acquisition features (for a stream sender): mode, frames of a MultiFrame acquisition, frame rate (Hz),
   * exposure (us), gain (dB), test pattern, and the FrameStart trigger (on: frames start only on 'frameTrigger').
   */
  acquisitionSettings(): ReturnType<DeviceModel['acquisitionSettings']> {
    return this.#model.acquisitionSettings();
  }

  /** Stream channel `n`'s registers, decoded (for a stream sender). */
  streamChannel(n = 0): ReturnType<DeviceModel['streamChannel']> {
    return this.#model.streamChannel(n);
  }

  /** Device timestamp (ticks of 1 ns since start or the last reset). */
  timestamp(): bigint {
    return this.#model.timestamp();
  }

  /** Shorthand for `registers.onWrite`: `fn` runs after every successful remote write of `address`. */
  onWrite(address: number, fn: WriteListener): () => void {
    return this.registers.onWrite(address, fn);
  }

  /**
   * Sends an EVENT (or EVENTDATA with `data`) to the message channel (MCDA:MCP), retrying after MCTT ms up to MCRC
   * times until the host acknowledges. Events are sent one at a time, in order.
   */
  sendEvent(event: DeviceEvent): Promise<EventDelivery> {
    if (this.#closed) return Promise.resolve({ sent: false, acknowledged: false, attempts: 0 });
    return this.#messages.send(event);
  }

  /** Stops listening, drops control, clears every timer. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.control.release()) this.#emitSafe('controlChange', { primary: undefined, reason: 'close' });
    this.#model.stopAcquisition('control-lost');
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#cache.clear();
    if (this.#rescanTimer) clearInterval(this.#rescanTimer);
    this.#rescanTimer = undefined;
    const set = this.#sockets;
    this.#sockets = undefined;
    await Promise.all([set?.close(), this.#messages.close()]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Counts a handler failure and tells 'handlerError' listeners (whose own failures are swallowed). */
  #reportError(error: unknown): void {
    this.stats.handlerErrors++;
    try {
      this.emit('handlerError', error);
    } catch {
      // A broken error listener must not take the device down either.
    }
  }

  /** Emits without letting a listener's exception escape into a socket or timer callback. */
  #emitSafe<K extends keyof GvcpDeviceEvents>(event: K, ...args: GvcpDeviceEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: GvcpDeviceEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.#reportError(error);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Datagram handling

  #onDatagram(socket: Socket, msg: Buffer, rinfo: RemoteInfo, local: string): void {
    this.stats.datagramsReceived++;
    const from: AccessContext = { address: rinfo.address, port: rinfo.port };
    if (this.#reachedVia.get(rinfo.address) !== local) {
      // Bounded: the oldest host is forgotten first.
      this.#reachedVia.delete(rinfo.address);
      if (this.#reachedVia.size >= REACHED_VIA_MAX) this.#reachedVia.delete(this.#reachedVia.keys().next().value ?? '');
      this.#reachedVia.set(rinfo.address, local);
    }
    try {
      this.#dispatch(socket, new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), from);
    } catch (error) {
      // Nothing a peer sends may take the device down.
      this.#reportError(error);
    }
  }

  /**
   * Counts a bad datagram. The error is built only when someone listens to 'badDatagram': a typed error captures a
   * stack trace, and building one per datagram of a flood made the device several times slower than the sender,
   * so the kernel's queue overflowed and dropped the control holder's heartbeats with the flood.
   */
  #bad(from: AccessContext, error: unknown | (() => unknown)): void {
    this.stats.badDatagrams++;
    if (this.listenerCount('badDatagram') > 0)
      this.#emitSafe('badDatagram', { from, error: typeof error === 'function' ? error() : error });
  }

  /** Answers a bad datagram with INVALID_HEADER: always to the control holder, to others within the budget. */
  #invalidHeader(socket: Socket, from: AccessContext, code: number, reqId: number): void {
    if (this.control.primary?.address !== from.address) {
      if (!this.#errorAckBudget.take()) {
        this.stats.errorAcksSuppressed++;
        return;
      }
    }
    this.#answer(socket, from, undefined, this.#statusAck(GvcpStatus.INVALID_HEADER, (code + 1) & 0xffff, reqId));
  }

  #dispatch(socket: Socket, bytes: Uint8Array, from: AccessContext): void {
    if (bytes.byteLength < GVCP_HEADER_SIZE || bytes[0] !== GVCP_KEY) {
      this.#bad(from, () => new WireError('not a GVCP command (too short or key is not 0x42)'));
      return;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const flags = view.getUint8(1);
    const code = view.getUint16(2);
    const reqId = view.getUint16(6);
    const ackRequired = (flags & GvcpFlag.ACK_REQUIRED) !== 0;
    if (bytes.byteLength > GVCP_MAX_DATAGRAM) {
      this.#bad(from, () => new WireError(`GVCP datagram of ${bytes.byteLength} bytes exceeds ${GVCP_MAX_DATAGRAM}`));
      if (ackRequired && reqId !== 0) this.#invalidHeader(socket, from, code, reqId);
      return;
    }
    // The payload length must match the datagram (decodeCommandHeader's first check): most of a flood of lying or
    // truncated datagrams ends here, without an exception.
    if (view.getUint16(4) !== bytes.byteLength - GVCP_HEADER_SIZE) {
      this.#bad(from, () => {
        try {
          decodeCommandHeader(bytes);
        } catch (error) {
          return error;
        }
        return new WireError('GVCP payload length does not match the datagram');
      });
      if (ackRequired && reqId !== 0) this.#invalidHeader(socket, from, code, reqId);
      return;
    }
    const sender = key(from);
    if (reqId !== 0) {
      const cached = this.#cache.match(sender, reqId, bytes);
      if (cached) {
        if (cached.ack) {
          this.stats.retransmissionsAnswered++;
          this.#sendRaw(socket, cached.ack, from);
        } else {
          this.stats.retransmissionsWhileBusy++;
          // Still running: if the host may wait, repeat that it should (our PENDING_ACK may have been lost).
          if (
            ackRequired &&
            (this.registers.get(B.GVCP_CONFIGURATION) & GvcpConfigurationBits.PENDING_ACK_ENABLE) !== 0
          ) {
            this.stats.pendingAcksSent++;
            this.#sendRaw(
              socket,
              encodeAck({
                type: 'pending',
                ackId: reqId,
                status: GvcpStatus.SUCCESS,
                timeToCompletion: this.#pendingAckTime,
              }),
              from,
            );
          }
        }
        return;
      }
    }
    let cmd: GvcpCommand;
    try {
      cmd = decodeCommand(bytes);
    } catch (error) {
      if (GvcpUnknownCommandError.isInstance(error)) {
        this.stats.notImplemented++;
        if (ackRequired)
          this.#answer(
            socket,
            from,
            undefined,
            this.#statusAck(GvcpStatus.NOT_IMPLEMENTED, (code + 1) & 0xffff, reqId),
          );
        return;
      }
      this.#bad(from, error);
      if (ackRequired && reqId !== 0) this.#invalidHeader(socket, from, code, reqId);
      return;
    }
    switch (cmd.type) {
      case 'discovery':
        this.#discovery(socket, cmd.reqId, cmd.ackRequired, cmd.allowBroadcastAck, from).catch((error: unknown) => {
          this.#reportError(error);
        });
        return;
      case 'packetresend':
        // Never acknowledged: the answer is the resent stream packets. Only the stream's host (SCDA) or the control
        // holder may ask: anyone else could point a 20-byte request at a whole block sent to the stream host.
        if (!this.#model.mayRequestResend(cmd.streamChannel, from.address)) {
          this.stats.packetResendRefused++;
          return;
        }
        this.stats.packetResendRequests++;
        this.#emitSafe('packetResend', cmd, from);
        return;
      case 'action':
        this.#action(socket, cmd, from, bytes);
        return;
      case 'event':
      case 'eventdata':
        // Events flow from device to host; a device does not execute them.
        this.stats.notImplemented++;
        if (cmd.ackRequired)
          this.#answer(socket, from, undefined, this.#statusAck(GvcpStatus.NOT_IMPLEMENTED, code + 1, cmd.reqId));
        return;
      default:
        break;
    }
    const holder = this.control.primary?.address === from.address;
    const mine = this.#queuedBySource.get(from.address) ?? 0;
    if (
      holder ? this.#queued >= this.#maxQueued + 4 : this.#queued >= this.#maxQueued || mine >= this.#maxQueuedPerSource
    ) {
      this.stats.busyRejected++;
      if (cmd.ackRequired)
        this.#sendRaw(socket, this.#statusAck(GvcpStatus.BUSY, ACK_CODE_FOR[cmd.type], cmd.reqId), from);
      return;
    }
    const entry = cmd.ackRequired ? this.#cache.begin(sender, cmd.reqId, bytes) : undefined;
    this.#queued++;
    this.#queuedBySource.set(from.address, mine + 1);
    const run = async (): Promise<void> => {
      try {
        if (this.#closed) return;
        const ack = await this.#execute(socket, cmd, from);
        if (ack && cmd.ackRequired) this.#answer(socket, from, entry, ack);
      } catch (error) {
        this.#reportError(error);
      } finally {
        this.#queued--;
        const left = (this.#queuedBySource.get(from.address) ?? 1) - 1;
        if (left > 0) this.#queuedBySource.set(from.address, left);
        else this.#queuedBySource.delete(from.address);
      }
    };
    this.#queue = this.#queue.then(run);
  }

  /** Runs a queued command; the returned bytes are its ack (undefined: no answer). */
  async #execute(socket: Socket, cmd: GvcpCommand, from: AccessContext): Promise<Uint8Array | undefined> {
    this.stats.commandsExecuted++;
    if (cmd.type === 'forceip') return this.#forceIp(socket, cmd, from);
    // Any command from the primary application is its heartbeat.
    this.control.touch(from);
    if (this.control.primary) this.#armHeartbeat();
    const work = this.#executeAccess(cmd, from, socket);
    return this.#withPendingAck(socket, cmd, from, work);
  }

  async #executeAccess(cmd: GvcpCommand, from: AccessContext, reply: Socket): Promise<Uint8Array> {
    switch (cmd.type) {
      case 'readreg': {
        if (cmd.addresses.length > READREG_MAX_COUNT)
          return this.#statusAck(GvcpStatus.INVALID_PARAMETER, ACK_CODE_FOR.readreg, cmd.reqId);
        if (!this.control.canRead(from)) return this.#denied(ACK_CODE_FOR.readreg, cmd.reqId);
        const values: number[] = [];
        for (const address of cmd.addresses) {
          try {
            values.push(this.#reachedWord(address, reply) ?? (await this.registers.readRegister(address, from)));
          } catch (error) {
            this.#noteHandlerError(error);
            return encodeAck({ type: 'readreg', ackId: cmd.reqId, status: statusOf(error), values });
          }
        }
        return encodeAck({ type: 'readreg', ackId: cmd.reqId, status: GvcpStatus.SUCCESS, values });
      }
      case 'writereg': {
        if (cmd.writes.length > WRITEREG_MAX_COUNT)
          return this.#statusAck(GvcpStatus.INVALID_PARAMETER, ACK_CODE_FOR.writereg, cmd.reqId);
        for (let i = 0; i < cmd.writes.length; i++) {
          const { address, value } = cmd.writes[i]!;
          let status: number = GvcpStatus.SUCCESS;
          if (address !== B.CCP && !this.control.canWrite(from)) {
            status = GvcpStatus.ACCESS_DENIED;
            this.stats.accessDenied++;
          } else {
            try {
              await this.registers.writeRegister(address, value, from);
            } catch (error) {
              this.#noteHandlerError(error);
              status = statusOf(error);
              if (status === GvcpStatus.ACCESS_DENIED) this.stats.accessDenied++;
            }
          }
          // The index of a failed WRITEREG is the register that failed (= registers written before it).
          if (status !== GvcpStatus.SUCCESS) return encodeAck({ type: 'writereg', ackId: cmd.reqId, status, index: i });
        }
        return encodeAck({ type: 'writereg', ackId: cmd.reqId, status: GvcpStatus.SUCCESS, index: cmd.writes.length });
      }
      case 'readmem': {
        if (!this.control.canRead(from)) return this.#denied(ACK_CODE_FOR.readmem, cmd.reqId);
        if (cmd.address % 4 !== 0) return this.#statusAck(GvcpStatus.BAD_ALIGNMENT, ACK_CODE_FOR.readmem, cmd.reqId);
        if (cmd.count === 0 || cmd.count % 4 !== 0 || cmd.count > READMEM_MAX_COUNT) {
          return this.#statusAck(GvcpStatus.INVALID_PARAMETER, ACK_CODE_FOR.readmem, cmd.reqId);
        }
        try {
          let data = await this.registers.readMemory(cmd.address, cmd.count, from);
          if (cmd.address < REACHED_END && cmd.address + cmd.count > B.CURRENT_IP_ADDRESS) {
            data = Uint8Array.from(data);
            const view = new DataView(data.buffer);
            for (let a = cmd.address; a < cmd.address + cmd.count; a += 4) {
              const word = this.#reachedWord(a, reply);
              if (word !== undefined) view.setUint32(a - cmd.address, word);
            }
          }
          return encodeAck({
            type: 'readmem',
            ackId: cmd.reqId,
            status: GvcpStatus.SUCCESS,
            address: cmd.address,
            data,
          });
        } catch (error) {
          this.#noteHandlerError(error);
          return this.#statusAck(statusOf(error), ACK_CODE_FOR.readmem, cmd.reqId);
        }
      }
      case 'writemem': {
        if (!this.control.canWrite(from)) return this.#denied(ACK_CODE_FOR.writemem, cmd.reqId);
        if (cmd.address % 4 !== 0)
          return encodeAck({ type: 'writemem', ackId: cmd.reqId, status: GvcpStatus.BAD_ALIGNMENT, index: 0 });
        if (cmd.data.byteLength === 0 || cmd.data.byteLength % 4 !== 0 || cmd.data.byteLength > WRITEMEM_MAX_COUNT) {
          return encodeAck({ type: 'writemem', ackId: cmd.reqId, status: GvcpStatus.INVALID_PARAMETER, index: 0 });
        }
        try {
          const written = await this.registers.writeMemory(cmd.address, cmd.data, from);
          return encodeAck({ type: 'writemem', ackId: cmd.reqId, status: GvcpStatus.SUCCESS, index: written });
        } catch (error) {
          this.#noteHandlerError(error);
          const index = PartialWriteError.isInstance(error) ? error.written : 0;
          return encodeAck({ type: 'writemem', ackId: cmd.reqId, status: statusOf(error), index });
        }
      }
      default:
        return this.#statusAck(GvcpStatus.NOT_IMPLEMENTED, ACK_CODE_FOR[cmd.type], cmd.reqId);
    }
  }

  #noteHandlerError(error: unknown): void {
    if (!GvcpDeviceStatusError.isInstance(error)) {
      this.#reportError(error);
    }
  }

  #denied(ackCode: number, reqId: number): Uint8Array {
    this.stats.accessDenied++;
    return this.#statusAck(GvcpStatus.ACCESS_DENIED, ackCode, reqId);
  }

  /**
   * Waits for `work`; when PENDING_ACK is enabled and the work takes longer than the pending timeout, tells the host
   * how long it still needs (repeatedly); gives up with ERROR after the handler timeout.
   */
  async #withPendingAck(
    socket: Socket,
    cmd: GvcpCommand,
    from: AccessContext,
    work: Promise<Uint8Array>,
  ): Promise<Uint8Array> {
    const pendingEnabled =
      cmd.ackRequired && (this.registers.get(B.GVCP_CONFIGURATION) & GvcpConfigurationBits.PENDING_ACK_ENABLE) !== 0;
    const threshold = this.registers.get(B.PENDING_TIMEOUT);
    let pendingTimer: NodeJS.Timeout | undefined;
    let giveUpTimer: NodeJS.Timeout | undefined;
    let sent = 0;
    const sendPending = (): void => {
      if (this.#closed || sent >= MAX_PENDING_ACKS) return;
      sent++;
      this.stats.pendingAcksSent++;
      this.#sendRaw(
        socket,
        encodeAck({
          type: 'pending',
          ackId: cmd.reqId,
          status: GvcpStatus.SUCCESS,
          timeToCompletion: this.#pendingAckTime,
        }),
        from,
      );
      // Announce again a little before the time we gave runs out.
      pendingTimer = this.#timer(sendPending, Math.max(1, Math.floor(this.#pendingAckTime * 0.8)));
    };
    if (pendingEnabled) pendingTimer = this.#timer(sendPending, Math.max(1, threshold));
    const giveUp = new Promise<Uint8Array>((resolve) => {
      giveUpTimer = this.#timer(() => {
        this.stats.handlerErrors++;
        resolve(this.#statusAck(GvcpStatus.ERROR, ACK_CODE_FOR[cmd.type], cmd.reqId));
      }, this.#handlerTimeout);
    });
    try {
      return await Promise.race([work, giveUp]);
    } finally {
      this.#clearTimer(pendingTimer);
      this.#clearTimer(giveUpTimer);
    }
  }

  #timer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    t.unref?.();
    this.#timers.add(t);
    return t;
  }

  #clearTimer(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.#timers.delete(t);
  }

  #answer(
    socket: Socket,
    to: AccessContext,
    entry: { ack: Uint8Array | undefined } | undefined,
    ack: Uint8Array,
  ): void {
    if (entry) entry.ack = ack;
    this.#sendRaw(socket, ack, to);
  }

  #sendRaw(received: Socket, bytes: Uint8Array, to: AccessContext): void {
    if (this.#closed) return;
    this.stats.acksSent++;
    // The socket a command arrived on is gone when its address went away meanwhile (FORCEIP): answer from the
    // interface that reaches the host now.
    const sockets = this.#sockets;
    const socket =
      sockets?.everyInterface && sockets.localAddressOf(received) === undefined
        ? sockets.socketFor(to.address, this.ipConfig.ip)
        : received;
    if (!socket) {
      this.stats.sendErrors++;
      return;
    }
    try {
      socket.send(bytes, to.port, to.address, (error) => {
        if (error) this.stats.sendErrors++;
      });
    } catch {
      this.stats.sendErrors++;
    }
  }

  /** An ack with a status and an empty payload (what devices send with an error, and for NOT_IMPLEMENTED). */
  #statusAck(status: number, ackCode: number, reqId: number): Uint8Array {
    return encodeAck({ type: 'error', status, ackCode: ackCode & 0xffff, ackId: reqId, payload: new Uint8Array(0) });
  }

  // -------------------------------------------------------------------------------------------------------------
  // DISCOVERY, FORCEIP, ACTION

  async #discovery(
    socket: Socket,
    reqId: number,
    ackRequired: boolean,
    allowBroadcast: boolean,
    from: AccessContext,
  ): Promise<void> {
    if (!ackRequired) return;
    const delay = this.registers.get(B.DISCOVERY_ACK_DELAY);
    if (delay > 0) {
      // Spread answers over the configured delay so many cameras do not answer at once.
      await new Promise<void>((resolve) => this.#timer(resolve, Math.floor(Math.random() * Math.min(delay, 10_000))));
    }
    if (this.#closed) return;
    const w = new ByteWriter(GVCP_HEADER_SIZE + DEVICE_INFO_SIZE);
    w.u16(GvcpStatus.SUCCESS).u16(ACK_CODE_FOR.discovery).u16(DEVICE_INFO_SIZE).u16(reqId);
    // The payload is a copy of bootstrap registers 0x0000-0x00F7, byte for byte, except that bound to every
    // interface it names the address of the interface that answers (one camera on each subnet, as a host sees it).
    const info = Uint8Array.from(this.#model.localBytes(0, DEVICE_INFO_SIZE));
    const reached = this.#reachedConfig(socket);
    const view = new DataView(info.buffer);
    view.setUint32(B.CURRENT_IP_ADDRESS, ipv4ToU32(reached.ip));
    view.setUint32(B.CURRENT_SUBNET_MASK, ipv4ToU32(reached.subnetMask));
    view.setUint32(B.CURRENT_DEFAULT_GATEWAY, ipv4ToU32(reached.gateway));
    w.raw(info);
    this.#sendRaw(socket, w.finish(), this.#ackDestination(from, allowBroadcast));
  }

  /**
   * The IP configuration as seen through `reply`: bound to every interface, that of the interface it answers from
   * (address and mask; the gateway only when on that subnet); else, or on loopback, the device's own.
   */
  #reachedConfig(reply: Socket): IpConfig {
    const config = this.ipConfig;
    const local = this.#sockets?.everyInterface ? this.#sockets.localAddressOf(reply) : undefined;
    if (!local || local === config.ip || isLoopback(local)) return config;
    const subnetMask = this.#sockets?.interfaceOf(local)?.netmask ?? config.subnetMask;
    const gateway = sameSubnet(config.gateway, local, subnetMask) ? config.gateway : '0.0.0.0';
    return { ip: local, subnetMask, gateway };
  }

  /**
   * The current IP, subnet mask and gateway registers as read through `reply` (see {@link #reachedConfig}): a
   * multi-homed simulator reads as one camera on each subnet. Undefined for every other address.
   */
  #reachedWord(address: number, reply: Socket): number | undefined {
    if (address !== B.CURRENT_IP_ADDRESS && address !== B.CURRENT_SUBNET_MASK && address !== B.CURRENT_DEFAULT_GATEWAY)
      return undefined;
    const r = this.#reachedConfig(reply);
    return ipv4ToU32(
      address === B.CURRENT_IP_ADDRESS ? r.ip : address === B.CURRENT_SUBNET_MASK ? r.subnetMask : r.gateway,
    );
  }

  /** Unicast to the sender, or broadcast when the host allows it and cannot reach us (other subnet). */
  #ackDestination(from: AccessContext, allowBroadcast: boolean): AccessContext {
    if (!allowBroadcast || !this.#allowBroadcastAck || this.#bindAddress !== '0.0.0.0' || isLoopback(from.address))
      return from;
    const { ip, subnetMask } = this.ipConfig;
    if (sameSubnet(ip, from.address, subnetMask)) return from;
    return { address: '255.255.255.255', port: from.port };
  }

  async #forceIp(socket: Socket, cmd: ForceIpCommand, from: AccessContext): Promise<Uint8Array | undefined> {
    if (cmd.mac.toLowerCase() !== this.mac) return undefined; // Not for us: stay silent.
    if (cmd.ip !== '0.0.0.0' && !validStaticIp(cmd.ip, cmd.mask)) {
      return this.#statusAck(GvcpStatus.INVALID_PARAMETER, ACK_CODE_FOR.forceip, cmd.reqId);
    }
    const config: IpConfig =
      cmd.ip === '0.0.0.0'
        ? { ...this.#model.initialIp } // 0.0.0.0 restarts the IP configuration cycle: back to the start-up address.
        : { ip: cmd.ip, subnetMask: cmd.mask, gateway: cmd.gateway };
    try {
      await this.#options.applyIpConfig?.(config, this.#reachedConfig(socket));
    } catch (error) {
      this.#reportError(error);
      return this.#statusAck(GvcpStatus.ERROR, ACK_CODE_FOR.forceip, cmd.reqId);
    }
    this.registers.set(B.CURRENT_IP_ADDRESS, ipv4ToU32(config.ip));
    this.registers.set(B.CURRENT_SUBNET_MASK, ipv4ToU32(config.subnetMask));
    this.registers.set(B.CURRENT_DEFAULT_GATEWAY, ipv4ToU32(config.gateway));
    // The hook may have moved an interface address: answer (this ack too) from where the device is now.
    await this.#sockets?.refresh();
    // The control channel was bound to the old address: it is gone, and so are the channels it opened.
    if (this.control.release()) this.#lostControl('forceip');
    this.#emitSafe('forceIp', { ...config, from });
    if (!cmd.ackRequired) return undefined;
    const ack = encodeAck({ type: 'forceip', ackId: cmd.reqId, status: GvcpStatus.SUCCESS });
    const to = this.#ackDestination(from, cmd.allowBroadcastAck);
    if (to !== from) {
      this.#sendRaw(socket, ack, to);
      return undefined;
    }
    return ack;
  }

  #action(socket: Socket, cmd: ActionCommand, from: AccessContext, bytes: Uint8Array): void {
    const deviceKey = this.registers.get(B.ACTION_DEVICE_KEY);
    const matches: number[] = [];
    if (cmd.deviceKey === deviceKey) {
      for (let i = 0; i < this.#model.actionSignals; i++) {
        const groupKey = this.registers.get(actionGroupRegister(i, 'key'));
        const groupMask = this.registers.get(actionGroupRegister(i, 'mask'));
        if (cmd.groupKey === groupKey && (cmd.groupMask & groupMask) !== 0) matches.push(i);
      }
    }
    if (matches.length === 0) {
      // A non-matching ACTION is silently ignored (no ack), as the spec requires.
      this.stats.actionsIgnored++;
      return;
    }
    const entry = cmd.ackRequired ? this.#cache.begin(key(from), cmd.reqId, bytes) : undefined;
    let status: number = GvcpStatus.SUCCESS;
    let delay = 0;
    let late = false;
    if (cmd.actionTime !== undefined) {
      const now = this.timestamp();
      if (cmd.actionTime <= now) {
        late = true;
        status = GvcpStatus.ACTION_LATE;
      } else {
        delay = Number((cmd.actionTime - now) / 1_000_000n);
        if (delay > MAX_ACTION_DELAY_MS) status = GvcpStatus.INVALID_PARAMETER;
        else if (this.#scheduledActions >= SCHEDULED_ACTION_QUEUE) status = GvcpStatus.OVERFLOW;
      }
    }
    const fire = (): void => {
      for (const signal of matches) {
        const s: ActionSignal = {
          signal,
          deviceKey: cmd.deviceKey,
          groupKey: cmd.groupKey,
          groupMask: cmd.groupMask,
          late,
          from,
        };
        if (cmd.actionTime !== undefined) s.actionTime = cmd.actionTime;
        this.#emitSafe('action', s);
      }
    };
    if (status === GvcpStatus.SUCCESS || status === GvcpStatus.ACTION_LATE) {
      if (delay > 0) {
        this.#scheduledActions++;
        this.#timer(() => {
          this.#scheduledActions--;
          fire();
        }, delay);
      } else {
        fire();
      }
    }
    this.stats.actionsAcknowledged++;
    if (cmd.ackRequired) {
      const ack =
        status === GvcpStatus.SUCCESS
          ? encodeAck({ type: 'action', ackId: cmd.reqId, status })
          : this.#statusAck(status, ACK_CODE_FOR.action, cmd.reqId);
      this.#answer(socket, from, entry, ack);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // DeviceReset

  /**
   * DeviceReset: what a camera does when it reboots. Acquisition stops, the primary application loses control (and
   * with it the stream and message channels), the features return to the Default user set and the timestamp to 0.
   */
  reset(): void {
    if (this.#closed) return;
    this.#model.stopAcquisition('control-lost');
    if (this.control.release()) this.#lostControl('device-reset');
    this.#cache.clear();
    this.#model.resetFeatures();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Control channel

  #armHeartbeat(): void {
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    if (this.#closed || !this.control.primary) return;
    if ((this.registers.get(B.GVCP_CONFIGURATION) & GvcpConfigurationBits.HEARTBEAT_DISABLE) !== 0) return;
    const timeout = this.registers.get(B.HEARTBEAT_TIMEOUT);
    const idle = this.control.idleMs() ?? 0;
    const t = setTimeout(() => this.#heartbeatCheck(), Math.max(1, timeout - idle));
    t.unref?.();
    this.#heartbeatTimer = t;
  }

  #heartbeatCheck(): void {
    this.#heartbeatTimer = undefined;
    if (this.#closed || !this.control.primary) return;
    if ((this.registers.get(B.GVCP_CONFIGURATION) & GvcpConfigurationBits.HEARTBEAT_DISABLE) !== 0) return;
    const timeout = this.registers.get(B.HEARTBEAT_TIMEOUT);
    if ((this.control.idleMs() ?? 0) >= timeout) {
      this.stats.heartbeatTimeouts++;
      this.control.release();
      this.#lostControl('heartbeat-timeout');
    } else {
      this.#armHeartbeat();
    }
  }

  /** A CCP write (the register lives in the model; privilege, heartbeat and the channels are the server's). */
  #writeCcp(value: number, from: AccessContext): number {
    const before = this.control.primary;
    const result = this.control.writeCcp(from, value);
    if (result.status !== GvcpStatus.SUCCESS)
      throw new GvcpDeviceStatusError(result.status, 'control channel privilege refused');
    if (result.change === 'released') {
      this.#lostControl('released');
    } else if (result.change !== 'none') {
      if (result.change === 'taken-over' && before) this.#cache.clear();
      this.#armHeartbeat();
      this.#emitSafe('controlChange', { primary: this.control.primary, reason: result.change });
    }
    return this.control.ccp;
  }

  /** The primary application is gone: close the channels it opened and stop acquiring. */
  #lostControl(reason: ControlChangeReason): void {
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    this.#model.closeChannels();
    this.#emitSafe('controlChange', { primary: undefined, reason });
  }

  /**
   * The address the message channel sends from toward `host`: bound to every interface, the one the host reached
   * (an address gone since, after FORCEIP say, is not one to bind), else the one that routes to it.
   */
  #messageSource(host: string): string {
    const sockets = this.#sockets;
    if (!sockets?.everyInterface) return this.#bindAddress;
    const via = this.#reachedVia.get(host);
    if (via !== undefined && sockets.addresses.includes(via)) return via;
    const routed = sockets.socketFor(host, this.ipConfig.ip);
    return (routed && sockets.localAddressOf(routed)) ?? this.#bindAddress;
  }
}

/** Interface to the device's primary application, re-exported for handlers. */
export type { Application, PrimaryApplication };

/** A unicast address with a contiguous, non-empty mask, not the network or broadcast address of its subnet. */
function validStaticIp(ip: string, mask: string): boolean {
  const a = ipv4ToU32(ip);
  const m = ipv4ToU32(mask);
  const inverted = ~m >>> 0;
  if (m === 0 || (inverted & (inverted + 1)) !== 0) return false;
  const first = a >>> 24;
  if (first === 0 || first >= 224) return false;
  const host = (a & inverted) >>> 0;
  return inverted === 0 || (host !== 0 && host !== inverted);
}
