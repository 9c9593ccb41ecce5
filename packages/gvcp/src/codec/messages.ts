import {
  BufferTooSmallError,
  ByteReader,
  ByteWriter,
  MalformedError,
  ProtocolError,
  TrailingBytesError,
  TruncatedError,
  ValueOutOfRangeError,
  WireError,
} from '@cam/net-utils/wire';
import {
  GVCP_HEADER_SIZE,
  GVCP_KEY,
  GvcpAckCode,
  GvcpCommandCode,
  GvcpFlag,
  GvcpStatus,
  statusName,
} from './constants.js';
import { DEVICE_INFO_SIZE, type DeviceInfo, readDeviceInfo, writeDeviceInfo } from './device-info.js';

// ---------------------------------------------------------------------------------------------------------------
// Commands

interface CommandBase {
  /** Request id: 1..0xFFFF (0 is invalid). */
  reqId: number;
  /** Flag 0x01: the device must acknowledge. */
  ackRequired: boolean;
}

export interface DiscoveryCommand extends CommandBase {
  type: 'discovery';
  /** Flag 0x10: the device may answer to 255.255.255.255 (it is on another subnet). */
  allowBroadcastAck: boolean;
}

export interface ForceIpCommand extends CommandBase {
  type: 'forceip';
  allowBroadcastAck: boolean;
  /** The device to re-address. */
  mac: string;
  ip: string;
  mask: string;
  gateway: string;
}

export interface ReadRegCommand extends CommandBase {
  type: 'readreg';
  addresses: number[];
}

/** One register write of a WRITEREG. */
export interface RegisterWrite {
  address: number;
  value: number;
}

export interface WriteRegCommand extends CommandBase {
  type: 'writereg';
  writes: RegisterWrite[];
}

export interface ReadMemCommand extends CommandBase {
  type: 'readmem';
  address: number;
  /** Bytes to read (the spec wants a multiple of 4, at most 536). */
  count: number;
}

export interface WriteMemCommand extends CommandBase {
  type: 'writemem';
  address: number;
  data: Uint8Array;
}

export interface PacketResendCommand extends CommandBase {
  type: 'packetresend';
  /** Flag 0x10: 64-bit block id and 32-bit packet ids (20-byte payload); otherwise 16-bit block id, 24-bit ids. */
  extendedId: boolean;
  streamChannel: number;
  blockId: bigint;
  firstPacketId: number;
  lastPacketId: number;
}

/** One event of an EVENT or EVENTDATA command. */
export interface GvcpEvent {
  eventId: number;
  streamChannel: number;
  /** 16 bits in standard mode, 64 in extended-id mode. */
  blockId: bigint;
  timestamp: bigint;
}

export interface EventCommand extends CommandBase {
  type: 'event';
  extendedId: boolean;
  events: GvcpEvent[];
}

export interface EventDataCommand extends CommandBase {
  type: 'eventdata';
  extendedId: boolean;
  event: GvcpEvent;
  data: Uint8Array;
}

export interface ActionCommand extends CommandBase {
  type: 'action';
  deviceKey: number;
  groupKey: number;
  groupMask: number;
  /** When present (flag 0x80), the device fires the action at this timestamp. */
  actionTime?: bigint;
}

/** Every GVCP command, discriminated by `type`. */
export type GvcpCommand =
  | DiscoveryCommand
  | ForceIpCommand
  | ReadRegCommand
  | WriteRegCommand
  | ReadMemCommand
  | WriteMemCommand
  | PacketResendCommand
  | EventCommand
  | EventDataCommand
  | ActionCommand;
export type GvcpCommandType = GvcpCommand['type'];

/** Command code of each command type (internal: {@link GvcpCommandCode} is the public table). */
const COMMAND_CODES = {
  discovery: GvcpCommandCode.DISCOVERY_CMD,
  forceip: GvcpCommandCode.FORCEIP_CMD,
  readreg: GvcpCommandCode.READREG_CMD,
  writereg: GvcpCommandCode.WRITEREG_CMD,
  readmem: GvcpCommandCode.READMEM_CMD,
  writemem: GvcpCommandCode.WRITEMEM_CMD,
  packetresend: GvcpCommandCode.PACKETRESEND_CMD,
  event: GvcpCommandCode.EVENT_CMD,
  eventdata: GvcpCommandCode.EVENTDATA_CMD,
  action: GvcpCommandCode.ACTION_CMD,
} as const satisfies Record<GvcpCommandType, number>;

