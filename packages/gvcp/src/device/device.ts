import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import {
  ByteWriter,
  ipv4ToU32,
  isIpv4,
  isLoopback,
  listIpv4Interfaces,
  macToHighLow,
  sameSubnet,
  u32ToIpv4,
  ValueOutOfRangeError,
  WireError,
} from '@cam/net-utils';
import { zipSync } from 'fflate';
import {
  ACK_CODE_FOR,
  type ActionCommand,
  actionGroupRegister,
  BootstrapRegister as B,
  DEVICE_INFO_SIZE,
  DeviceModeBits,
  decodeAck,
  decodeCommand,
  encodeAck,
  encodeCommand,
  type ForceIpCommand,
  GVCP_HEADER_SIZE,
  GVCP_KEY,
  GVCP_MAX_DATAGRAM,
  GVCP_PORT,
  type GvcpAck,
  GvcpCapability,
  type GvcpCommand,
  GvcpConfigurationBits,
  GvcpFlag,
  GvcpStatus,
  GvspConfigurationBits,
  IpConfigBits,
  type PacketResendCommand,
  READMEM_MAX_COUNT,
  READREG_MAX_COUNT,
  StreamChannelRegister as SC,
  STREAM_CHANNEL_STRIDE,
  UnknownCommandError,
  WRITEMEM_MAX_COUNT,
  WRITEREG_MAX_COUNT,
} from '../codec/index.js';
import { pixelFormatBits, TestPattern } from '../codec/pixel-format.js';
import {
  AcquisitionControl,
  type AcquisitionStopReason,
  type FrameTrigger,
  type TriggerActivationName,
  type TriggerSourceName,
} from './acquisition.js';
import { DeviceStatusError, statusOf } from './errors.js';
import { EventControl, type FrameEventName } from './event-control.js';
import {
  buildGenicamXml,
  CHUNK_DATA_LENGTH,
  type ChunkName,
  ChunkSelector,
  FeatureRegister as F,
  SimulatedPixelFormat,
  type SimulatedPixelFormatName,
  TEST_EVENT_ID,
} from './genicam.js';
import { derivedMac, derivedSerialNumber } from './identity.js';
import { type Application, ControlChannel, type PrimaryApplication } from './privilege.js';
import { type AccessContext, PartialWriteError, RegisterSpace, type WriteListener } from './registers.js';
import { RetransmitCache } from './retransmit-cache.js';
import { UserSets } from './user-sets.js';

/** Where the GenICam file lives in device memory (read with READMEM through the first URL register). */
export const GENICAM_FILE_ADDRESS = 0x0010_0000;

/** Options of {@link GvcpDevice}; every one has a default. */
export interface GvcpDeviceOptions {
  /** Address to bind (default `0.0.0.0`: every interface, and broadcasts). */
  address?: string;
  /** UDP port (default 3956; 0 = any free port). */
  port?: number;
  manufacturerName?: string;
  modelName?: string;
  deviceVersion?: string;
  manufacturerInfo?: string;
  serialNumber?: string;
  userDefinedName?: string;
  /** Default: a locally administered address derived from the serial number. */
  mac?: string;
  /**
   * Current IP register (default: the bound address; bound to every interface, the first non-loopback interface's
   * address, or 127.0.0.1 without one).
   */
  ip?: string;
  /** Default: the interface's mask, else 255.0.0.0 for loopback addresses and 255.255.255.0 for others. */
  subnetMask?: string;
  gateway?: string;
  sensorWidth?: number;
  sensorHeight?: number;
  width?: number;
  height?: number;
  pixelFormat?: SimulatedPixelFormatName;
  /** Stream channels (stream channel register blocks), default 1. */
  streamChannels?: number;
  /** Action signals (group key/mask pairs), default 2. */
  actionSignals?: number;
  /** Initial heartbeat timeout register (ms), default 3000. */
  heartbeatTimeoutMs?: number;
  /** Smallest heartbeat timeout a host may set (ms); smaller writes are raised to it. Default 500. */
  minHeartbeatTimeoutMs?: number;
  /**
   * Pending timeout register (ms): a command running longer than this is answered with PENDING_ACK first, when the
   * host has enabled PENDING_ACK in the GVCP configuration register. Default 100.
   */
  pendingTimeoutMs?: number;
  /** Time to completion announced in each PENDING_ACK (ms), default 1000; repeated while the command runs. */
  pendingAckTimeMs?: number;
  /** A handler still running after this long is answered with status ERROR (default 10000 ms). */
  handlerTimeoutMs?: number;
  /** Serve the GenICam file zipped (`.zip`) instead of plain XML. */
  genicamZip?: boolean;
  /** Serve this XML instead of the generated one. */
  genicamXml?: string;
  /** Answer DISCOVERY / FORCEIP to the broadcast address when the host allows it and is on another subnet (default true). */
  allowBroadcastAck?: boolean;
  /** Senders whose last exchange is remembered for retransmissions (default 64). */
  retransmitCacheSize?: number;
  /** Commands waiting for execution before new ones are answered with BUSY (default 32). */
  maxQueuedCommands?: number;
  /**
   * Commands one source address may have waiting (default a quarter of `maxQueuedCommands`): a flood from one host
   * cannot fill the queue for everyone. The control holder has 4 slots beyond the queue that only it may use.
   */
  maxQueuedPerSource?: number;
  /**
   * Called on a FORCEIP for this device before it answers (for example to re-address a network interface); throw to
   * answer with status ERROR.
   */
  applyIpConfig?: (config: IpConfig) => void | Promise<void>;
  /** Closes the device when aborted. */
  signal?: AbortSignal;
}

/** An IPv4 configuration. */
export interface IpConfig {
  ip: string;
  subnetMask: string;
  gateway: string;
}

/** Counters of everything the device saw and did. */
export interface GvcpDeviceStats {
  datagramsReceived: number;
  commandsExecuted: number;
  acksSent: number;
  /** Datagrams that were not a valid GVCP command (dropped; answered with INVALID_HEADER when possible). */
  badDatagrams: number;
  notImplemented: number;
  /** Retransmitted requests answered from the cache. */
  retransmissionsAnswered: number;
  /** Retransmissions that arrived while the original was still running (ignored). */
  retransmissionsWhileBusy: number;
  accessDenied: number;
  pendingAcksSent: number;
  busyRejected: number;
  heartbeatTimeouts: number;
  packetResendRequests: number;
  /** PACKETRESEND from an address that is neither the stream channel's host nor the control holder (dropped). */
  packetResendRefused: number;
  actionsAcknowledged: number;
  actionsIgnored: number;
  eventsSent: number;
  eventRetries: number;
  eventsAcknowledged: number;
  eventsUnacknowledged: number;
  handlerErrors: number;
  sendErrors: number;
}

