import { ByteReader, ByteWriter, MalformedError, ValueOutOfRangeError } from '@cam/net-utils';

/**
 * PACKETRESEND (GVCP command 0x0040), the only GVCP message the stream side needs: the receiver sends it from
 * its stream socket to the device's GVCP port, the device's stream sender answers it. Kept here (small and
 * self-contained) so @cam/gvsp does not depend on the GVCP client for its hot path.
 */
export const PACKETRESEND_COMMAND = 0x0040;
export const PACKETRESEND_ACK = 0x0041;
const GVCP_KEY = 0x42;
const FLAG_ACK_REQUIRED = 0x01;
const FLAG_EXTENDED_ID = 0x10;

export interface PacketResendCommand {
  /** GVCP request id (1..65535). */
  reqId: number;
  ackRequired: boolean;
  /** 64-bit block ids and 32-bit packet ids (flag 0x10, 20-byte payload). */
  extendedId: boolean;
  streamChannel: number;
  blockId: bigint;
  firstPacketId: number;
  lastPacketId: number;
}

export function encodedLengthPacketResend(cmd: PacketResendCommand): number {
  return 8 + (cmd.extendedId ? 20 : 12);
}

/** Writes the 20- or 28-byte PACKETRESEND command into `out` at `offset`; returns the bytes written. */
export function encodePacketResendInto(cmd: PacketResendCommand, out: Uint8Array, offset = 0): number {
  const len = encodedLengthPacketResend(cmd);
  const w = new ByteWriter(out.subarray(offset, offset + len));
  w.ensure(len);
  w.u8(GVCP_KEY).u8((cmd.ackRequired ? FLAG_ACK_REQUIRED : 0) | (cmd.extendedId ? FLAG_EXTENDED_ID : 0));
  w.u16(PACKETRESEND_COMMAND)
    .u16(len - 8)
    .u16(cmd.reqId, false, 'reqId');
  if (cmd.extendedId) {
    w.u16(cmd.streamChannel, false, 'streamChannel').u16(0);
    w.u32(cmd.firstPacketId, false, 'firstPacketId').u32(cmd.lastPacketId, false, 'lastPacketId');
    w.u64(cmd.blockId, false, 'blockId');
  } else {
    if (cmd.blockId < 0n || cmd.blockId > 0xffffn) {
      throw new ValueOutOfRangeError('blockId', `${cmd.blockId} does not fit 16 bits; use extended ids`);
    }
    if (cmd.firstPacketId > 0xffffff || cmd.lastPacketId > 0xffffff) {
      throw new ValueOutOfRangeError('packetId', 'standard PACKETRESEND packet ids are 24-bit');
    }
    w.u16(cmd.streamChannel, false, 'streamChannel').u16(Number(cmd.blockId), false, 'blockId');
    w.u32(cmd.firstPacketId, false, 'firstPacketId').u32(cmd.lastPacketId, false, 'lastPacketId');
  }
  return len;
}

export function encodePacketResend(cmd: PacketResendCommand): Uint8Array {
  const out = new Uint8Array(encodedLengthPacketResend(cmd));
  encodePacketResendInto(cmd, out);
  return out;
}

/** Decodes a PACKETRESEND command datagram; throws a typed error for anything else. */
export function decodePacketResend(bytes: Uint8Array): PacketResendCommand {
  const r = new ByteReader(bytes);
  r.ensure(8, 'GVCP header');
  if (r.u8() !== GVCP_KEY) throw new MalformedError(0, 'GVCP command must start with key 0x42');
  const flags = r.u8();
  const command = r.u16();
  if (command !== PACKETRESEND_COMMAND) {
    throw new MalformedError(2, `command 0x${command.toString(16)} is not PACKETRESEND (0x0040)`);
  }
  const length = r.u16();
  const reqId = r.u16();
  const extendedId = (flags & FLAG_EXTENDED_ID) !== 0;
  const need = extendedId ? 20 : 12;
  if (length !== need) throw new MalformedError(4, `PACKETRESEND payload length ${length}, expected ${need}`);
  r.ensure(need, 'PACKETRESEND payload');
  const streamChannel = r.u16();
  if (extendedId) {
    r.skip(2);
    const firstPacketId = r.u32();
    const lastPacketId = r.u32();
    const blockId = r.u64();
    r.expectEnd('PACKETRESEND');
    return {
      reqId,
      ackRequired: (flags & FLAG_ACK_REQUIRED) !== 0,
      extendedId,
      streamChannel,
      blockId,
      firstPacketId,
      lastPacketId,
    };
  }
  const blockId = BigInt(r.u16());
  const firstPacketId = r.u32() & 0xffffff;
  const lastPacketId = r.u32() & 0xffffff;
  r.expectEnd('PACKETRESEND');
  return {
    reqId,
    ackRequired: (flags & FLAG_ACK_REQUIRED) !== 0,
    extendedId,
    streamChannel,
    blockId,
    firstPacketId,
    lastPacketId,
  };
}
