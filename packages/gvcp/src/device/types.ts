/**
 * The shapes a simulated GigE Vision device shares between its register model (model.ts) and its GVCP server
 * (device.ts): options, counters, events. Types only.
 */
import type { PacketResendCommand } from '../codec/index.js';
import type { AcquisitionStopReason, FrameTrigger } from './acquisition.js';
import type { SimulatedPixelFormatName } from './genicam.js';
import type { PrimaryApplication } from './privilege.js';
import type { AccessContext } from './registers.js';

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
   * Called on a FORCEIP for this device before it answers, with the new configuration and the one the command
   * reached (bound to every interface: the address of the interface it came in on; else the current one) (for example
   * to re-address a network interface: `ipRouteForceIpHook()` does it on Linux); throw to answer with status ERROR.
   * The device then re-reads the interfaces and answers from its new address.
   */
  applyIpConfig?: (config: IpConfig, previous: IpConfig) => void | Promise<void>;
  /**
   * Bound to every interface: how often the interface addresses are re-read (ms; default 2000, 0 = only after
   * FORCEIP and on `refreshInterfaces()`), so a socket follows each address that comes or goes.
   */
  interfaceRescanMs?: number;
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