const COMMAND_TYPES = new Map<number, GvcpCommandType>(
  Object.entries(COMMAND_CODES).map(([t, c]) => [c, t as GvcpCommandType]),
);

/** Ack code that answers each command type. */
export const ACK_CODE_FOR = {
  discovery: GvcpAckCode.DISCOVERY_ACK,
  forceip: GvcpAckCode.FORCEIP_ACK,
  readreg: GvcpAckCode.READREG_ACK,
  writereg: GvcpAckCode.WRITEREG_ACK,
  readmem: GvcpAckCode.READMEM_ACK,
  writemem: GvcpAckCode.WRITEMEM_ACK,
  packetresend: GvcpAckCode.PACKETRESEND_ACK,
  event: GvcpAckCode.EVENT_ACK,
  eventdata: GvcpAckCode.EVENTDATA_ACK,
  action: GvcpAckCode.ACTION_ACK,
} as const satisfies Record<GvcpCommandType, number>;

/** The 8-byte command header. */
export interface GvcpCommandHeader {
  flags: number;
  command: number;
  /** Payload length announced by the header. */
  length: number;
  reqId: number;
}

/**
 * A command with a valid header whose code this codec does not know (a device answers it with NOT_IMPLEMENTED,
 * using `command` and `reqId`).
 */
export class GvcpUnknownCommandError extends ProtocolError {
  static override readonly errorName: string = 'GvcpUnknownCommandError';
  readonly command: number;
  readonly reqId: number;
  constructor(command: number, reqId: number) {
    super(`unknown GVCP command 0x${command.toString(16).padStart(4, '0')} (req_id ${reqId})`, command);
    this.command = command;
    this.reqId = reqId;
  }
}

/** Reads and checks the 8-byte command header (key 0x42, announced length = datagram length). */
export function decodeCommandHeader(bytes: Uint8Array): GvcpCommandHeader {
  const r = new ByteReader(bytes);
  const key = r.u8('GVCP key');
  if (key !== GVCP_KEY) {
    throw new MalformedError(0, `GVCP key 0x${key.toString(16)} is not 0x42 (not a GVCP command)`);
  }
  const flags = r.u8('flags');
  const command = r.u16(false, 'command');
  const length = r.u16(false, 'payload length');
  const reqId = r.u16(false, 'req_id');
  checkLength(bytes, length);
  return { flags, command, length, reqId };
}

function checkLength(bytes: Uint8Array, length: number): void {
  const actual = bytes.byteLength - GVCP_HEADER_SIZE;
  if (actual < length) throw new TruncatedError(GVCP_HEADER_SIZE, length, actual, 'GVCP payload');
  if (actual > length) throw new TrailingBytesError(GVCP_HEADER_SIZE + length, actual - length, 'GVCP payload');
}

function commandPayloadLength(cmd: GvcpCommand): number {
  switch (cmd.type) {
    case 'discovery':
      return 0;
    case 'forceip':
      return 56;
    case 'readreg':
      return 4 * cmd.addresses.length;
    case 'writereg':
      return 8 * cmd.writes.length;
    case 'readmem':
      return 8;
    case 'writemem':
      return 4 + cmd.data.byteLength;
    case 'packetresend':
      return cmd.extendedId ? 20 : 12;
    case 'event':
      return (cmd.extendedId ? 24 : 16) * cmd.events.length;
    case 'eventdata':
      return (cmd.extendedId ? 24 : 16) + cmd.data.byteLength;
    case 'action':
      return cmd.actionTime === undefined ? 12 : 20;
    default:
      return unknownType(cmd);
  }
}

function unknownType(m: never): never {
  throw new ValueOutOfRangeError('type', `unknown GVCP message type ${JSON.stringify((m as { type?: unknown }).type)}`);
}

function commandFlags(cmd: GvcpCommand): number {
  let flags = cmd.ackRequired ? GvcpFlag.ACK_REQUIRED : 0;
  switch (cmd.type) {
    case 'discovery':
    case 'forceip':
      if (cmd.allowBroadcastAck) flags |= GvcpFlag.ALLOW_BROADCAST_ACK;
      break;
    case 'packetresend':
    case 'event':
    case 'eventdata':
      if (cmd.extendedId) flags |= GvcpFlag.EXTENDED_ID;
      break;
    case 'action':
      if (cmd.actionTime !== undefined) flags |= GvcpFlag.SCHEDULED_ACTION;
      break;
    default:
      break;
  }
  return flags;
}

