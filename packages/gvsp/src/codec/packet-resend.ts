import { decodeCommand, encodeCommand } from '@cam/gvcp/codec';
import { MalformedError } from '@cam/net-utils/wire';

/**
 * PACKETRESEND (GVCP command 0x0040), the one GVCP message the stream side needs: the receiver sends it from its
 * stream socket to the device's GVCP port; the device's stream sender answers it. Encoding and decoding are
 * @cam/gvcp's; these wrappers give the stream side a plain shape without the GVCP `type` tag.
 */

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

/** Bytes of the command: 8-byte header plus 12 (standard) or 20 (extended ids). */
export function encodedLengthPacketResend(cmd: PacketResendCommand): number {
  return 8 + (cmd.extendedId ? 20 : 12);
}

/** The 20- or 28-byte PACKETRESEND command datagram. */
export function encodePacketResend(cmd: PacketResendCommand): Uint8Array {
  return encodeCommand({ type: 'packetresend', ...cmd });
}

/** Decodes a PACKETRESEND command datagram; any other datagram is a typed error. */
export function decodePacketResend(bytes: Uint8Array): PacketResendCommand {
  const c = decodeCommand(bytes);
  if (c.type !== 'packetresend') throw new MalformedError(2, `GVCP ${c.type} command is not PACKETRESEND (0x0040)`);
  const { type: _t, ...rest } = c;
  return rest;
}
