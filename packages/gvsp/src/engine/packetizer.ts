import { imageByteSize } from '@cam/gvcp/codec';
import { ValueOutOfRangeError } from '@cam/net-utils/wire';
import {
  GVSP_EXTENDED_HEADER_SIZE,
  GVSP_STANDARD_HEADER_SIZE,
  GvspHeaderFlag,
  GvspPacketFormat,
  GvspPayloadType,
  GvspStatus,
  IP_UDP_OVERHEAD,
} from '../codec/constants.js';
import {
  encodedLengthGvspPacket,
  encodeGvspPacketInto,
  type GvspHeader,
  type GvspLeader,
  type GvspPacket,
  type GvspTrailer,
  type ImageLeader,
} from '../codec/packet.js';

/** Which data-packet format carries the payload. */
export type DataPacketKind = 'payload' | 'h264' | 'multizone' | 'multipart' | 'gendc';

/** A block (frame) to packetise. */
export interface GvspBlock {
  leader: GvspLeader;
  trailer: GvspTrailer;
  /** Payload bytes (for multipart: the parts back to back, in leader order). */
  data: Uint8Array;
  /** Data packet format (default `payload`, the generic one; multipart leaders default to `multipart`). */
  dataKind?: DataPacketKind;
  /** Send the whole block as one all-in packet when it fits (default false). */
  allIn?: boolean;
  /** H.264 data packets: timestamp of each packet (default 0). */
  h264Timestamp?: bigint;
}

/** A packetised block: every datagram back to back in one buffer, `offsets[i]..offsets[i+1]` is packet id i. */
export interface PacketisedBlock {
  blockId: bigint;
  extendedId: boolean;
  bytes: Uint8Array;
  offsets: Int32Array;
  /** Packet ids are 0..packetCount-1 (leader 0, trailer last). */
  packetCount: number;
}

/** Data bytes one payload packet carries at this SCPS packet size. */
export function dataBytesPerPacket(packetSize: number, extendedId: boolean, kind: DataPacketKind = 'payload'): number {
  const hdr = extendedId ? GVSP_EXTENDED_HEADER_SIZE : GVSP_STANDARD_HEADER_SIZE;
  const extra = kind === 'payload' ? 0 : kind === 'gendc' ? 16 : 8;
  return packetSize - IP_UDP_OVERHEAD - hdr - extra;
}

/**
 * Cuts a block into GVSP packets: leader (id 0), data packets (1..n), trailer (n+1), encoded once into one
 * contiguous buffer so sending and resending are slices of it.
 */
export function packetiseBlock(
  block: GvspBlock,
  blockId: bigint,
  packetSize: number,
  extendedId: boolean,
): PacketisedBlock {
  const kind: DataPacketKind =
    block.dataKind ?? (block.leader.payloadType === GvspPayloadType.MULTIPART ? 'multipart' : 'payload');
  const per = dataBytesPerPacket(packetSize, extendedId, kind);
  if (per < 4) throw new ValueOutOfRangeError('packetSize', `${packetSize} leaves no room for data`);
  const header = (format: number, packetId: number): GvspHeader => ({
    status: GvspStatus.SUCCESS,
    extendedId,
    blockId,
    packetId,
    format,
    flags: 0,
    spare: 0,
  });
  const packets: GvspPacket[] = [];
  if (block.allIn) {
    packets.push({
      header: header(GvspPacketFormat.ALL_IN, 0),
      kind: 'allIn',
      leader: block.leader,
      trailer: block.trailer,
      data: block.data,
    });
  } else {
    packets.push({ header: header(GvspPacketFormat.LEADER, 0), kind: 'leader', leader: block.leader });
    let id = 1;
    if (kind === 'multipart' && 'parts' in block.leader) {
      let base = 0;
      block.leader.parts.forEach((part, partId) => {
        for (let off = 0; off < part.partLength || (off === 0 && part.partLength === 0); off += per) {
          const n = Math.min(per, part.partLength - off);
          packets.push({
            header: header(GvspPacketFormat.MULTIPART, id++),
            kind: 'multipart',
            partId,
            zoneInfo: 0,
            addressOffset: off,
            data: block.data.subarray(base + off, base + off + Math.max(0, n)),
          });
          if (part.partLength === 0) break;
        }
        base += part.partLength;
      });
    } else {
      for (let off = 0; off < block.data.byteLength; off += per) {
        const data = block.data.subarray(off, Math.min(block.data.byteLength, off + per));
        const h = header(GvspPacketFormat.PAYLOAD, id++);
        switch (kind) {
          case 'payload':
            packets.push({ header: h, kind: 'payload', data });
            break;
          case 'h264':
            packets.push({
              header: { ...h, format: GvspPacketFormat.H264 },
              kind: 'h264',
              timestamp: block.h264Timestamp ?? 0n,
              data,
            });
            break;
          case 'multizone':
            packets.push({
              header: { ...h, format: GvspPacketFormat.MULTIZONE },
              kind: 'multizone',
              reserved: 0,
              zoneInfo: 0,
              addressOffset: off,
              data,
            });
            break;
          case 'gendc':
            packets.push({
              header: { ...h, format: GvspPacketFormat.GENDC },
              kind: 'gendc',
              dataSize: data.byteLength,
              destinationOffset: BigInt(off),
              dataFlags: 0,
              flowFlags: 0,
              flowId: 0,
              data,
            });
            break;
          default:
            throw new ValueOutOfRangeError('dataKind', `${String(kind)} is not a data packet kind`);
        }
      }
    }
    packets.push({ header: header(GvspPacketFormat.TRAILER, id), kind: 'trailer', trailer: block.trailer });
  }
  if (!extendedId && packets.length > 0xffffff) {
    throw new ValueOutOfRangeError('block', `${packets.length} packets need extended ids`);
  }
  const offsets = new Int32Array(packets.length + 1);
  let total = 0;
  for (let i = 0; i < packets.length; i++) {
    offsets[i] = total;
    total += encodedLengthGvspPacket(packets[i]!);
  }
  offsets[packets.length] = total;
  const bytes = new Uint8Array(total);
  for (let i = 0; i < packets.length; i++) encodeGvspPacketInto(packets[i]!, bytes, offsets[i]!);
  return { blockId, extendedId, bytes, offsets, packetCount: packets.length };
}