/** Bytes the encoded command takes (header included). */
export function encodedLengthCommand(cmd: GvcpCommand): number {
  return GVCP_HEADER_SIZE + commandPayloadLength(cmd);
}

/** Encodes `cmd` into `out` at `offset`; returns the number of bytes written. */
export function encodeCommandInto(cmd: GvcpCommand, out: Uint8Array, offset = 0): number {
  return writeCommand(cmd, cmd.reqId, out, offset);
}

function putU16(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 8;
  out[at + 1] = v & 0xff;
}

function putU32(out: Uint8Array, at: number, v: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new ValueOutOfRangeError(field, `${String(v)} is not an integer in 0..4294967295`);
  }
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

/** Writes `cmd` with request id `reqId` (the command's own `reqId` is ignored). */
function writeCommand(cmd: CommandWithoutId, reqId: number, out: Uint8Array, offset: number): number {
  const c = cmd as GvcpCommand;
  const payload = commandPayloadLength(c);
  const total = GVCP_HEADER_SIZE + payload;
  if (out.byteLength - offset < total) throw new BufferTooSmallError(offset + total, out.byteLength);
  if (!Number.isInteger(reqId) || reqId < 1 || reqId > 0xffff) {
    throw new ValueOutOfRangeError('reqId', `${reqId} is not in 1..65535 (0 is invalid)`);
  }
  if (payload > 0xffff) throw new ValueOutOfRangeError('payload length', `${payload} bytes exceed 65535`);
  // Header and the register commands (the hot path of every client) by direct byte writes; the rest via ByteWriter.
  out[offset] = GVCP_KEY;
  out[offset + 1] = commandFlags(c);
  putU16(out, offset + 2, COMMAND_CODES[c.type]);
  putU16(out, offset + 4, payload);
  putU16(out, offset + 6, reqId);
  let at = offset + GVCP_HEADER_SIZE;
  switch (c.type) {
    case 'readreg':
      for (const a of c.addresses) {
        putU32(out, at, a, 'address');
        at += 4;
      }
      return total;
    case 'writereg':
      for (const x of c.writes) {
        putU32(out, at, x.address, 'address');
        putU32(out, at + 4, x.value, 'value');
        at += 8;
      }
      return total;
    case 'readmem':
      if (!Number.isInteger(c.count) || c.count < 0 || c.count > 0xffff) {
        throw new ValueOutOfRangeError('count', `${String(c.count)} is not an integer in 0..65535`);
      }
      putU32(out, at, c.address, 'address');
      putU16(out, at + 4, 0);
      putU16(out, at + 6, c.count);
      return total;
    default: {
      const w = new ByteWriter(out, at);
      writeCommandPayload(c, w);
      return w.offset - offset;
    }
  }
}

/** A command without its request id (the transport assigns it). */
export type CommandWithoutId = GvcpCommand extends infer C ? (C extends GvcpCommand ? Omit<C, 'reqId'> : never) : never;

/** Encodes a command with the given request id into a new buffer (the transport's path: no object copy). */
export function encodeCommandWithId(cmd: CommandWithoutId, reqId: number): Uint8Array {
  const out = new Uint8Array(GVCP_HEADER_SIZE + commandPayloadLength(cmd as GvcpCommand));
  writeCommand(cmd, reqId, out, 0);
  return out;
}

/** Encodes a command into a new buffer. */
export function encodeCommand(cmd: GvcpCommand): Uint8Array {
  const out = new Uint8Array(encodedLengthCommand(cmd));
  encodeCommandInto(cmd, out, 0);
  return out;
}

function checkU16BlockId(blockId: bigint, field: string): number {
  if (typeof blockId !== 'bigint' || blockId < 0n || blockId > 0xffffn) {
    throw new ValueOutOfRangeError(field, `${String(blockId)} does not fit the 16-bit block id of standard mode`);
  }
  return Number(blockId);
}

function writeEvent(e: GvcpEvent, extendedId: boolean, w: ByteWriter): void {
  w.u16(0);
  w.u16(e.eventId, false, 'eventId');
  w.u16(e.streamChannel, false, 'streamChannel');
  if (extendedId) {
    w.u16(0);
    w.u64(e.blockId, false, 'blockId');
  } else {
    w.u16(checkU16BlockId(e.blockId, 'blockId'));
  }
  w.u64(e.timestamp, false, 'timestamp');
}

