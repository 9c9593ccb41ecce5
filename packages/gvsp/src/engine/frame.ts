import { imageByteSize, pixelFormatInfo, pixelFormatName } from '@cam/gvcp/codec';
import { copyBytes } from '@cam/net-utils/wire';
import {
  GVSP_CHUNK_APPENDED_BIT,
  GVSP_STANDARD_HEADER_SIZE,
  GvspPacketFormat,
  GvspPayloadType,
  gvspPayloadTypeName,
} from '../codec/constants.js';
import { decodeGvspPacket, type GvspLeader, type GvspTrailer, partImageAoi } from '../codec/packet.js';
import {
  gvspChunksAppendedAt,
  gvspFormatOf,
  gvspHeaderLength,
  gvspLeaderTimestamp,
  gvspPayloadTypeAt,
  gvspTrailerSizeYOffset,
  gvspU16,
  gvspU32,
  IMAGE_LEADER_SIZE,
  ImageLeaderField,
  MULTIZONE_FIELD_SHIFT,
} from '../codec/packet-fields.js';
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
  let data = buffer.subarray(0, rec.dataEnd);
  // The scalar fields come from the stored leader and trailer bytes through the codec's field readers, the ones
  // the reassembler used on the same packets; the full leader/trailer objects are decoded only when asked for.
  const lb = rec.leader;
  const tb = rec.trailer;
  const lh = lb.byteLength >= GVSP_STANDARD_HEADER_SIZE ? gvspHeaderLength(lb) : 0;
  const hasLeader =
    lh > 0 &&
    lb.byteLength >= lh + 4 &&
    (gvspFormatOf(lb) === GvspPacketFormat.LEADER || gvspFormatOf(lb) === GvspPacketFormat.ALL_IN);
  const th = tb.byteLength >= GVSP_STANDARD_HEADER_SIZE ? gvspHeaderLength(tb) : 0;
  const hasTrailer = th > 0 && tb.byteLength >= th + 4 && gvspFormatOf(tb) === GvspPacketFormat.TRAILER;
  const payloadType = hasLeader ? gvspPayloadTypeAt(lb, lh) : hasTrailer ? gvspPayloadTypeAt(tb, th) : 0;
  const chunksAppended = hasLeader ? gvspChunksAppendedAt(lb, lh) : hasTrailer ? gvspChunksAppendedAt(tb, th) : false;
  // image fields: image and extended-chunk leaders, and multizone ones 4 bytes further on
  let field = -1;
  if (hasLeader && (payloadType === GvspPayloadType.IMAGE || payloadType === GvspPayloadType.EXTENDED_CHUNK)) {
    field = lh;
  } else if (hasLeader && payloadType === GvspPayloadType.MULTIZONE_IMAGE) field = lh + MULTIZONE_FIELD_SHIFT;
  if (field >= 0 && lb.byteLength < field + IMAGE_LEADER_SIZE) field = -1;
  const u32 = (k: keyof typeof ImageLeaderField): number => (field >= 0 ? gvspU32(lb, field + ImageLeaderField[k]) : 0);
  const u16 = (k: keyof typeof ImageLeaderField): number => (field >= 0 ? gvspU16(lb, field + ImageLeaderField[k]) : 0);
  const pixelFormat = u32('pixelFormat');
  const width = u32('sizeX');
  let height = u32('sizeY');
  const sizeYAt = gvspTrailerSizeYOffset(payloadType);
  if (sizeYAt >= 0) {
    let trailerSizeY = 0;
    if (hasTrailer && tb.byteLength >= th + sizeYAt + 4) trailerSizeY = gvspU32(tb, th + sizeYAt);
    else if (field >= 0 && gvspFormatOf(lb) === GvspPacketFormat.ALL_IN) {
      // an all-in packet's trailer body follows its leader body in the same bytes
      const at = field + IMAGE_LEADER_SIZE + sizeYAt;
      if (lb.byteLength >= at + 4) trailerSizeY = gvspU32(lb, at);
    }
    if (trailerSizeY > 0 && trailerSizeY < height) height = trailerSizeY;
  }
  const paddingX = u16('paddingX');
  const paddingY = u16('paddingY');
  const timestamp = hasLeader && lb.byteLength >= lh + 12 ? gvspLeaderTimestamp(lb, lh) : 0n;
  // the slot's leader and trailer memory is reused for later frames: keep copies for the lazy decode
  const leaderBytes = hasLeader ? copyBytes(lb) : undefined;
  const trailerBytes = hasTrailer ? copyBytes(tb) : undefined;
  let decoded: { leader: GvspLeader | undefined; trailer: GvspTrailer | undefined } | undefined;
  const decode = (): { leader: GvspLeader | undefined; trailer: GvspTrailer | undefined } => {
    if (decoded) return decoded;
    decoded = { leader: undefined, trailer: undefined };
    try {
      if (leaderBytes) {
        const p = decodeGvspPacket(leaderBytes);
        if (p.kind === 'leader') decoded.leader = p.leader;
        else if (p.kind === 'allIn') {
          decoded.leader = p.leader;
          decoded.trailer = p.trailer;
        }
      }
    } catch {
      decoded.leader = undefined;
    }
    try {
      if (trailerBytes) {
        const p = decodeGvspPacket(trailerBytes);
        if (p.kind === 'trailer') decoded.trailer = p.trailer;
      }
    } catch {
      decoded.trailer = undefined;
    }
    return decoded;
  };
  let imageLength = data.byteLength;
  if (payloadType === GvspPayloadType.IMAGE || payloadType === GvspPayloadType.MULTIZONE_IMAGE) {
    imageLength = Math.min(data.byteLength, imageByteSize(pixelFormat, width, height, paddingX, paddingY));
  }
  if (options.swap16 && pixelFormatInfo(pixelFormat)?.wordPixels && imageLength >= 2) {
    // seed 001: cameras differ in the byte order of 16-bit pixels; make them little-endian as PFNC says
    swapBytePairs(data, imageLength & ~1);
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
  // multipart frames (rare): the part table is the one place that needs the whole leader
  const partsLeader = payloadType === GvspPayloadType.MULTIPART ? decode().leader : undefined;
  if (partsLeader && 'parts' in partsLeader) {
    let off = 0;
    partsLeader.parts.forEach((p, index) => {
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
    timestamp,
    pixelFormat,
    pixelFormatName: pixelFormat ? pixelFormatName(pixelFormat) : '',
    width,
    height,
    offsetX: u32('offsetX'),
    offsetY: u32('offsetY'),
    paddingX,
    paddingY,
    parts,
    data,
    image,
    chunkData,
    get leader() {
      return decode().leader;
    },
    get trailer() {
      return decode().trailer;
    },
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

/** Swaps each byte pair of `data[0..length)` in place: Node's native swap16 where there is one, else a loop. */
function swapBytePairs(data: Uint8Array, length: number): void {
  const NodeBuffer = (globalThis as { Buffer?: { from(b: ArrayBufferLike, o: number, n: number): { swap16(): void } } })
    .Buffer;
  if (NodeBuffer) {
    NodeBuffer.from(data.buffer, data.byteOffset, length).swap16();
    return;
  }
  for (let i = 0; i + 1 < length; i += 2) {
    const b = data[i]!;
    data[i] = data[i + 1]!;
    data[i + 1] = b;
  }
}
