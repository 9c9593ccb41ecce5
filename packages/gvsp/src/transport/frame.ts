import { imageByteSize, pixelFormatInfo, pixelFormatName } from '@cam/gvcp/codec';
import { copyBytes } from '@cam/net-utils';
import { GVSP_CHUNK_APPENDED_BIT, GvspPayloadType, gvspPayloadTypeName } from '../codec/constants.js';
import { decodeGvspPacket, type GvspLeader, type GvspTrailer, partImageAoi } from '../codec/packet.js';
import { FRAME_STATUS_NAMES, type FrameStatusName } from './reassembler.js';

/** One part of a multipart frame, located in {@link GvspFrame.data}. */
export interface GvspFramePart {
  index: number;
  dataType: number;
  /** Byte offset of the part in the frame data. */
  offset: number;
  length: number;
  /** Pixel format (image parts) or data format. */
  format: number;
  width?: number;
  height?: number;
  data: Uint8Array;
}

/** A frame (GVSP block) delivered by the receiver. */
export interface GvspFrame {
  blockId: bigint;
  status: FrameStatusName;
  /** Payload type without the chunk bit (see {@link GvspPayloadType}); 0 when the leader never arrived. */
  payloadType: number;
  payloadTypeName: string;
  chunksAppended: boolean;
  timestamp: bigint;
  pixelFormat: number;
  pixelFormatName: string;
  width: number;
  height: number;
  offsetX: number;
  offsetY: number;
  paddingX: number;
  paddingY: number;
  /** Multipart frames: the parts, in leader order. */
  parts: GvspFramePart[];
  /** The payload bytes received (image plus appended chunks). */
  data: Uint8Array;
  /** Image bytes (without appended chunk data) for image payloads, else the same as `data`. */
  image: Uint8Array;
  /** Appended chunk data, when the payload type has the chunk bit. */
  chunkData: Uint8Array | undefined;
  leader: GvspLeader | undefined;
  trailer: GvspTrailer | undefined;
  packets: { expected: number; received: number; missing: number; resent: number };
  /** Wall-clock time the frame ended (ms since the epoch). */
  receivedAt: number;
  /** True while `data` is a view into the receiver's pool (give it back with {@link release}). */
  readonly pooled: boolean;
  /** Returns the buffer to the receiver's pool; `data` must not be used afterwards. Idempotent. */
  release(): void;
  [Symbol.dispose](): void;
}

/** What the engine knows about an ended frame. */
export interface FrameRecord {
  status: number;
  blockId: number;
  dataEnd: number;
  expected: number;
  received: number;
  resent: number;
  leader: Uint8Array;
  trailer: Uint8Array;
}

/** Builds the public frame object (once per frame: allocation here is fine). */
export function buildFrame(
  rec: FrameRecord,
  buffer: Uint8Array,
  options: { copy: boolean; swap16: boolean; release: () => void },
): GvspFrame {
  let leader: GvspLeader | undefined;
  let trailer: GvspTrailer | undefined;
  let data = buffer.subarray(0, rec.dataEnd);
  try {
    if (rec.leader.byteLength > 0) {
      const p = decodeGvspPacket(rec.leader);
      if (p.kind === 'leader') leader = p.leader;
      else if (p.kind === 'allIn') {
        leader = p.leader;
        trailer = p.trailer;
      }
    }
  } catch {
    leader = undefined;
  }
  try {
    if (rec.trailer.byteLength > 0) {
      const p = decodeGvspPacket(rec.trailer);
      if (p.kind === 'trailer') trailer = p.trailer;
    }
  } catch {
    trailer = undefined;
  }
  const l = leader as (GvspLeader & Partial<Record<string, unknown>>) | undefined;
  const num = (k: string): number => (l && typeof l[k] === 'number' ? (l[k] as number) : 0);
  const payloadType = leader?.payloadType ?? trailer?.payloadType ?? 0;
  const pixelFormat = num('pixelFormat');
  let height = num('sizeY');
  if (trailer?.sizeY !== undefined && trailer.sizeY > 0 && trailer.sizeY < height) height = trailer.sizeY;
  const width = num('sizeX');
  const chunksAppended = leader?.chunksAppended ?? trailer?.chunksAppended ?? false;
  let imageLength = data.byteLength;
  if (payloadType === GvspPayloadType.IMAGE || payloadType === GvspPayloadType.MULTIZONE_IMAGE) {
    imageLength = Math.min(
      data.byteLength,
      imageByteSize(pixelFormat, width, height, num('paddingX'), num('paddingY')),
    );
  }
  if (options.swap16 && pixelFormatInfo(pixelFormat)?.wordPixels && imageLength >= 2) {
    // seed 001: cameras differ in the byte order of 16-bit pixels; make them little-endian as PFNC says
    Buffer.from(data.buffer, data.byteOffset, imageLength & ~1).swap16();
  }
  let pooled = true;
  let released = false;
  const giveBack = (): void => {
    if (released) return;
    released = true;
    options.release();
  };
  if (options.copy) {
    // a Buffer's slice() is a view of the pooled buffer; the caller asked for bytes of its own
    data = copyBytes(data);
    pooled = false;
    giveBack();
  }
  const parts: GvspFramePart[] = [];
  if (leader && 'parts' in leader) {
    let off = 0;
    leader.parts.forEach((p, index) => {
      const aoi = partImageAoi(p);
      const part: GvspFramePart = {
        index,
        dataType: p.dataType,
        offset: off,
        length: p.partLength,
        format: p.format,
        data: data.subarray(Math.min(off, data.byteLength), Math.min(off + p.partLength, data.byteLength)),
      };
      if (aoi) {
        part.width = aoi.sizeX;
        part.height = aoi.sizeY;
      }
      parts.push(part);
      off += p.partLength;
    });
  }
  const image = data.subarray(0, imageLength);
  const chunkData = chunksAppended ? data.subarray(imageLength) : undefined;
  const blockId = BigInt(rec.blockId);
  const frame: GvspFrame = {
    blockId,
    status: FRAME_STATUS_NAMES[rec.status] ?? 'aborted',
    payloadType,
    payloadTypeName: payloadType === 0 ? 'UNKNOWN' : gvspPayloadTypeName(payloadType & ~GVSP_CHUNK_APPENDED_BIT),
    chunksAppended,
    timestamp: l && typeof l.timestamp === 'bigint' ? l.timestamp : 0n,
    pixelFormat,
    pixelFormatName: pixelFormat ? pixelFormatName(pixelFormat) : '',
    width,
    height,
    offsetX: num('offsetX'),
    offsetY: num('offsetY'),
    paddingX: num('paddingX'),
    paddingY: num('paddingY'),
    parts,
    data,
    image,
    chunkData,
    leader,
    trailer,
    packets: {
      expected: rec.expected,
      received: rec.received,
      missing: Math.max(0, rec.expected - rec.received),
      resent: rec.resent,
    },
    receivedAt: Date.now(),
    get pooled() {
      return pooled && !released;
    },
    release: giveBack,
    [Symbol.dispose]: giveBack,
  };
  return frame;
}