function writeCommandPayload(cmd: GvcpCommand, w: ByteWriter): void {
  switch (cmd.type) {
    case 'discovery':
      return;
    case 'forceip':
      w.zeros(2).mac(cmd.mac);
      w.zeros(12).ipv4(cmd.ip, 'ip');
      w.zeros(12).ipv4(cmd.mask, 'mask');
      w.zeros(12).ipv4(cmd.gateway, 'gateway');
      return;
    case 'readreg':
      for (const a of cmd.addresses) w.u32(a, false, 'address');
      return;
    case 'writereg':
      for (const x of cmd.writes) w.u32(x.address, false, 'address').u32(x.value, false, 'value');
      return;
    case 'readmem':
      w.u32(cmd.address, false, 'address').u16(0).u16(cmd.count, false, 'count');
      return;
    case 'writemem':
      w.u32(cmd.address, false, 'address').raw(cmd.data);
      return;
    case 'packetresend':
      w.u16(cmd.streamChannel, false, 'streamChannel');
      if (cmd.extendedId) {
        w.u16(0);
        w.u32(cmd.firstPacketId, false, 'firstPacketId');
        w.u32(cmd.lastPacketId, false, 'lastPacketId');
        w.u64(cmd.blockId, false, 'blockId');
      } else {
        w.u16(checkU16BlockId(cmd.blockId, 'blockId'));
        if (cmd.firstPacketId > 0xffffff) throw new ValueOutOfRangeError('firstPacketId', 'exceeds 24 bits');
        if (cmd.lastPacketId > 0xffffff) throw new ValueOutOfRangeError('lastPacketId', 'exceeds 24 bits');
        w.u32(cmd.firstPacketId, false, 'firstPacketId');
        w.u32(cmd.lastPacketId, false, 'lastPacketId');
      }
      return;
    case 'event':
      for (const e of cmd.events) writeEvent(e, cmd.extendedId, w);
      return;
    case 'eventdata':
      writeEvent(cmd.event, cmd.extendedId, w);
      w.raw(cmd.data);
      return;
    case 'action':
      w.u32(cmd.deviceKey, false, 'deviceKey')
        .u32(cmd.groupKey, false, 'groupKey')
        .u32(cmd.groupMask, false, 'groupMask');
      if (cmd.actionTime !== undefined) w.u64(cmd.actionTime, false, 'actionTime');
      return;
    default:
      unknownType(cmd);
  }
}

function readEvent(r: ByteReader, extendedId: boolean): GvcpEvent {
  r.skip(2, 'reserved');
  const eventId = r.u16(false, 'event id');
  const streamChannel = r.u16(false, 'stream channel');
  let blockId: bigint;
  if (extendedId) {
    r.skip(2, 'reserved');
    blockId = r.u64(false, 'block id');
  } else {
    blockId = BigInt(r.u16(false, 'block id'));
  }
  const timestamp = r.u64(false, 'timestamp');
  return { eventId, streamChannel, blockId, timestamp };
}

function checkMultiple(length: number, unit: number, what: string): void {
  if (length % unit !== 0) {
    throw new MalformedError(4, `${what} payload of ${length} bytes is not a multiple of ${unit}`);
  }
}

