/**
 * Zero-allocation readers of GVSP datagram fields: plain functions over the datagram's bytes and an offset, no
 * object per call. This is the one place that knows where each field sits. {@link decodeGvspPacket} reads its
 * header and payload-packet fields through them, and the reassembler's hot path (one call per datagram, about
 * 200 ns budget) reads the same functions without building a packet object.
 *
 * They do not check lengths: the caller checks that the bytes it reads exist (`gvspHeaderLength`,
 * `GVSP_STANDARD_HEADER_SIZE`, the `*_SIZE` constants below) before calling, as the decoder and the reassembler do.
 */
import { GVSP_CHUNK_APPENDED_BIT, GVSP_EXTENDED_ID_BIT, GvspHeaderFlag, GvspPayloadType } from './constants.js';

const TWO32 = 0x1_0000_0000;

/** Big-endian u16 at `o`. */
export function gvspU16(p: Uint8Array, o: number): number {
  return (p[o]! << 8) | p[o + 1]!;
}

/** Big-endian u32 at `o`. */
export function gvspU32(p: Uint8Array, o: number): number {
  return ((p[o]! << 24) | (p[o + 1]! << 16) | (p[o + 2]! << 8) | p[o + 3]!) >>> 0;
}

/** Big-endian u48 at `o` (exact: below 2^53). */
export function gvspU48(p: Uint8Array, o: number): number {
  return gvspU16(p, o) * TWO32 + gvspU32(p, o + 2);
}

/** Big-endian u64 at `o` as a number (exact below 2^53: block ids and byte offsets in practice). */
export function gvspU64Number(p: Uint8Array, o: number): number {
  return gvspU32(p, o) * TWO32 + gvspU32(p, o + 4);
}

// ---------------------------------------------------------------- header (bytes 0..7, extended 0..19)

/** Status (bytes 0-1). */
export function gvspStatusOf(p: Uint8Array): number {
  return gvspU16(p, 0);
}

/** True when the EI bit of the format byte is set (20-byte header, 64-bit block id, 32-bit packet id). */
export function gvspIsExtendedId(p: Uint8Array): boolean {
  return (p[4]! & GVSP_EXTENDED_ID_BIT) !== 0;
}

/** Packet format without the EI bit (byte 4), see `GvspPacketFormat`. */
export function gvspFormatOf(p: Uint8Array): number {
  return p[4]! & 0x7f;
}

/** Header bytes of this datagram: 8, or 20 with extended ids. Needs byte 4. */
export function gvspHeaderLength(p: Uint8Array): number {
  return (p[4]! & GVSP_EXTENDED_ID_BIT) !== 0 ? 20 : 8;
}

/** Bytes 2-3: the block id in standard mode, the header flags with extended ids. */
export function gvspSecondWord(p: Uint8Array): number {
  return gvspU16(p, 2);
}

/** Bytes 5-7: the packet id in standard mode, the spare bits (part or zone count) with extended ids. */
export function gvspLow24(p: Uint8Array): number {
  return (p[5]! << 16) | (p[6]! << 8) | p[7]!;
}

// The readers below take `ext` ({@link gvspIsExtendedId}) from the caller, who has read it already: the hot path
// reads the format byte once per datagram.

/** Block id as a number: 16-bit standard, 64-bit extended (exact below 2^53). */
export function gvspBlockIdNumber(p: Uint8Array, ext: boolean): number {
  return ext ? gvspU64Number(p, 8) : gvspU16(p, 2);
}

/** Packet id: 24-bit standard, 32-bit extended. */
export function gvspPacketIdOf(p: Uint8Array, ext: boolean): number {
  return ext ? gvspU32(p, 16) : gvspLow24(p);
}

/** The extended header's PACKET_RESEND flag (always false in standard mode, where only the status says so). */
export function gvspResendFlag(p: Uint8Array, ext: boolean): boolean {
  return ext && (p[3]! & GvspHeaderFlag.PACKET_RESEND) !== 0;
}

// ---------------------------------------------------------------- leader and trailer bodies (at `hdr`)

/** Payload type of a leader, trailer or all-in body at `hdr`, without the chunk bit. Needs 4 bytes. */
export function gvspPayloadTypeAt(p: Uint8Array, hdr: number): number {
  return gvspU16(p, hdr + 2) & ~GVSP_CHUNK_APPENDED_BIT;
}

/** The chunk-appended bit of a leader, trailer or all-in body at `hdr`. */
export function gvspChunksAppendedAt(p: Uint8Array, hdr: number): boolean {
  return (p[hdr + 2]! & 0x40) !== 0;
}

/** Byte offsets inside an image (or extended-chunk) leader body; a multizone leader has them 4 bytes later. */
export const ImageLeaderField = {
  timestamp: 4,
  pixelFormat: 12,
  sizeX: 16,
  sizeY: 20,
  offsetX: 24,
  offsetY: 28,
  paddingX: 32,
  paddingY: 34,
} as const;
/** A multizone leader has the image fields 4 bytes later than an image leader (zone direction comes first). */
export const MULTIZONE_FIELD_SHIFT = 4;
/** Bytes of an image leader body. */
export const IMAGE_LEADER_SIZE = 36;
/** Bytes of a multipart leader body before the part infos, and of each part info. */
export const MULTIPART_LEADER_FIXED_SIZE = 12;
export const MULTIPART_PART_INFO_SIZE = 48;