/** Why the primary application changed. */
export type ControlChangeReason =
  | 'granted'
  | 'changed'
  | 'released'
  | 'taken-over'
  | 'heartbeat-timeout'
  | 'forceip'
  | 'device-reset'
  | 'close';

/** An ACTION that matched one of the device's action signals. */
export interface ActionSignal {
  /** Action signal index (which group key/mask pair matched). */
  signal: number;
  deviceKey: number;
  groupKey: number;
  groupMask: number;
  /** Requested action time (device timestamp ticks), when scheduled. */
  actionTime?: bigint;
  /** True when a scheduled action arrived after its time. */
  late: boolean;
  from: AccessContext;
}

/** An event to send on the message channel. */
export interface DeviceEvent {
  eventId: number;
  streamChannel?: number;
  blockId?: bigint;
  /** Default: the device timestamp now. */
  timestamp?: bigint;
  /** With data: EVENTDATA; without: EVENT. */
  data?: Uint8Array;
}

/** Result of {@link GvcpDevice.sendEvent}. */
export interface EventDelivery {
  /** False when the message channel is closed (MCP or MCDA is 0): nothing was sent. */
  sent: boolean;
  acknowledged: boolean;
  attempts: number;
}

/** Events of {@link GvcpDevice}. */
export interface GvcpDeviceEvents {
  listening: [{ address: string; port: number }];
  packetResend: [command: PacketResendCommand, from: AccessContext];
  acquisitionStart: [{ mode: number; from: AccessContext | undefined }];
  acquisitionStop: [{ reason: AcquisitionStopReason; from: AccessContext | undefined }];
  triggerSoftware: [from: AccessContext];
  /** A FrameStart trigger was accepted (trigger mode on, its source fired, acquiring): one frame is due. */
  frameTrigger: [trigger: FrameTrigger];
  fireTestPacket: [{ streamChannel: number; from: AccessContext }];
  controlChange: [{ primary: PrimaryApplication | undefined; reason: ControlChangeReason }];
  forceIp: [config: IpConfig & { from: AccessContext }];
  action: [signal: ActionSignal];
  handlerError: [error: unknown];
  badDatagram: [{ from: AccessContext; error: unknown }];
}

const SCHEDULED_ACTION_QUEUE = 16;
const MAX_ACTION_DELAY_MS = 600_000;
const MAX_PENDING_ACKS = 100;
const MAX_QUEUED_EVENTS = 64;

function floatBits(v: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v);
  return dv.getUint32(0);
}

function bitsFloat(bits: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, bits);
  return dv.getFloat32(0);
}

const key = (a: AccessContext): string => `${a.address}:${a.port}`;

/**
 * A simulated GigE Vision camera: GVCP on UDP with the bootstrap registers, a GenICam description, privileges,
 * heartbeat, PENDING_ACK, retransmission cache, ACTION, events, FORCEIP, and a register API to plug behaviour in.
 *
 * ```ts
 * await using device = await GvcpDevice.start({ address: '127.0.0.1', port: 0, serialNumber: 'SIM1' });
 * device.onWrite(FeatureRegister.Width, (w) => console.log('width', w));
 * ```
 */