/** Decodes one GVCP command datagram. Throws a typed `WireError` for anything that is not one. */
export function decodeCommand(bytes: Uint8Array): GvcpCommand {
  const h = decodeCommandHeader(bytes);
  if (h.reqId === 0) throw new MalformedError(6, 'req_id 0 is invalid');
  const type = COMMAND_TYPES.get(h.command);
  if (type === undefined) throw new GvcpUnknownCommandError(h.command, h.reqId);
  const r = new ByteReader(bytes, GVCP_HEADER_SIZE);
  const reqId = h.reqId;
  const ackRequired = (h.flags & GvcpFlag.ACK_REQUIRED) !== 0;
  const bit10 = (h.flags & 0x10) !== 0;
  let cmd: GvcpCommand;
  switch (type) {
    case 'discovery':
      cmd = { type, reqId, ackRequired, allowBroadcastAck: bit10 };
      break;
    case 'forceip': {
      r.skip(2, 'reserved');
      const mac = r.mac();
      r.skip(12, 'reserved');
      const ip = r.ipv4('static IP');
      r.skip(12, 'reserved');
      const mask = r.ipv4('static subnet mask');
      r.skip(12, 'reserved');
      const gateway = r.ipv4('static default gateway');
      cmd = { type, reqId, ackRequired, allowBroadcastAck: bit10, mac, ip, mask, gateway };
      break;
    }
    case 'readreg': {
      checkMultiple(h.length, 4, 'READREG');
      if (h.length === 0) throw new MalformedError(4, 'READREG names no register');
      const addresses: number[] = new Array(h.length / 4);
      for (let i = 0; i < addresses.length; i++) addresses[i] = r.u32(false, 'address');
      cmd = { type, reqId, ackRequired, addresses };
      break;
    }
    case 'writereg': {
      checkMultiple(h.length, 8, 'WRITEREG');
      if (h.length === 0) throw new MalformedError(4, 'WRITEREG names no register');
      const writes: RegisterWrite[] = new Array(h.length / 8);
      for (let i = 0; i < writes.length; i++)
        writes[i] = { address: r.u32(false, 'address'), value: r.u32(false, 'value') };
      cmd = { type, reqId, ackRequired, writes };
      break;
    }
    case 'readmem': {
      const address = r.u32(false, 'address');
      r.skip(2, 'reserved');
      const count = r.u16(false, 'count');
      cmd = { type, reqId, ackRequired, address, count };
      break;
    }
    case 'writemem': {
      const address = r.u32(false, 'address');
      cmd = { type, reqId, ackRequired, address, data: r.rest() };
      break;
    }
    case 'packetresend': {
      const streamChannel = r.u16(false, 'stream channel');
      if (bit10) {
        r.skip(2, 'reserved');
        const firstPacketId = r.u32(false, 'first packet id');
        const lastPacketId = r.u32(false, 'last packet id');
        const blockId = r.u64(false, 'block id');
        cmd = { type, reqId, ackRequired, extendedId: true, streamChannel, blockId, firstPacketId, lastPacketId };
      } else {
        const blockId = BigInt(r.u16(false, 'block id'));
        const firstPacketId = r.u32(false, 'first packet id') & 0xffffff;
        const lastPacketId = r.u32(false, 'last packet id') & 0xffffff;
        cmd = { type, reqId, ackRequired, extendedId: false, streamChannel, blockId, firstPacketId, lastPacketId };
      }
      break;
    }
    case 'event': {
      const size = bit10 ? 24 : 16;
      checkMultiple(h.length, size, 'EVENT');
      if (h.length === 0) throw new MalformedError(4, 'EVENT carries no event');
      const events: GvcpEvent[] = new Array(h.length / size);
      for (let i = 0; i < events.length; i++) events[i] = readEvent(r, bit10);
      cmd = { type, reqId, ackRequired, extendedId: bit10, events };
      break;
    }
    case 'eventdata': {
      const event = readEvent(r, bit10);
      cmd = { type, reqId, ackRequired, extendedId: bit10, event, data: r.rest() };
      break;
    }
    case 'action': {
      const deviceKey = r.u32(false, 'device key');
      const groupKey = r.u32(false, 'group key');
      const groupMask = r.u32(false, 'group mask');
      cmd = { type, reqId, ackRequired, deviceKey, groupKey, groupMask };
      if ((h.flags & GvcpFlag.SCHEDULED_ACTION) !== 0) cmd.actionTime = r.u64(false, 'action time');
      break;
    }
    default:
      return unknownType(type);
  }
  r.expectEnd(`${type.toUpperCase()}_CMD payload`);
  return cmd;
}

// ---------------------------------------------------------------------------------------------------------------
// Acknowledges

interface AckBase {
  /** The req_id of the command this answers. */
  ackId: number;
  /** A `GvcpStatus` code. */
  status: number;
}