/**
 * Payload bytes an image leader at `hdr` announces, from its AOI, for a pixel format of `bitsPerPixel`; -1 when
 * chunk data follow the image (the size is unknown until the trailer). Needs {@link IMAGE_LEADER_SIZE} bytes.
 */
export function gvspImageLeaderBytes(p: Uint8Array, hdr: number, bitsPerPixel: number): number {
  if (gvspChunksAppendedAt(p, hdr)) return -1;
  const sx = gvspU32(p, hdr + ImageLeaderField.sizeX);
  const sy = gvspU32(p, hdr + ImageLeaderField.sizeY);
  const px = gvspU16(p, hdr + ImageLeaderField.paddingX);
  const py = gvspU16(p, hdr + ImageLeaderField.paddingY);
  return (Math.ceil((sx * bitsPerPixel) / 8) + px) * sy + py;
}

/**
 * Timestamp (u64 at body byte 4) of a leader at `hdr` whose payload type has one, else 0n. Needs 12 body bytes.
 * One bigint: call once per frame, not per packet.
 */
export function gvspLeaderTimestamp(p: Uint8Array, hdr: number): bigint {
  const type = gvspPayloadTypeAt(p, hdr);
  if (type === GvspPayloadType.H264 || type < GvspPayloadType.IMAGE || type > GvspPayloadType.GENDC_CONTAINER) {
    return 0n;
  }
  return (BigInt(gvspU32(p, hdr + 4)) << 32n) | BigInt(gvspU32(p, hdr + 8));
}

/** Byte offset of the body of image trailer field size_y: 4, or 8 for an extended-chunk trailer; -1 for none. */
export function gvspTrailerSizeYOffset(payloadType: number): number {
  if (payloadType === GvspPayloadType.IMAGE || payloadType === GvspPayloadType.MULTIZONE_IMAGE) return 4;
  if (payloadType === GvspPayloadType.EXTENDED_CHUNK) return 8;
  return -1;
}

/** Data type (u16) of part info `i` of a multipart leader at `hdr`. */
export function gvspPartDataType(p: Uint8Array, hdr: number, i: number): number {
  return gvspU16(p, hdr + MULTIPART_LEADER_FIXED_SIZE + i * MULTIPART_PART_INFO_SIZE);
}

/** Length (u48) of part `i` of a multipart leader at `hdr`. */
export function gvspPartLength(p: Uint8Array, hdr: number, i: number): number {
  return gvspU48(p, hdr + MULTIPART_LEADER_FIXED_SIZE + i * MULTIPART_PART_INFO_SIZE + 2);
}

/** Leader and trailer body sizes of an all-in packet by payload type (file leaders are variable: see below). */
const ALL_IN_SIZES: Readonly<Record<number, readonly [leader: number, trailer: number]>> = {
  [GvspPayloadType.IMAGE]: [36, 8],
  [GvspPayloadType.EXTENDED_CHUNK]: [36, 16],
  [GvspPayloadType.RAW_DATA]: [20, 4],
  [GvspPayloadType.CHUNK_DATA]: [12, 8],
  [GvspPayloadType.JPEG]: [32, 4],
  [GvspPayloadType.JPEG2000]: [32, 4],
  [GvspPayloadType.H264]: [32, 4],
  [GvspPayloadType.MULTIZONE_IMAGE]: [40, 8],
};

/**
 * Offset of the data in an all-in packet of `len` bytes whose body starts at `hdr` (after leader, trailer and
 * chunk info), or -1 when the payload type has no all-in layout or the bytes are too short.
 */
export function gvspAllInDataStart(p: Uint8Array, hdr: number, len: number): number {
  if (len < hdr + 4) return -1;
  const type = gvspPayloadTypeAt(p, hdr);
  const chunk = gvspChunksAppendedAt(p, hdr) ? 8 : 0;
  let leader: number;
  let trailer: number;
  if (type === GvspPayloadType.FILE) {
    // the file name runs from body byte 20 to its NUL
    let i = hdr + 20;
    while (i < len && p[i] !== 0) i++;
    if (i >= len) return -1;
    leader = i + 1 - hdr;
    trailer = 4;
  } else {
    const sizes = ALL_IN_SIZES[type];
    if (sizes === undefined) return -1;
    leader = sizes[0];
    trailer = sizes[1];
  }
  const start = hdr + leader + trailer + chunk;
  return start <= len ? start : -1;
}

// ---------------------------------------------------------------- payload packet headers (at `hdr`)

/** Bytes of the per-packet header of H.264, multizone and multipart data packets, and of GenDC ones. */
export const PAYLOAD_SUBHEADER_SIZE = 8;
export const GENDC_SUBHEADER_SIZE = 16;

/** Part id (byte at `hdr`) of a multipart data packet. */
export function gvspPartIdOf(p: Uint8Array, hdr: number): number {
  return p[hdr]!;
}

/** Address offset (u48 at `hdr + 2`) of a multizone or multipart data packet. */
export function gvspAddressOffset(p: Uint8Array, hdr: number): number {
  return gvspU48(p, hdr + 2);
}

/** Destination offset (u64 at `hdr + 4`) of a GenDC data packet. */
export function gvspGendcDestinationOffset(p: Uint8Array, hdr: number): number {
  return gvspU64Number(p, hdr + 4);
}