export class GvcpDevice extends EventEmitter<GvcpDeviceEvents> {
  /** The address space; define registers here (`device.registers.define({...})`). */
  readonly registers = new RegisterSpace();
  /** Control channel privilege state (CCP). */
  readonly control: ControlChannel;
  readonly stats: GvcpDeviceStats = {
    datagramsReceived: 0,
    commandsExecuted: 0,
    acksSent: 0,
    badDatagrams: 0,
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

  readonly #options: GvcpDeviceOptions;
  readonly #bindAddress: string;
  readonly #port: number;
  readonly #initialIp: IpConfig;
  readonly #streamChannels: number;
  readonly #actionSignals: number;
  readonly #minHeartbeat: number;
  readonly #pendingAckTime: number;
  readonly #handlerTimeout: number;
  readonly #maxQueued: number;
  readonly #allowBroadcastAck: boolean;
  readonly #cache: RetransmitCache;
  #socket: Socket | undefined;
  #messageSocket: Socket | undefined;
  #closed = false;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  readonly #maxQueuedPerSource: number;
  readonly #queuedBySource = new Map<string, number>();
  #heartbeatTimer: NodeJS.Timeout | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Acquisition and trigger state (defined in the constructor, after the bootstrap registers). */
  readonly #acquisition: AcquisitionControl;
  readonly #events: EventControl;
  #userSets: UserSets | undefined;
  #timestampBase = process.hrtime.bigint();
  #eventReqId = 0;
  #eventQueue: Promise<unknown> = Promise.resolve();
  #eventsQueued = 0;
  readonly #eventWaiters = new Map<number, (ack: GvcpAck) => void>();
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
    // Bound to every interface, the device says it is on the first non-loopback one (as a camera on that network).
    const iface =
      this.#bindAddress === '0.0.0.0'
        ? listIpv4Interfaces({ includeInternal: false })[0]
        : listIpv4Interfaces().find((i) => i.address === this.#bindAddress);
    const ip = options.ip ?? (this.#bindAddress === '0.0.0.0' ? (iface?.address ?? '127.0.0.1') : this.#bindAddress);
    const ifaceMask = iface && iface.address === ip ? iface.netmask : undefined;
    this.#initialIp = {
      ip,
      subnetMask: options.subnetMask ?? ifaceMask ?? (isLoopback(ip) ? '255.0.0.0' : '255.255.255.0'),
      gateway: options.gateway ?? '0.0.0.0',
    };
    for (const [k, v] of Object.entries(this.#initialIp)) {
      if (!isIpv4(v)) throw new ValueOutOfRangeError(k, `"${v}" is not an IPv4 address`);
    }
    this.#streamChannels = intOption(options.streamChannels, 1, 0, 512, 'streamChannels');
    this.#actionSignals = intOption(options.actionSignals, 2, 0, 128, 'actionSignals');
    this.#minHeartbeat = intOption(options.minHeartbeatTimeoutMs, 500, 1, 600_000, 'minHeartbeatTimeoutMs');
    this.#pendingAckTime = intOption(options.pendingAckTimeMs, 1000, 1, 0xffff, 'pendingAckTimeMs');
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

    const sensorWidth = intOption(options.sensorWidth, 1024, 1, 65_535, 'sensorWidth');
    const sensorHeight = intOption(options.sensorHeight, 768, 1, 65_535, 'sensorHeight');
    this.genicamXml =
      options.genicamXml ??
      buildGenicamXml({
        vendorName: options.manufacturerName ?? '@cam',
        modelName: options.modelName ?? 'GvcpDevice',
        actionSignals: this.#actionSignals,
        sensorWidth,
        sensorHeight,
      });
    this.#defineBootstrap();
    this.#acquisition = new AcquisitionControl(this.registers, F, {
      started: (mode, from) => this.#emitSafe('acquisitionStart', { mode, from }),
      stopped: (reason, from) => this.#emitSafe('acquisitionStop', { reason, from }),
      triggered: (trigger) => this.#emitSafe('frameTrigger', trigger),
      timestamp: () => this.timestamp(),
      checkUnlocked: () => {
        if (this.registers.get(F.TLParamsLocked) !== 0)
          throw new DeviceStatusError(GvcpStatus.WRITE_PROTECT, 'locked while TLParamsLocked is 1');
      },
    });
    this.#events = new EventControl(this.registers, F, (e) => {
      void this.sendEvent({
        eventId: e.eventId,
        streamChannel: 0,
        blockId: e.blockId,
        timestamp: e.timestamp,
        data: e.data,
      });
    });
    this.#defineFeatures(sensorWidth, sensorHeight);
    this.#defineUserSets();
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

  /** Binds the GVCP socket. Rejects (for example with EADDRINUSE) when the port is taken. */
  async listen(): Promise<{ address: string; port: number }> {
    if (this.#closed) throw new Error('GvcpDevice is closed');
    if (this.#socket) return this.address();
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        socket.close();
        reject(e);
      };
      socket.once('error', onError);
      socket.bind({ port: this.#port, address: this.#bindAddress, exclusive: true }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    // Broadcast acks are only sent when bound to every interface (a real or namespaced network), never on loopback.
    if (this.#bindAddress === '0.0.0.0') socket.setBroadcast(true);
    socket.on('error', () => {
      this.stats.sendErrors++;
    });
    socket.on('message', (msg, rinfo) => this.#onDatagram(socket, msg, rinfo));
    this.#socket = socket;
    if (this.#port === 0) this.#deriveIdentity(socket.address().port);
    const where = this.address();
    this.#emitSafe('listening', where);
    return where;
  }

  /** Bound to any free port: the default serial number and MAC follow the port it got (see derivedSerialNumber). */
  #deriveIdentity(port: number): void {
    const o = this.#options;
    if (o.serialNumber !== undefined) return;
    const serial = derivedSerialNumber(this.#initialIp.ip, port);
    this.registers.setString(B.SERIAL_NUMBER, 16, serial);
    if (o.mac !== undefined) return;
    const mac = macToHighLow(derivedMac(serial));
    this.registers.set(B.DEVICE_MAC_ADDRESS_HIGH, mac.high);
    this.registers.set(B.DEVICE_MAC_ADDRESS_LOW, mac.low);
  }

  /** Where the device listens. */
  address(): { address: string; port: number } {
    if (!this.#socket) throw new Error('GvcpDevice is not listening');
    const a = this.#socket.address();
    return { address: a.address, port: a.port };
  }

  /** The device MAC address. */
  get mac(): string {
    const hi = this.registers.get(B.DEVICE_MAC_ADDRESS_HIGH);
    const lo = this.registers.get(B.DEVICE_MAC_ADDRESS_LOW);
    const bytes = [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
    return bytes.map((x) => (x & 0xff).toString(16).padStart(2, '0')).join(':');
  }

  get serialNumber(): string {
    return this.registers.getString(B.SERIAL_NUMBER, 16);
  }

  /** Current IP configuration (as FORCEIP left it). */
  get ipConfig(): IpConfig {
    return {
      ip: u32ToIpv4(this.registers.get(B.CURRENT_IP_ADDRESS)),
      subnetMask: u32ToIpv4(this.registers.get(B.CURRENT_SUBNET_MASK)),
      gateway: u32ToIpv4(this.registers.get(B.CURRENT_DEFAULT_GATEWAY)),
    };
  }

  /** True between AcquisitionStart and AcquisitionStop (or loss of control). */
  get acquiring(): boolean {
    return this.#acquisition.acquiring;
  }

  /**
   * The sensor side (a stream sender) finished a frame: SingleFrame acquisitions end after one, MultiFrame after
   * AcquisitionFrameCount (AcquisitionStatus goes to 0 and 'acquisitionStop' says 'complete'). Returns true while the
   * acquisition goes on.
   */
  frameDone(): boolean {
    return this.#acquisition.frameDone();
  }

  /**
   * The sensor side reports a frame event (FrameStart when a frame begins, ExposureEnd when its exposure ends): sent as
   * EVENTDATA on the message channel (event id, block id, timestamp; data: block id and timestamp) when
   * EventNotification is On for it. Returns whether it was sent.
   */
  frameEvent(name: FrameEventName, e: { frameId: bigint; timestamp: bigint }): boolean {
    return this.#events.notify(name, e.frameId, e.timestamp);
  }

  /** Drives input line `line` (Line0): an edge that matches TriggerActivation is a Line0 trigger. */
  setLine(line: number, high: boolean): void {
    this.#acquisition.setLine(line, high);
  }

  /** Trigger counters. */
  get triggerStats(): { triggersAccepted: number; triggersIgnored: number; framesAcquired: number } {
    return { ...this.#acquisition.stats };
  }

  /** The image the current feature values describe (for a stream sender). */
  imageFormat(): {
    width: number;
    height: number;
    offsetX: number;
    offsetY: number;
    pixelFormat: number;
    payloadSize: number;
    sensorWidth: number;
    sensorHeight: number;
  } {
    const width = this.registers.get(F.Width);
    const height = this.registers.get(F.Height);
    const pixelFormat = this.registers.get(F.PixelFormat);
    return {
      width,
      height,
      sensorWidth: this.registers.get(F.SensorWidth),
      sensorHeight: this.registers.get(F.SensorHeight),
      offsetX: this.registers.get(F.OffsetX),
      offsetY: this.registers.get(F.OffsetY),
      pixelFormat,
      // with chunk data: the image chunk's tag, then each enabled chunk and its tag
      payloadSize:
        Math.ceil((width * height * pixelFormatBits(pixelFormat)) / 8) +
        (this.chunkSettings().active ? 8 + this.chunkSettings().enabled.length * (CHUNK_DATA_LENGTH + 8) : 0),
    };
  }

  /** ChunkModeActive and the chunks ChunkEnable switched on (for a stream sender). */
  chunkSettings(): { active: boolean; enabled: ChunkName[] } {
    const names = Object.keys(ChunkSelector) as ChunkName[];
    return {
      active: this.registers.get(F.ChunkModeActive) === 1,
      enabled: names.filter((n) => this.registers.get(F.ChunkEnable + 4 * ChunkSelector[n]) === 1),
    };
  }

  /**
   * The acquisition features (for a stream sender): mode, frames of a MultiFrame acquisition, frame rate (Hz),
   * exposure (us), gain (dB), test pattern, and the FrameStart trigger (on: frames start only on 'frameTrigger').
   */
  acquisitionSettings(): {
    mode: number;
    frameCount: number;
    frameRate: number;
    exposureTime: number;
    gain: number;
    blackLevel: number;
    reverseX: boolean;
    reverseY: boolean;
    testPattern: number;
    triggerMode: boolean;
    triggerSource: TriggerSourceName;
    triggerActivation: TriggerActivationName;
  } {
    return {
      ...this.#acquisition.settings(),
      frameRate: bitsFloat(this.registers.get(F.AcquisitionFrameRate)),
      exposureTime: bitsFloat(this.registers.get(F.ExposureTime)),
      gain: bitsFloat(this.registers.get(F.Gain)),
      blackLevel: bitsFloat(this.registers.get(F.BlackLevel)),
      reverseX: this.registers.get(F.ReverseX) === 1,
      reverseY: this.registers.get(F.ReverseY) === 1,
      testPattern: this.registers.get(F.TestPattern),
    };
  }

  /** True when `address` may ask stream channel `n` for resends: its host (SCDA) or the control holder. */
  #mayRequestResend(n: number, address: string): boolean {
    if (this.control.primary?.address === address) return true;
    if (!Number.isInteger(n) || n < 0 || n >= this.#streamChannels) return false;
    const scda = this.registers.get(B.STREAM_CHANNEL_BASE + STREAM_CHANNEL_STRIDE * n + SC.SCDA);
    return scda !== 0 && u32ToIpv4(scda) === address;
  }

  /** Stream channel `n`'s registers, decoded (for a stream sender). */
  streamChannel(n = 0): {
    hostPort: number;
    hostAddress: string;
    packetSize: number;
    packetDelay: number;
    doNotFragment: boolean;
    bigEndian: boolean;
    sourcePort: number;
    configuration: number;
    extendedIds: boolean;
  } {
    if (!Number.isInteger(n) || n < 0 || n >= this.#streamChannels) {
      throw new ValueOutOfRangeError('stream channel', `${n} is not in 0..${this.#streamChannels - 1}`);
    }
    const base = B.STREAM_CHANNEL_BASE + STREAM_CHANNEL_STRIDE * n;
    const scps = this.registers.get(base + SC.SCPS);
    return {
      hostPort: this.registers.get(base + SC.SCP) & 0xffff,
      hostAddress: u32ToIpv4(this.registers.get(base + SC.SCDA)),
      packetSize: scps & 0xffff,
      doNotFragment: (scps & 0x4000_0000) !== 0,
      bigEndian: (scps & 0x2000_0000) !== 0,
      packetDelay: this.registers.get(base + SC.SCPD),
      sourcePort: this.registers.get(base + SC.SCSP) & 0xffff,
      configuration: this.registers.get(base + SC.SCCFG),
      extendedIds: (this.registers.get(B.GVSP_CONFIGURATION) & GvspConfigurationBits.BLOCK_ID_64BIT_ENABLE) !== 0,
    };
  }

  /** Device timestamp (ticks of 1 ns since start or the last reset). */
  timestamp(): bigint {
    return process.hrtime.bigint() - this.#timestampBase;
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
    if (this.#eventsQueued >= MAX_QUEUED_EVENTS) {
      this.stats.eventsUnacknowledged++;
      return Promise.resolve({ sent: false, acknowledged: false, attempts: 0 });
    }
    this.#eventsQueued++;
    const run = this.#eventQueue.then(() =>
      this.#deliverEvent(event).catch((error: unknown): EventDelivery => {
        // A socket failure must not surface as an unhandled rejection from a register handler.
        this.#reportError(error);
        return { sent: false, acknowledged: false, attempts: 0 };
      }),
    );
    this.#eventQueue = run.then(
      () => {
        this.#eventsQueued--;
      },
      () => {
        this.#eventsQueued--;
      },
    );
    return run;
  }

  /** Stops listening, drops control, clears every timer. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.control.release()) this.#emitSafe('controlChange', { primary: undefined, reason: 'close' });
    this.#acquisition.stop('control-lost');
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const w of this.#eventWaiters.values())
      w({ type: 'error', ackCode: 0, ackId: 0, status: GvcpStatus.ERROR, payload: new Uint8Array() });
    this.#eventWaiters.clear();
    this.#cache.clear();
    const sockets = [this.#socket, this.#messageSocket].filter((s): s is Socket => s !== undefined);
    this.#socket = undefined;
    this.#messageSocket = undefined;
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
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

  #onDatagram(socket: Socket, msg: Buffer, rinfo: RemoteInfo): void {
    this.stats.datagramsReceived++;
    const from: AccessContext = { address: rinfo.address, port: rinfo.port };
    try {
      this.#dispatch(socket, new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), from);
    } catch (error) {
      // Nothing a peer sends may take the device down.
      this.#reportError(error);
    }
  }

  #bad(from: AccessContext, error: unknown): void {
    this.stats.badDatagrams++;
    if (this.listenerCount('badDatagram') > 0) this.#emitSafe('badDatagram', { from, error });
  }

  #dispatch(socket: Socket, bytes: Uint8Array, from: AccessContext): void {
    if (bytes.byteLength < GVCP_HEADER_SIZE || bytes[0] !== GVCP_KEY) {
      this.#bad(from, new WireError('not a GVCP command (too short or key is not 0x42)'));
      return;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const flags = view.getUint8(1);
    const code = view.getUint16(2);
    const reqId = view.getUint16(6);
    const ackRequired = (flags & GvcpFlag.ACK_REQUIRED) !== 0;
    if (bytes.byteLength > GVCP_MAX_DATAGRAM) {
      this.#bad(from, new WireError(`GVCP datagram of ${bytes.byteLength} bytes exceeds ${GVCP_MAX_DATAGRAM}`));
      if (ackRequired && reqId !== 0)
        this.#sendRaw(socket, this.#statusAck(GvcpStatus.INVALID_HEADER, code + 1, reqId), from);
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
      if (UnknownCommandError.isInstance(error)) {
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
      if (ackRequired && reqId !== 0) {
        this.#answer(socket, from, undefined, this.#statusAck(GvcpStatus.INVALID_HEADER, (code + 1) & 0xffff, reqId));
      }
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
        if (!this.#mayRequestResend(cmd.streamChannel, from.address)) {
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
    const work = this.#executeAccess(cmd, from);
    return this.#withPendingAck(socket, cmd, from, work);
  }

  async #executeAccess(cmd: GvcpCommand, from: AccessContext): Promise<Uint8Array> {
    switch (cmd.type) {
      case 'readreg': {
        if (cmd.addresses.length > READREG_MAX_COUNT)
          return this.#statusAck(GvcpStatus.INVALID_PARAMETER, ACK_CODE_FOR.readreg, cmd.reqId);
        if (!this.control.canRead(from)) return this.#denied(ACK_CODE_FOR.readreg, cmd.reqId);
        const values: number[] = [];
        for (const address of cmd.addresses) {
          try {
            values.push(await this.registers.readRegister(address, from));
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
          const data = await this.registers.readMemory(cmd.address, cmd.count, from);
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
    if (!DeviceStatusError.isInstance(error)) {
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

  #sendRaw(socket: Socket, bytes: Uint8Array, to: AccessContext): void {
    if (this.#closed) return;
    this.stats.acksSent++;
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
    // The payload is a copy of bootstrap registers 0x0000-0x00F7, byte for byte.
    w.raw(this.#localBytes(0, DEVICE_INFO_SIZE));
    this.#sendRaw(socket, w.finish(), this.#ackDestination(from, allowBroadcast));
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
        ? { ...this.#initialIp } // 0.0.0.0 restarts the IP configuration cycle: back to the start-up address.
        : { ip: cmd.ip, subnetMask: cmd.mask, gateway: cmd.gateway };
    try {
      await this.#options.applyIpConfig?.(config);
    } catch (error) {
      this.#reportError(error);
      return this.#statusAck(GvcpStatus.ERROR, ACK_CODE_FOR.forceip, cmd.reqId);
    }
    this.registers.set(B.CURRENT_IP_ADDRESS, ipv4ToU32(config.ip));
    this.registers.set(B.CURRENT_SUBNET_MASK, ipv4ToU32(config.subnetMask));
    this.registers.set(B.CURRENT_DEFAULT_GATEWAY, ipv4ToU32(config.gateway));
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
      for (let i = 0; i < this.#actionSignals; i++) {
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
  // User sets and DeviceReset

  /** The features a user set holds: the camera settings, not the network or control state. */
  #defineUserSets(): void {
    const persisted = [
      F.Width,
      F.Height,
      F.OffsetX,
      F.OffsetY,
      F.PixelFormat,
      F.AcquisitionMode,
      F.AcquisitionFrameCount,
      F.AcquisitionFrameRate,
      F.ExposureTime,
      F.Gain,
      F.BlackLevel,
      F.ReverseX,
      F.ReverseY,
      F.TestPattern,
      F.TriggerSelector,
      F.TriggerMode,
      F.TriggerSource,
      F.TriggerActivation,
      F.ChunkModeActive,
      F.ChunkSelector,
      ...Object.values(ChunkSelector).map((i) => F.ChunkEnable + 4 * i),
      F.EventSelector,
      ...[0, 1].map((i) => F.EventNotification + 4 * i),
    ];
    this.#userSets = new UserSets(this.registers, F, persisted, () => {
      if (this.registers.get(F.TLParamsLocked) !== 0)
        throw new DeviceStatusError(GvcpStatus.WRITE_PROTECT, 'locked while TLParamsLocked is 1');
    });
    this.registers.define({
      address: F.DeviceReset,
      name: 'DeviceReset',
      write: (v) => {
        // after the ack has gone out, as a camera reboots after acknowledging the command
        if (v !== 0) setImmediate(() => this.reset());
        return 0;
      },
    });
  }

  /**
   * DeviceReset: what a camera does when it reboots. Acquisition stops, the primary application loses control (and
   * with it the stream and message channels), the features return to the Default user set and the timestamp to 0.
   */
  reset(): void {
    if (this.#closed) return;
    this.#acquisition.stop('control-lost');
    if (this.control.release()) this.#lostControl('device-reset');
    this.#cache.clear();
    this.registers.set(F.TLParamsLocked, 0);
    this.#userSets?.load(0);
    this.#timestampBase = process.hrtime.bigint();
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

  /** The primary application is gone: close the channels it opened and stop acquiring. */
  #lostControl(reason: ControlChangeReason): void {
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    this.registers.set(B.MCP, 0);
    this.registers.set(B.MCDA, 0);
    for (let n = 0; n < this.#streamChannels; n++) {
      const base = B.STREAM_CHANNEL_BASE + STREAM_CHANNEL_STRIDE * n;
      this.registers.set(base + SC.SCP, 0);
      this.registers.set(base + SC.SCDA, 0);
    }
    this.registers.set(F.TLParamsLocked, 0);
    this.#acquisition.stop('control-lost');
    this.#emitSafe('controlChange', { primary: undefined, reason });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Message channel

  async #messageChannelSocket(): Promise<Socket> {
    if (this.#messageSocket) return this.#messageSocket;
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ port: 0, address: this.#bindAddress }, () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('error', () => {
      this.stats.sendErrors++;
    });
    s.on('message', (msg) => {
      try {
        const ack = decodeAck(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
        const waiter = this.#eventWaiters.get(ack.ackId);
        if (waiter) waiter(ack);
      } catch {
        this.stats.badDatagrams++;
      }
    });
    if (this.#closed) {
      s.close();
      throw new Error('GvcpDevice is closed');
    }
    this.#messageSocket = s;
    return s;
  }

  async #deliverEvent(event: DeviceEvent): Promise<EventDelivery> {
    const port = this.registers.get(B.MCP) & 0xffff;
    const address = u32ToIpv4(this.registers.get(B.MCDA));
    if (this.#closed || port === 0 || address === '0.0.0.0') return { sent: false, acknowledged: false, attempts: 0 };
    const socket = await this.#messageChannelSocket();
    this.registers.set(B.MCSP, socket.address().port);
    this.#eventReqId = (this.#eventReqId % 0xffff) + 1;
    const reqId = this.#eventReqId;
    const extendedId = (this.registers.get(B.GVSP_CONFIGURATION) & GvspConfigurationBits.BLOCK_ID_64BIT_ENABLE) !== 0;
    const e = {
      eventId: event.eventId,
      streamChannel: event.streamChannel ?? 0xffff,
      blockId: event.blockId ?? 0n,
      timestamp: event.timestamp ?? this.timestamp(),
    };
    const bytes = event.data
      ? encodeCommand({ type: 'eventdata', reqId, ackRequired: true, extendedId, event: e, data: event.data })
      : encodeCommand({ type: 'event', reqId, ackRequired: true, extendedId, events: [e] });
    const timeout = Math.max(1, this.registers.get(B.MCTT));
    const retries = Math.min(this.registers.get(B.MCRC), 100);
    const expected = event.data ? 'eventdata' : 'event';
    let attempts = 0;
    for (let attempt = 0; attempt <= retries && !this.#closed; attempt++) {
      attempts++;
      if (attempt > 0) this.stats.eventRetries++;
      this.stats.eventsSent++;
      const acked = await new Promise<boolean>((resolve) => {
        const t = this.#timer(() => {
          this.#eventWaiters.delete(reqId);
          resolve(false);
        }, timeout);
        this.#eventWaiters.set(reqId, (ack) => {
          if (ack.type === expected) {
            this.#clearTimer(t);
            this.#eventWaiters.delete(reqId);
            resolve(ack.status === GvcpStatus.SUCCESS);
          } else if (this.#closed) {
            this.#clearTimer(t);
            resolve(false);
          }
        });
        try {
          socket.send(bytes, port, address, (error) => {
            if (error) this.stats.sendErrors++;
          });
        } catch {
          this.stats.sendErrors++;
        }
      });
      if (acked) {
        this.stats.eventsAcknowledged++;
        return { sent: true, acknowledged: true, attempts };
      }
    }
    this.stats.eventsUnacknowledged++;
    return { sent: true, acknowledged: false, attempts };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Register map

  /** Local read of bytes that may span several registers and blocks (no handlers). */
  #localBytes(address: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let a = address; a < address + length; a += 4) {
      const info = this.registers.lookup(a);
      if (!info) continue;
      out.set(this.registers.getBytes(a, 4), a - address);
    }
    return out;
  }

  #defineBootstrap(): void {
    const o = this.#options;
    const r = this.registers;
    const ro = (address: number, initial: number, name: string): void => {
      r.define({ address, initial, name, access: 'RO' });
    };
    const rw = (
      address: number,
      initial: number,
      name: string,
      write?: (v: number, ctx: AccessContext) => number | undefined,
    ): void => {
      r.define(write ? { address, initial, name, access: 'RW', write } : { address, initial, name, access: 'RW' });
    };
    const text = (address: number, size: number, value: string, name: string, access: 'RO' | 'RW' = 'RO'): void => {
      r.defineBlock({ address, length: size, name, access });
      r.setString(address, size, value);
    };
    const reserved = (address: number, length: number): void => {
      r.defineBlock({ address, length, name: `reserved 0x${address.toString(16)}`, access: 'RO' });
    };

    ro(B.VERSION, (2 << 16) | 0, 'Version');
    // Big-endian registers, transmitter class, UTF-8 strings.
    ro(B.DEVICE_MODE, (DeviceModeBits.BIG_ENDIAN | 1) >>> 0, 'Device Mode');
    const serial = o.serialNumber ?? derivedSerialNumber(this.#initialIp.ip, this.#port);
    const mac = macToHighLow(o.mac ?? derivedMac(serial));
    ro(B.DEVICE_MAC_ADDRESS_HIGH, mac.high, 'Device MAC Address High');
    ro(B.DEVICE_MAC_ADDRESS_LOW, mac.low, 'Device MAC Address Low');
    const supported = IpConfigBits.PERSISTENT | IpConfigBits.DHCP | IpConfigBits.LLA;
    ro(B.SUPPORTED_IP_CONFIGURATION, supported, 'Supported IP Configuration');
    // LLA is always on; only the supported bits can be changed.
    rw(
      B.CURRENT_IP_CONFIGURATION,
      IpConfigBits.DHCP | IpConfigBits.LLA,
      'Current IP Configuration',
      (v) => ((v & supported) | IpConfigBits.LLA) >>> 0,
    );
    reserved(0x18, 12);
    ro(B.CURRENT_IP_ADDRESS, ipv4ToU32(this.#initialIp.ip), 'Current IP Address');
    reserved(0x28, 12);
    ro(B.CURRENT_SUBNET_MASK, ipv4ToU32(this.#initialIp.subnetMask), 'Current Subnet Mask');
    reserved(0x38, 12);
    ro(B.CURRENT_DEFAULT_GATEWAY, ipv4ToU32(this.#initialIp.gateway), 'Current Default Gateway');
    text(B.MANUFACTURER_NAME, 32, o.manufacturerName ?? '@cam', 'Manufacturer Name');
    text(B.MODEL_NAME, 32, o.modelName ?? 'GvcpDevice', 'Model Name');
    text(B.DEVICE_VERSION, 32, o.deviceVersion ?? '1.0.0', 'Device Version');
    text(B.MANUFACTURER_INFO, 48, o.manufacturerInfo ?? 'Simulated GigE Vision camera', 'Manufacturer Info');
    text(B.SERIAL_NUMBER, 16, serial, 'Serial Number');
    text(B.USER_DEFINED_NAME, 16, o.userDefinedName ?? '', 'User-defined Name', 'RW');

    // GenICam file and its URL.
    const zip = o.genicamZip === true;
    const xmlBytes = new TextEncoder().encode(this.genicamXml);
    const fileName = zip ? 'cam-gvcp-device.zip' : 'cam-gvcp-device.xml';
    const file = zip ? zipSync({ 'cam-gvcp-device.xml': xmlBytes }) : xmlBytes;
    const fileBlock = Math.max(4, Math.ceil(file.byteLength / 4) * 4);
    r.defineBlock({
      address: GENICAM_FILE_ADDRESS,
      length: fileBlock,
      initial: file,
      name: 'GenICam file',
      access: 'RO',
    });
    const url = `Local:${fileName};${GENICAM_FILE_ADDRESS.toString(16)};${file.byteLength.toString(16)}?SchemaVersion=1.1.0`;
    text(B.FIRST_URL, 512, url, 'First URL');
    text(B.SECOND_URL, 512, '', 'Second URL');

    ro(B.NUMBER_OF_NETWORK_INTERFACES, 1, 'Number of Network Interfaces');
    rw(B.PERSISTENT_IP_ADDRESS, ipv4ToU32(this.#initialIp.ip), 'Persistent IP Address');
    rw(B.PERSISTENT_SUBNET_MASK, ipv4ToU32(this.#initialIp.subnetMask), 'Persistent Subnet Mask');
    rw(B.PERSISTENT_DEFAULT_GATEWAY, ipv4ToU32(this.#initialIp.gateway), 'Persistent Default Gateway');
    ro(B.LINK_SPEED, 1000, 'Link Speed');
    ro(B.NUMBER_OF_MESSAGE_CHANNELS, 1, 'Number of Message Channels');
    ro(B.NUMBER_OF_STREAM_CHANNELS, this.#streamChannels, 'Number of Stream Channels');
    ro(B.NUMBER_OF_ACTION_SIGNALS, this.#actionSignals, 'Number of Action Signals');
    r.define({ address: B.ACTION_DEVICE_KEY, name: 'Action Device Key', access: 'WO' });
    ro(B.NUMBER_OF_ACTIVE_LINKS, 1, 'Number of Active Links');
    // SCSPx supported (MSB).
    ro(B.GVSP_CAPABILITY, 0x8000_0000, 'GVSP Capability');
    // MCSP supported (MSB).
    ro(B.MESSAGE_CHANNEL_CAPABILITY, 0x8000_0000, 'Message Channel Capability');
    const C = GvcpCapability;
    const capability =
      C.CONCATENATION |
      C.WRITEMEM |
      C.PACKETRESEND |
      C.EVENT |
      C.EVENTDATA |
      C.PENDING_ACK |
      C.ACTION |
      C.PRIMARY_APPLICATION_SWITCHOVER |
      C.EXTENDED_STATUS_CODES |
      C.DISCOVERY_ACK_DELAY_WRITABLE |
      C.DISCOVERY_ACK_DELAY |
      C.CCP_APPLICATION_SOCKET |
      C.LINK_SPEED |
      C.HEARTBEAT_DISABLE |
      C.SERIAL_NUMBER |
      C.USER_DEFINED_NAME;
    ro(B.GVCP_CAPABILITY, capability >>> 0, 'GVCP Capability');
    const minHb = this.#minHeartbeat;
    rw(
      B.HEARTBEAT_TIMEOUT,
      Math.max(minHb, intOption(o.heartbeatTimeoutMs, 3000, 1, 3_600_000, 'heartbeatTimeoutMs')),
      'Heartbeat Timeout',
      (v) => Math.min(Math.max(v, minHb), 3_600_000),
    );
    // Re-arm once the new value is stored (a write listener runs after the store), so a lowered timeout counts now.
    r.onWrite(B.HEARTBEAT_TIMEOUT, () => this.#armHeartbeat());
    ro(B.TIMESTAMP_TICK_FREQUENCY_HIGH, 0, 'Timestamp Tick Frequency High');
    ro(B.TIMESTAMP_TICK_FREQUENCY_LOW, 1_000_000_000, 'Timestamp Tick Frequency Low');
    r.define({
      address: B.TIMESTAMP_CONTROL,
      name: 'Timestamp Control',
      access: 'WO',
      write: (v) => {
        if (v & 0x1) this.#timestampBase = process.hrtime.bigint();
        if (v & 0x2) {
          const ts = this.timestamp();
          r.set(B.TIMESTAMP_VALUE_HIGH, Number(ts >> 32n));
          r.set(B.TIMESTAMP_VALUE_LOW, Number(ts & 0xffff_ffffn));
        }
        return 0;
      },
    });
    ro(B.TIMESTAMP_VALUE_HIGH, 0, 'Timestamp Value High');
    ro(B.TIMESTAMP_VALUE_LOW, 0, 'Timestamp Value Low');
    rw(B.DISCOVERY_ACK_DELAY, 0, 'Discovery ACK Delay', (v) => Math.min(v, 1000));
    const gvcpConfigMask =
      GvcpConfigurationBits.HEARTBEAT_DISABLE |
      GvcpConfigurationBits.PENDING_ACK_ENABLE |
      GvcpConfigurationBits.EXTENDED_STATUS_CODES;
    rw(B.GVCP_CONFIGURATION, 0, 'GVCP Configuration', (v) => (v & gvcpConfigMask) >>> 0);
    r.onWrite(B.GVCP_CONFIGURATION, () => this.#armHeartbeat());
    ro(B.PENDING_TIMEOUT, intOption(o.pendingTimeoutMs, 100, 1, 0xffff_ffff, 'pendingTimeoutMs'), 'Pending Timeout');
    r.define({
      address: B.CONTROL_SWITCHOVER_KEY,
      name: 'Control Switchover Key',
      access: 'WO',
      write: (v) => {
        this.control.switchoverKey = v & 0xffff;
        return 0;
      },
    });
    rw(B.GVSP_CONFIGURATION, 0, 'GVSP Configuration', (v) => (v & GvspConfigurationBits.BLOCK_ID_64BIT_ENABLE) >>> 0);

    // Control channel privilege.
    r.define({
      address: B.CCP,
      name: 'CCP',
      access: 'RW',
      read: (ctx) => this.control.ccpFor(ctx),
      write: (v, ctx) => {
        const before = this.control.primary;
        const result = this.control.writeCcp(ctx, v);
        if (result.status !== GvcpStatus.SUCCESS)
          throw new DeviceStatusError(result.status, 'control channel privilege refused');
        if (result.change === 'released') {
          this.#lostControl('released');
        } else if (result.change !== 'none') {
          if (result.change === 'taken-over' && before) this.#cache.clear();
          this.#armHeartbeat();
          this.#emitSafe('controlChange', { primary: this.control.primary, reason: result.change });
        }
        return this.control.ccp;
      },
    });
    r.define({
      address: B.PRIMARY_APPLICATION_PORT,
      name: 'Primary Application Port',
      access: 'RO',
      read: () => this.control.primary?.port ?? 0,
    });
    r.define({
      address: B.PRIMARY_APPLICATION_IP_ADDRESS,
      name: 'Primary Application IP Address',
      access: 'RO',
      read: () => {
        const p = this.control.primary;
        return p ? ipv4ToU32(p.address) : 0;
      },
    });

    // Message channel.
    rw(B.MCP, 0, 'MCP', (v) => (v & 0xffff) >>> 0);
    rw(B.MCDA, 0, 'MCDA');
    rw(B.MCTT, 300, 'MCTT', (v) => Math.min(v, 60_000));
    rw(B.MCRC, 2, 'MCRC', (v) => Math.min(v, 100));
    ro(B.MCSP, 0, 'MCSP');

    // Stream channels: stored for a stream sender to use (see streamChannel()).
    for (let n = 0; n < this.#streamChannels; n++) {
      const base = B.STREAM_CHANNEL_BASE + STREAM_CHANNEL_STRIDE * n;
      rw(base + SC.SCP, 0, `SCP${n}`, (v) => (v & 0xffff) >>> 0);
      rw(base + SC.SCPS, 1500, `SCPS${n}`, (v, ctx) => {
        if (v & 0x8000_0000) {
          // Fire test packet is a self-clearing command bit.
          this.#emitSafe('fireTestPacket', { streamChannel: n, from: ctx });
        }
        const size = v & 0xffff;
        if (size !== 0 && (size < 576 || size > 9000))
          throw new DeviceStatusError(GvcpStatus.INVALID_PARAMETER, `packet size ${size} not in 576..9000`);
        const keep = size === 0 ? r.get(base + SC.SCPS) & 0xffff : size;
        return ((v & 0x6000_0000) | keep) >>> 0;
      });
      rw(base + SC.SCPD, 0, `SCPD${n}`);
      rw(base + SC.SCDA, 0, `SCDA${n}`);
      ro(base + SC.SCSP, 0, `SCSP${n}`);
      ro(base + SC.SCC, 0, `SCC${n}`);
      rw(base + SC.SCCFG, 0, `SCCFG${n}`);
    }

    // Action groups.
    for (let i = 0; i < this.#actionSignals; i++) {
      rw(actionGroupRegister(i, 'key'), 0, `Action Group Key ${i}`);
      rw(actionGroupRegister(i, 'mask'), 0, `Action Group Mask ${i}`);
    }
    ro(B.SCHEDULED_ACTION_COMMAND_QUEUE_SIZE, SCHEDULED_ACTION_QUEUE, 'Scheduled Action Command Queue Size');
  }

  #defineFeatures(sensorWidth: number, sensorHeight: number): void {
    const o = this.#options;
    const r = this.registers;
    r.onWrite(F.TriggerSoftware, (v, ctx) => {
      if (v !== 0) this.#emitSafe('triggerSoftware', ctx);
    });
    const locked = (): void => {
      if (r.get(F.TLParamsLocked) !== 0)
        throw new DeviceStatusError(GvcpStatus.WRITE_PROTECT, 'locked while TLParamsLocked is 1');
    };
    const range =
      (min: number, max: number, name: string, lock = true) =>
      (v: number) => {
        if (lock) locked();
        if (v < min || v > max)
          throw new DeviceStatusError(GvcpStatus.INVALID_PARAMETER, `${name} ${v} not in ${min}..${max}`);
        return undefined;
      };
    const floatFeature = (address: number, initial: number, min: number, max: number, name: string): void => {
      r.define({
        address,
        name,
        initial: floatBits(initial),
        write: (bits) => {
          const v = bitsFloat(bits);
          if (!Number.isFinite(v) || v < min || v > max)
            throw new DeviceStatusError(GvcpStatus.INVALID_PARAMETER, `${name} ${v} not in ${min}..${max}`);
          return undefined;
        },
      });
    };
    // The image is a region of the sensor: size + offset never exceed it (the other one bounds each write).
    const region =
      (other: number, sensor: number, min: number, name: string) =>
      (v: number): undefined => {
        locked();
        const max = sensor - r.get(other);
        if (v < min || v > max)
          throw new DeviceStatusError(GvcpStatus.INVALID_PARAMETER, `${name} ${v} not in ${min}..${max}`);
        return undefined;
      };
    const pf = SimulatedPixelFormat[o.pixelFormat ?? 'Mono8'];
    if (pf === undefined)
      throw new ValueOutOfRangeError('pixelFormat', `unknown pixel format ${String(o.pixelFormat)}`);
    const validPf = new Set<number>(Object.values(SimulatedPixelFormat));

    r.define({ address: F.SensorWidth, name: 'SensorWidth', access: 'RO', initial: sensorWidth });
    r.define({ address: F.SensorHeight, name: 'SensorHeight', access: 'RO', initial: sensorHeight });
    r.define({
      address: F.Width,
      name: 'Width',
      initial: intOption(o.width, Math.min(640, sensorWidth), 1, sensorWidth, 'width'),
      write: region(F.OffsetX, sensorWidth, 1, 'Width'),
    });
    r.define({
      address: F.Height,
      name: 'Height',
      initial: intOption(o.height, Math.min(480, sensorHeight), 1, sensorHeight, 'height'),
      write: region(F.OffsetY, sensorHeight, 1, 'Height'),
    });
    r.define({ address: F.OffsetX, name: 'OffsetX', write: region(F.Width, sensorWidth, 0, 'OffsetX') });
    r.define({ address: F.OffsetY, name: 'OffsetY', write: region(F.Height, sensorHeight, 0, 'OffsetY') });
    floatFeature(F.BlackLevel, 0, 0, 10, 'BlackLevel');
    r.define({ address: F.ReverseX, name: 'ReverseX', write: range(0, 1, 'ReverseX') });
    r.define({ address: F.ReverseY, name: 'ReverseY', write: range(0, 1, 'ReverseY') });
    r.define({ address: F.ChunkModeActive, name: 'ChunkModeActive', write: range(0, 1, 'ChunkModeActive') });
    const chunks = Object.keys(ChunkSelector).length;
    r.define({ address: F.ChunkSelector, name: 'ChunkSelector', write: range(0, chunks - 1, 'ChunkSelector', false) });
    for (let i = 0; i < chunks; i++)
      r.define({ address: F.ChunkEnable + 4 * i, name: `ChunkEnable${i}`, write: range(0, 1, 'ChunkEnable') });
    r.define({
      address: F.PixelFormat,
      name: 'PixelFormat',
      initial: pf,
      write: (v) => {
        locked();
        if (!validPf.has(v))
          throw new DeviceStatusError(
            GvcpStatus.INVALID_PARAMETER,
            `pixel format 0x${v.toString(16)} is not supported`,
          );
        return undefined;
      },
    });
    r.define({ address: F.PayloadSize, name: 'PayloadSize', access: 'RO', read: () => this.imageFormat().payloadSize });
    floatFeature(F.ExposureTime, 10_000, 10, 10_000_000, 'ExposureTime');
    floatFeature(F.Gain, 0, 0, 48, 'Gain');
    floatFeature(F.AcquisitionFrameRate, 10, 0.1, 1000, 'AcquisitionFrameRate');
    r.define({
      address: F.TestPattern,
      name: 'TestPattern',
      initial: TestPattern.Off, // the picture of the simulated scene, as a camera sends by default
      write: range(0, Object.keys(TestPattern).length - 1, 'TestPattern', false),
    });
    r.define({
      address: F.TLParamsLocked,
      name: 'TLParamsLocked',
      write: (v) => {
        if (v > 1) throw new DeviceStatusError(GvcpStatus.INVALID_PARAMETER, 'TLParamsLocked is 0 or 1');
        return undefined;
      },
    });
    r.define({
      address: F.TestEventGenerate,
      name: 'TestEventGenerate',
      write: (v) => {
        if (v !== 0) void this.sendEvent({ eventId: TEST_EVENT_ID });
        return 0;
      },
    });
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

function intOption(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max)
    throw new ValueOutOfRangeError(name, `${v} is not an integer in ${min}..${max}`);
  return v;
}