export interface DiscoveryAck extends AckBase {
  type: 'discovery';
  device: DeviceInfo;
}
export interface ForceIpAck extends AckBase {
  type: 'forceip';
}
export interface PacketResendAck extends AckBase {
  type: 'packetresend';
}
export interface ReadRegAck extends AckBase {
  type: 'readreg';
  values: number[];
}
export interface WriteRegAck extends AckBase {
  type: 'writereg';
  /** Registers written (on error: index of the one that failed). */
  index: number;
}
export interface ReadMemAck extends AckBase {
  type: 'readmem';
  address: number;
  data: Uint8Array;
}
export interface WriteMemAck extends AckBase {
  type: 'writemem';
  /** Bytes written (on error: where it failed). */
  index: number;
}
export interface PendingAck extends AckBase {
  type: 'pending';
  /** Milliseconds the device still needs for the command `ackId`. */
  timeToCompletion: number;
}
export interface EventAck extends AckBase {
  type: 'event';
}
export interface EventDataAck extends AckBase {
  type: 'eventdata';
}
export interface ActionAck extends AckBase {
  type: 'action';
}
/**
 * An acknowledge with a non-success status whose payload does not have the success layout (most devices send an
 * empty payload with an error); `ackCode` says which command it answers.
 */
export interface ErrorAck extends AckBase {
  type: 'error';
  ackCode: number;
  payload: Uint8Array;
}

/** Every GVCP acknowledge, discriminated by `type`. */
export type GvcpAck =
  | DiscoveryAck
  | ForceIpAck
  | PacketResendAck
  | ReadRegAck
  | WriteRegAck
  | ReadMemAck
  | WriteMemAck
  | PendingAck
  | EventAck
  | EventDataAck
  | ActionAck
  | ErrorAck;
export type GvcpAckType = GvcpAck['type'];

/** Ack code of each ack type (`error` carries its own). */
export const ACK_CODES = {
  discovery: GvcpAckCode.DISCOVERY_ACK,
  forceip: GvcpAckCode.FORCEIP_ACK,
  packetresend: GvcpAckCode.PACKETRESEND_ACK,
  readreg: GvcpAckCode.READREG_ACK,
  writereg: GvcpAckCode.WRITEREG_ACK,
  readmem: GvcpAckCode.READMEM_ACK,
  writemem: GvcpAckCode.WRITEMEM_ACK,
  pending: GvcpAckCode.PENDING_ACK,
  event: GvcpAckCode.EVENT_ACK,
  eventdata: GvcpAckCode.EVENTDATA_ACK,
  action: GvcpAckCode.ACTION_ACK,
} as const satisfies Record<Exclude<GvcpAckType, 'error'>, number>;

const ACK_TYPES = new Map<number, Exclude<GvcpAckType, 'error'>>(
  Object.entries(ACK_CODES).map(([t, c]) => [c, t as Exclude<GvcpAckType, 'error'>]),
);

/** The 8-byte acknowledge header. */
export interface GvcpAckHeader {
  status: number;
  ackCode: number;
  length: number;
  ackId: number;
}

/** Reads and checks the 8-byte ack header (announced length = datagram length). */
export function decodeAckHeader(bytes: Uint8Array): GvcpAckHeader {
  if (bytes.byteLength < GVCP_HEADER_SIZE) {
    throw new TruncatedError(0, GVCP_HEADER_SIZE, bytes.byteLength, 'GVCP acknowledge header');
  }
  const status = (bytes[0]! << 8) | bytes[1]!;
  const ackCode = (bytes[2]! << 8) | bytes[3]!;
  const length = (bytes[4]! << 8) | bytes[5]!;
  const ackId = (bytes[6]! << 8) | bytes[7]!;
  checkLength(bytes, length);
  return { status, ackCode, length, ackId };
}

/** Ack code of an ack message. */
export function ackCodeOf(ack: GvcpAck): number {
  return ack.type === 'error' ? ack.ackCode : ACK_CODES[ack.type];
}

function ackPayloadLength(ack: GvcpAck): number {
  switch (ack.type) {
    case 'discovery':
      return DEVICE_INFO_SIZE;
    case 'forceip':
    case 'packetresend':
    case 'event':
    case 'eventdata':
    case 'action':
      return 0;
    case 'readreg':
      return 4 * ack.values.length;
    case 'writereg':
    case 'writemem':
    case 'pending':
      return 4;
    case 'readmem':
      return 4 + ack.data.byteLength;
    case 'error':
      return ack.payload.byteLength;
    default:
      return unknownType(ack);
  }
}

/** Bytes the encoded ack takes (header included). */
export function encodedLengthAck(ack: GvcpAck): number {
  return GVCP_HEADER_SIZE + ackPayloadLength(ack);
}