/** Marks packet `id` of a packetised block as a retransmission (status PACKET_RESEND, extended flag). */
export function markResent(block: PacketisedBlock, id: number): void {
  const o = block.offsets[id]!;
  block.bytes[o] = GvspStatus.PACKET_RESEND >> 8;
  block.bytes[o + 1] = GvspStatus.PACKET_RESEND & 0xff;
  if (block.extendedId) block.bytes[o + 3]! |= GvspHeaderFlag.PACKET_RESEND;
}

/** A header-only status packet (e.g. PACKET_UNAVAILABLE for a block that is no longer kept). */
export function statusPacket(
  status: number,
  blockId: bigint,
  packetId: number,
  extendedId: boolean,
  flags = 0,
): Uint8Array {
  const p: GvspPacket = {
    header: { status, extendedId, blockId, packetId, format: GvspPacketFormat.PAYLOAD, flags, spare: 0 },
    kind: 'status',
  };
  const out = new Uint8Array(encodedLengthGvspPacket(p));
  encodeGvspPacketInto(p, out);
  return out;
}

/** An image to send: what {@link imageBlock} needs (pixel format, size, data, optional AOI, padding, chunks). */
export interface SenderImage {
  pixelFormat: number;
  width: number;
  height: number;
  data: Uint8Array;
  offsetX?: number;
  offsetY?: number;
  paddingX?: number;
  paddingY?: number;
  /** Leader timestamp (default: now, in ns of `performance.now()`). */
  timestamp?: bigint;
  chunkData?: Uint8Array;
  chunkLayoutId?: number;
}

/**
 * The image block (leader, trailer, data) of an image: image payload type, its AOI and padding, `data` cut to the
 * image's size, and chunk data appended (with the chunk bit and the trailer's chunk info) when given.
 */
export function imageBlock(image: SenderImage): GvspBlock {
  const expected = imageByteSize(
    image.pixelFormat,
    image.width,
    image.height,
    image.paddingX ?? 0,
    image.paddingY ?? 0,
  );
  if (image.data.byteLength < expected) {
    throw new ValueOutOfRangeError('data', `${image.data.byteLength} bytes for an image of ${expected}`);
  }
  const chunks = image.chunkData !== undefined;
  const leader: ImageLeader = {
    fieldInfo: 0,
    genericFlags: 0,
    chunksAppended: chunks,
    payloadType: GvspPayloadType.IMAGE,
    timestamp: image.timestamp ?? BigInt(Math.round(performance.now() * 1e6)),
    pixelFormat: image.pixelFormat,
    sizeX: image.width,
    sizeY: image.height,
    offsetX: image.offsetX ?? 0,
    offsetY: image.offsetY ?? 0,
    paddingX: image.paddingX ?? 0,
    paddingY: image.paddingY ?? 0,
  };
  const trailer: GvspTrailer = {
    reserved: 0,
    payloadType: GvspPayloadType.IMAGE,
    chunksAppended: chunks,
    sizeY: image.height,
  };
  let data = image.data.subarray(0, expected);
  if (image.chunkData) {
    trailer.chunkInfo = {
      chunkDataPayloadLength: image.chunkData.byteLength,
      chunkLayoutId: image.chunkLayoutId ?? 0,
    };
    const all = new Uint8Array(expected + image.chunkData.byteLength);
    all.set(data);
    all.set(image.chunkData, expected);
    data = all;
  }
  return { leader, trailer, data };
}