/** Encodes `ack` into `out` at `offset`; returns the number of bytes written. */
export function encodeAckInto(ack: GvcpAck, out: Uint8Array, offset = 0): number {
  const payload = ackPayloadLength(ack);
  const total = GVCP_HEADER_SIZE + payload;
  if (out.byteLength - offset < total) throw new BufferTooSmallError(offset + total, out.byteLength);
  const w = new ByteWriter(out, offset);
  w.u16(ack.status, false, 'status');
  w.u16(ackCodeOf(ack), false, 'ackCode');
  w.u16(payload, false, 'payload length');
  w.u16(ack.ackId, false, 'ackId');
  switch (ack.type) {
    case 'discovery':
      writeDeviceInfo(ack.device, w);
      break;
    case 'readreg':
      for (const v of ack.values) w.u32(v, false, 'value');
      break;
    case 'writereg':
    case 'writemem':
      w.u16(0).u16(ack.index, false, 'index');
      break;
    case 'pending':
      w.u16(0).u16(ack.timeToCompletion, false, 'timeToCompletion');
      break;
    case 'readmem':
      w.u32(ack.address, false, 'address').raw(ack.data);
      break;
    case 'error':
      w.raw(ack.payload);
      break;
    default:
      break;
  }
  return w.offset - offset;
}

/** Encodes an ack into a new buffer. */
export function encodeAck(ack: GvcpAck): Uint8Array {
  const out = new Uint8Array(encodedLengthAck(ack));
  encodeAckInto(ack, out, 0);
  return out;
}

function decodeAckPayload(type: Exclude<GvcpAckType, 'error'>, h: GvcpAckHeader, bytes: Uint8Array): GvcpAck {
  const r = new ByteReader(bytes, GVCP_HEADER_SIZE);
  const { ackId, status } = h;
  let ack: GvcpAck;
  switch (type) {
    case 'discovery':
      ack = { type, ackId, status, device: readDeviceInfo(r) };
      break;
    case 'forceip':
    case 'packetresend':
    case 'event':
    case 'eventdata':
    case 'action':
      ack = { type, ackId, status };
      break;
    case 'readreg': {
      checkMultiple(h.length, 4, 'READREG_ACK');
      const values: number[] = new Array(h.length / 4);
      for (let i = 0; i < values.length; i++) values[i] = r.u32(false, 'value');
      ack = { type, ackId, status, values };
      break;
    }
    case 'writereg':
    case 'writemem': {
      r.skip(2, 'reserved');
      ack = { type, ackId, status, index: r.u16(false, 'index') };
      break;
    }
    case 'pending': {
      r.skip(2, 'reserved');
      ack = { type, ackId, status, timeToCompletion: r.u16(false, 'time to completion') };
      break;
    }
    case 'readmem': {
      const address = r.u32(false, 'address');
      ack = { type, ackId, status, address, data: r.rest() };
      break;
    }
    default:
      return unknownType(type);
  }
  r.expectEnd(`${type.toUpperCase()}_ACK payload`);
  return ack;
}

/**
 * Decodes one GVCP acknowledge datagram. A non-success ack whose payload does not have the success layout decodes
 * as an {@link ErrorAck}; an unknown ack code throws {@link MalformedError}.
 */
export function decodeAck(bytes: Uint8Array): GvcpAck {
  const h = decodeAckHeader(bytes);
  const type = ACK_TYPES.get(h.ackCode);
  if (type === undefined) {
    throw new MalformedError(2, `unknown GVCP acknowledge code 0x${h.ackCode.toString(16).padStart(4, '0')}`);
  }
  if (h.status === GvcpStatus.SUCCESS) return decodeAckPayload(type, h, bytes);
  try {
    return decodeAckPayload(type, h, bytes);
  } catch (error) {
    if (!WireError.isInstance(error)) throw error;
    return {
      type: 'error',
      ackCode: h.ackCode,
      ackId: h.ackId,
      status: h.status,
      payload: bytes.subarray(GVCP_HEADER_SIZE),
    };
  }
}

/** True when the datagram starts with the command key 0x42 (acks start with a status, whose high byte is 0x00 or 0x80..0x8F). */
export function isCommandDatagram(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 1 && bytes[0] === GVCP_KEY;
}

/** Name of a status code with its hex value, for messages: `ACCESS_DENIED (0x8006)`. */
export function describeStatus(status: number): string {
  return `${statusName(status)} (0x${status.toString(16).padStart(4, '0')})`;
}
