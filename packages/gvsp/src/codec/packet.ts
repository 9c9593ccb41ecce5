import {
  BufferTooSmallError,
  ByteReader,
  ByteWriter,
  MalformedError,
  TruncatedError,
  ValueOutOfRangeError,
} from '@cam/net-utils/wire';
import {
  GVSP_CHUNK_APPENDED_BIT,
  GVSP_EXTENDED_HEADER_SIZE,
  GVSP_EXTENDED_ID_BIT,
  GVSP_STANDARD_HEADER_SIZE,
  GvspPacketFormat,
  GvspPayloadType,
  GvspStatus,
} from './constants.js';
import {
  GENDC_SUBHEADER_SIZE,
  gvspAddressOffset,
  gvspFormatOf,
  gvspIsExtendedId,
  gvspLow24,
  gvspPacketIdOf,
  gvspPartIdOf,
  gvspSecondWord,
  gvspStatusOf,
  gvspU32,
  PAYLOAD_SUBHEADER_SIZE,
} from './packet-fields.js';

/** The common GVSP header (standard 8 bytes or extended-id 20 bytes). */
export interface GvspHeader {
  status: number;
  /** Extended ids (EI bit): 64-bit block id, 32-bit packet id, flags. */
  extendedId: boolean;
  /** 16-bit in standard mode (0 is not used), 64-bit with extended ids. */
  blockId: bigint;
  /** 24-bit in standard mode, 32-bit with extended ids. */
  packetId: number;
  /** Packet format (without the EI bit), see {@link GvspPacketFormat}. */
  format: number;
  /** Extended header flags ({@link GvspHeaderFlag}); 0 in standard mode. */
  flags: number;
  /**
   * The 24 bits after the format byte of an extended header; the low byte holds the part count of a multipart
   * leader and the number of additional zones of a multizone leader. 0 in standard mode.
   */
  spare: number;
}

/** Fields every leader has. */
export interface LeaderCommon {
  /** First byte: field id (high 4 bits) and field count (low 4 bits) for interlaced images; reserved otherwise. */
  fieldInfo: number;
  /** Second byte: generic flags (JPEG, extended chunk); reserved otherwise. */
  genericFlags: number;
  /** Payload type bit 0x4000: chunk data follow the payload. */
  chunksAppended: boolean;
  /** Bytes after the type-specific fields (some devices pad the leader); kept so re-encoding is byte-identical. */
  extra?: Uint8Array;
}

export interface ImageAoi {
  pixelFormat: number;
  sizeX: number;
  sizeY: number;
  offsetX: number;
  offsetY: number;
  paddingX: number;
  paddingY: number;
}

export interface ImageLeader extends LeaderCommon, ImageAoi {
  payloadType: typeof GvspPayloadType.IMAGE | typeof GvspPayloadType.EXTENDED_CHUNK;
  timestamp: bigint;
}
export interface RawDataLeader extends LeaderCommon {
  payloadType: typeof GvspPayloadType.RAW_DATA;
  timestamp: bigint;
  payloadSize: bigint;
}
export interface FileLeader extends LeaderCommon {
  payloadType: typeof GvspPayloadType.FILE;
  timestamp: bigint;
  payloadSize: bigint;
  fileName: string;
}
export interface ChunkDataLeader extends LeaderCommon {
  payloadType: typeof GvspPayloadType.CHUNK_DATA;
  timestamp: bigint;
}
export interface JpegLeader extends LeaderCommon {
  payloadType: typeof GvspPayloadType.JPEG | typeof GvspPayloadType.JPEG2000;
  timestamp: bigint;
  payloadSize: bigint;
  timestampTickFrequency: bigint;
  dataFormat: number;
}
export interface H264Params {
  profileIdc: number;
  /** cs0..cs3 constraint-set bits (high nibble). */
  constraintSet: number;
  levelIdc: number;
  sropInterleavingDepth: number;
  sropMaxDonDiff: number;
  sropDeintBufReq: number;
  sropInitBufTime: number;
}
export interface H264Leader extends LeaderCommon, H264Params {
  payloadType: typeof GvspPayloadType.H264;
  payloadSize: bigint;
  packetizationMode: number;
  packetSize: number;
}
export interface MultizoneLeader extends LeaderCommon, ImageAoi {
  payloadType: typeof GvspPayloadType.MULTIZONE_IMAGE;
  timestamp: bigint;
  /** One bit per zone: 1 = bottom-up. */
  zoneDirection: number;
}
/** One 48-byte part info of a multipart leader. */
export interface MultipartPartInfo {
  dataType: number;
  /** 48-bit length of the part in bytes. */
  partLength: number;
  /** Pixel format (image parts) or data format (JPEG parts). */
  format: number;
  sourceId: number;
  additionalZones: number;
  zoneDirection: number;
  dataPurposeId: number;
  regionId: number;
  /** 24 type-specific bytes: for image parts size_x, size_y, offset_x, offset_y (u32), padding_x, padding_y (u16). */
  dataTypeSpecific: Uint8Array;
}
export interface MultipartLeader extends LeaderCommon {
  payloadType: typeof GvspPayloadType.MULTIPART;
  timestamp: bigint;
  parts: MultipartPartInfo[];
}
export interface GendcLeader extends LeaderCommon {
  payloadType: typeof GvspPayloadType.GENDC_CONTAINER;
  timestamp: bigint;
  payloadSize: bigint;
  /** Payload-specific flags (bit 0x80 preliminary descriptor). */
  gendcFlags: number;
  descriptorSize: number;
}
/** A leader of a payload type this codec has no layout for (device-specific types); the body is kept raw. */
export interface OtherLeader extends LeaderCommon {
  payloadType: number;
  body: Uint8Array;
}
export type GvspLeader =
  | ImageLeader
  | RawDataLeader
  | FileLeader
  | ChunkDataLeader
  | JpegLeader
  | H264Leader
  | MultizoneLeader
  | MultipartLeader
  | GendcLeader
  | OtherLeader;

/** Chunk-data information added after the trailer fields when the chunk bit is set. */
export interface TrailerChunkInfo {
  chunkDataPayloadLength: number;
  chunkLayoutId: number;
}
export interface MultipartTrailerPart {
  dataType: number;
  partLength: number;
  /** For image parts: the real size_y; otherwise 8 type-specific bytes as two u32. */
  typeSpecific0: number;
  typeSpecific1: number;
}
export interface GvspTrailer {
  /** Reserved first 16 bits. */
  reserved: number;
  /** Payload type without the chunk bit. */
  payloadType: number;
  chunksAppended: boolean;
  /** Image and multizone trailers: the number of lines actually sent. */
  sizeY?: number;
  /** Chunk data and extended chunk trailers. */
  payloadLength?: number;
  /** Extended chunk trailer. */
  chunkLayoutId?: number;
  /** Multipart trailer. */
  parts?: MultipartTrailerPart[];
  /** Present exactly when `chunksAppended`. */
  chunkInfo?: TrailerChunkInfo;
  /** Bytes after the known fields (or the whole body of a device-specific trailer). */
  extra?: Uint8Array;
}

export type GvspPacket =
  | { header: GvspHeader; kind: 'leader'; leader: GvspLeader }
  | { header: GvspHeader; kind: 'trailer'; trailer: GvspTrailer }
  | { header: GvspHeader; kind: 'payload'; data: Uint8Array }
  | { header: GvspHeader; kind: 'allIn'; leader: GvspLeader; trailer: GvspTrailer; data: Uint8Array }
  | { header: GvspHeader; kind: 'h264'; timestamp: bigint; data: Uint8Array }
  | {
      header: GvspHeader;
      kind: 'multizone';
      reserved: number;
      zoneInfo: number;
      addressOffset: number;
      data: Uint8Array;
    }
  | { header: GvspHeader; kind: 'multipart'; partId: number; zoneInfo: number; addressOffset: number; data: Uint8Array }
  | {
      header: GvspHeader;
      kind: 'gendc';
      dataSize: number;
      destinationOffset: bigint;
      dataFlags: number;
      flowFlags: number;
      flowId: number;
      data: Uint8Array;
    }
  /** A header-only packet with an error status (e.g. the answer to a PACKETRESEND for a packet that is gone). */
  | { header: GvspHeader; kind: 'status' };

/** Limits on decoding. */
export interface GvspDecodeOptions {
  /** Largest datagram accepted (default 65507, the UDP maximum). */
  maxPacketSize?: number;
}

const MAX_UDP = 65507;
const LEADER_FIXED_SIZE: Record<number, number> = {
  [GvspPayloadType.IMAGE]: 36,
  [GvspPayloadType.EXTENDED_CHUNK]: 36,
  [GvspPayloadType.RAW_DATA]: 20,
  [GvspPayloadType.CHUNK_DATA]: 12,
  [GvspPayloadType.JPEG]: 32,
  [GvspPayloadType.JPEG2000]: 32,
  [GvspPayloadType.H264]: 32,
  [GvspPayloadType.MULTIZONE_IMAGE]: 40,
  [GvspPayloadType.GENDC_CONTAINER]: 28,
};
const PART_INFO_SIZE = 48;
const TRAILER_PART_SIZE = 16;

// ---------------------------------------------------------------- header

/** Bytes of the header for this id mode. */
export function gvspHeaderSize(extendedId: boolean): number {
  return extendedId ? GVSP_EXTENDED_HEADER_SIZE : GVSP_STANDARD_HEADER_SIZE;
}

/** Decodes the GVSP header at the start of `bytes`. */
export function decodeGvspHeader(bytes: Uint8Array): GvspHeader {
  const r = new ByteReader(bytes);
  return readHeader(r);
}

function readHeader(r: ByteReader): GvspHeader {
  // the field readers of ./packet-fields.ts, shared with the reassembler's hot path; the reader checks lengths
  r.ensure(GVSP_STANDARD_HEADER_SIZE, 'GVSP header');
  const p = r.bytes.subarray(r.offset);
  const status = gvspStatusOf(p);
  const extendedId = gvspIsExtendedId(p);
  const format = gvspFormatOf(p);
  if (format < GvspPacketFormat.LEADER || format > GvspPacketFormat.GENDC) {
    throw new MalformedError(r.offset + 4, `unknown GVSP packet format ${format}`);
  }
  if (!extendedId) {
    r.skip(GVSP_STANDARD_HEADER_SIZE);
    return {
      status,
      extendedId,
      blockId: BigInt(gvspSecondWord(p)),
      packetId: gvspLow24(p),
      format,
      flags: 0,
      spare: 0,
    };
  }
  r.ensure(GVSP_EXTENDED_HEADER_SIZE, 'extended GVSP header');
  r.skip(GVSP_EXTENDED_HEADER_SIZE);
  // 64-bit block id as two exact halves (the number reader is exact only below 2^53)
  const blockId = (BigInt(gvspU32(p, 8)) << 32n) | BigInt(gvspU32(p, 12));
  return {
    status,
    extendedId,
    blockId,
    packetId: gvspPacketIdOf(p, true),
    format,
    flags: gvspSecondWord(p),
    spare: gvspLow24(p),
  };
}

function writeHeader(w: ByteWriter, h: GvspHeader): void {
  w.u16(h.status, false, 'status');
  if (h.format < 1 || h.format > 0x7f) throw new ValueOutOfRangeError('format', `${h.format} is not a 7-bit format`);
  if (!h.extendedId) {
    if (h.blockId < 0n || h.blockId > 0xffffn) {
      throw new ValueOutOfRangeError('blockId', `${h.blockId} does not fit 16 bits; use extended ids`);
    }
    if (!Number.isInteger(h.packetId) || h.packetId < 0 || h.packetId > 0xffffff) {
      throw new ValueOutOfRangeError('packetId', `${h.packetId} does not fit 24 bits; use extended ids`);
    }
    w.u16(Number(h.blockId), false, 'blockId');
    w.u8(h.format);
    w.u8(h.packetId >>> 16);
    w.u16(h.packetId & 0xffff);
    return;
  }
  w.u16(h.flags, false, 'flags');
  w.u8(h.format | GVSP_EXTENDED_ID_BIT);
  if (!Number.isInteger(h.spare) || h.spare < 0 || h.spare > 0xffffff) {
    throw new ValueOutOfRangeError('spare', `${h.spare} does not fit 24 bits`);
  }
  w.u8(h.spare >>> 16);
  w.u16(h.spare & 0xffff);
  w.u64(h.blockId, false, 'blockId');
  w.u32(h.packetId, false, 'packetId');
}

// ---------------------------------------------------------------- 48-bit helpers

function readU48(r: ByteReader, what: string): number {
  const hi = r.u16(false, what);
  const lo = r.u32(false, what);
  return hi * 0x1_0000_0000 + lo;
}

function writeU48(w: ByteWriter, v: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff_ffff) {
    throw new ValueOutOfRangeError(field, `${v} does not fit 48 bits`);
  }
  w.u16(Math.floor(v / 0x1_0000_0000), false, field);
  w.u32(v % 0x1_0000_0000, false, field);
}

// ---------------------------------------------------------------- leaders

function readAoi(r: ByteReader): Omit<ImageAoi, 'pixelFormat'> {
  return {
    sizeX: r.u32(false, 'size_x'),
    sizeY: r.u32(false, 'size_y'),
    offsetX: r.u32(false, 'offset_x'),
    offsetY: r.u32(false, 'offset_y'),
    paddingX: r.u16(false, 'padding_x'),
    paddingY: r.u16(false, 'padding_y'),
  };
}

function writeAoi(w: ByteWriter, a: ImageAoi): void {
  w.u32(a.sizeX, false, 'sizeX').u32(a.sizeY, false, 'sizeY').u32(a.offsetX, false, 'offsetX');
  w.u32(a.offsetY, false, 'offsetY').u16(a.paddingX, false, 'paddingX').u16(a.paddingY, false, 'paddingY');
}

/** Reads a leader body; `end` is where it must stop (all-in) or undefined (keep trailing bytes as `extra`). */
function readLeader(r: ByteReader, header: GvspHeader, allIn: boolean): GvspLeader {
  const start = r.offset;
  r.ensure(4, 'leader');
  const fieldInfo = r.u8();
  const genericFlags = r.u8();
  const rawType = r.u16();
  const chunksAppended = (rawType & GVSP_CHUNK_APPENDED_BIT) !== 0;
  const payloadType = rawType & ~GVSP_CHUNK_APPENDED_BIT;
  const fixed = LEADER_FIXED_SIZE[payloadType];
  if (fixed !== undefined) r.ensure(fixed - 4, `${payloadTypeLabel(payloadType)} leader`);
  const common = { fieldInfo, genericFlags, chunksAppended };
  let leader: GvspLeader;
  switch (payloadType) {
    case GvspPayloadType.IMAGE:
    case GvspPayloadType.EXTENDED_CHUNK: {
      const timestamp = r.u64();
      const pixelFormat = r.u32();
      leader = { ...common, payloadType, timestamp, pixelFormat, ...readAoi(r) };
      break;
    }
    case GvspPayloadType.RAW_DATA:
      leader = { ...common, payloadType, timestamp: r.u64(), payloadSize: r.u64() };
      break;
    case GvspPayloadType.FILE: {
      r.ensure(16, 'file leader');
      const timestamp = r.u64();
      const payloadSize = r.u64();
      const rest = r.bytes.subarray(r.offset);
      const nul = rest.indexOf(0);
      if (nul < 0) throw new MalformedError(r.offset, 'file leader name has no terminating NUL');
      const fileName = r.fixedString(nul + 1, 'utf-8', 'file name');
      leader = { ...common, payloadType, timestamp, payloadSize, fileName };
      break;
    }
    case GvspPayloadType.CHUNK_DATA:
      leader = { ...common, payloadType, timestamp: r.u64() };
      break;
    case GvspPayloadType.JPEG:
    case GvspPayloadType.JPEG2000:
      leader = {
        ...common,
        payloadType,
        timestamp: r.u64(),
        payloadSize: r.u64(),
        timestampTickFrequency: r.u64(),
        dataFormat: r.u32(),
      };
      break;
    case GvspPayloadType.H264: {
      const payloadSize = r.u64();
      r.skip(1);
      const packetizationMode = r.u8();
      const packetSize = r.u16();
      r.skip(1);
      leader = { ...common, payloadType, payloadSize, packetizationMode, packetSize, ...readH264Params(r) };
      break;
    }
    case GvspPayloadType.MULTIZONE_IMAGE: {
      const timestamp = r.u64();
      const zoneDirection = r.u32();
      const pixelFormat = r.u32();
      leader = { ...common, payloadType, timestamp, zoneDirection, pixelFormat, ...readAoi(r) };
      break;
    }
    case GvspPayloadType.MULTIPART: {
      if (allIn) throw new MalformedError(start, 'a multipart payload cannot be sent as an all-in packet');
      r.ensure(8, 'multipart leader');
      const timestamp = r.u64();
      const fit = Math.floor(r.remaining / PART_INFO_SIZE);
      const count = header.extendedId ? header.spare & 0xff : fit;
      if (count > fit) {
        throw new TruncatedError(r.offset, count * PART_INFO_SIZE, r.remaining, `${count} multipart part infos`);
      }
      const parts: MultipartPartInfo[] = [];
      for (let i = 0; i < count; i++) {
        const dataType = r.u16();
        const partLength = readU48(r, 'part_length');
        const format = r.u32();
        r.skip(2);
        parts.push({
          dataType,
          partLength,
          format,
          sourceId: r.u8(),
          additionalZones: r.u8(),
          zoneDirection: r.u32(),
          dataPurposeId: r.u16(),
          regionId: r.u16(),
          dataTypeSpecific: r.bytesCopy(24, 'part data-type specific'),
        });
      }
      leader = { ...common, payloadType, timestamp, parts };
      break;
    }
    case GvspPayloadType.GENDC_CONTAINER: {
      if (allIn) throw new MalformedError(start, 'a GenDC payload cannot be sent as an all-in packet');
      const timestamp = r.u64();
      const payloadSize = r.u64();
      const gendcFlags = r.u8();
      r.skip(3);
      leader = { ...common, payloadType, timestamp, payloadSize, gendcFlags, descriptorSize: r.u32() };
      break;
    }
    default:
      if (allIn) {
        throw new MalformedError(
          start + 2,
          `all-in packet with payload type 0x${payloadType.toString(16)} has no known layout`,
        );
      }
      return { ...common, payloadType, body: r.bytesCopy(r.remaining) };
  }
  if (!allIn && r.remaining > 0) leader.extra = r.bytesCopy(r.remaining);
  return leader;
}

function readH264Params(r: ByteReader): H264Params {
  return {
    profileIdc: r.u8(),
    constraintSet: r.u8(),
    levelIdc: r.u8(),
    sropInterleavingDepth: r.u16(),
    sropMaxDonDiff: r.u16(),
    sropDeintBufReq: r.u32(),
    sropInitBufTime: r.u32(),
  };
}

function leaderBodyLength(l: GvspLeader, allIn: boolean): number {
  const extra = allIn ? 0 : (l.extra?.byteLength ?? 0);
  if ('body' in l) return 4 + l.body.byteLength;
  switch (l.payloadType) {
    case GvspPayloadType.FILE:
      return 20 + new TextEncoder().encode((l as FileLeader).fileName).byteLength + 1 + extra;
    case GvspPayloadType.MULTIPART:
      return 12 + (l as MultipartLeader).parts.length * PART_INFO_SIZE + extra;
    default:
      return (LEADER_FIXED_SIZE[l.payloadType] ?? 4) + extra;
  }
}

function writeLeader(w: ByteWriter, l: GvspLeader, allIn: boolean): void {
  w.u8(l.fieldInfo, 'fieldInfo').u8(l.genericFlags, 'genericFlags');
  if (l.payloadType < 0 || l.payloadType > 0xffff || (l.payloadType & GVSP_CHUNK_APPENDED_BIT) !== 0) {
    throw new ValueOutOfRangeError('payloadType', `0x${l.payloadType.toString(16)} must not include the chunk bit`);
  }
  w.u16(l.payloadType | (l.chunksAppended ? GVSP_CHUNK_APPENDED_BIT : 0));
  if ('body' in l) {
    w.raw(l.body);
    return;
  }
  const type: number = l.payloadType;
  switch (type) {
    case GvspPayloadType.IMAGE:
    case GvspPayloadType.EXTENDED_CHUNK: {
      const x = l as ImageLeader;
      w.u64(x.timestamp, false, 'timestamp').u32(x.pixelFormat, false, 'pixelFormat');
      writeAoi(w, x);
      break;
    }
    case GvspPayloadType.RAW_DATA: {
      const x = l as RawDataLeader;
      w.u64(x.timestamp, false, 'timestamp').u64(x.payloadSize, false, 'payloadSize');
      break;
    }
    case GvspPayloadType.FILE: {
      const x = l as FileLeader;
      w.u64(x.timestamp, false, 'timestamp').u64(x.payloadSize, false, 'payloadSize');
      const name = new TextEncoder().encode(x.fileName);
      if (name.includes(0)) throw new ValueOutOfRangeError('fileName', 'must not contain NUL');
      w.raw(name).u8(0);
      break;
    }
    case GvspPayloadType.CHUNK_DATA:
      w.u64((l as ChunkDataLeader).timestamp, false, 'timestamp');
      break;
    case GvspPayloadType.JPEG:
    case GvspPayloadType.JPEG2000: {
      const x = l as JpegLeader;
      w.u64(x.timestamp, false, 'timestamp').u64(x.payloadSize, false, 'payloadSize');
      w.u64(x.timestampTickFrequency, false, 'timestampTickFrequency').u32(x.dataFormat, false, 'dataFormat');
      break;
    }
    case GvspPayloadType.H264: {
      const x = l as H264Leader;
      w.u64(x.payloadSize, false, 'payloadSize').u8(0).u8(x.packetizationMode, 'packetizationMode');
      w.u16(x.packetSize, false, 'packetSize').u8(0);
      w.u8(x.profileIdc, 'profileIdc').u8(x.constraintSet, 'constraintSet').u8(x.levelIdc, 'levelIdc');
      w.u16(x.sropInterleavingDepth, false, 'sropInterleavingDepth').u16(x.sropMaxDonDiff, false, 'sropMaxDonDiff');
      w.u32(x.sropDeintBufReq, false, 'sropDeintBufReq').u32(x.sropInitBufTime, false, 'sropInitBufTime');
      break;
    }
    case GvspPayloadType.MULTIZONE_IMAGE: {
      const x = l as MultizoneLeader;
      w.u64(x.timestamp, false, 'timestamp').u32(x.zoneDirection, false, 'zoneDirection');
      w.u32(x.pixelFormat, false, 'pixelFormat');
      writeAoi(w, x);
      break;
    }
    case GvspPayloadType.MULTIPART: {
      const x = l as MultipartLeader;
      w.u64(x.timestamp, false, 'timestamp');
      for (const p of x.parts) {
        w.u16(p.dataType, false, 'dataType');
        writeU48(w, p.partLength, 'partLength');
        w.u32(p.format, false, 'format').u16(0).u8(p.sourceId, 'sourceId').u8(p.additionalZones, 'additionalZones');
        w.u32(p.zoneDirection, false, 'zoneDirection').u16(p.dataPurposeId, false, 'dataPurposeId');
        w.u16(p.regionId, false, 'regionId');
        if (p.dataTypeSpecific.byteLength !== 24) {
          throw new ValueOutOfRangeError('dataTypeSpecific', `needs 24 bytes, got ${p.dataTypeSpecific.byteLength}`);
        }
        w.raw(p.dataTypeSpecific);
      }
      break;
    }
    case GvspPayloadType.GENDC_CONTAINER: {
      const x = l as GendcLeader;
      w.u64(x.timestamp, false, 'timestamp').u64(x.payloadSize, false, 'payloadSize');
      w.u8(x.gendcFlags, 'gendcFlags').zeros(3).u32(x.descriptorSize, false, 'descriptorSize');
      break;
    }
    default:
      throw new ValueOutOfRangeError('payloadType', `0x${type.toString(16)} needs a raw body`);
  }
  if (!allIn && l.extra) w.raw(l.extra);
}

// ---------------------------------------------------------------- trailers

function readTrailer(r: ByteReader, allIn: boolean): GvspTrailer {
  r.ensure(4, 'trailer');
  const reserved = r.u16();
  const rawType = r.u16();
  const chunksAppended = (rawType & GVSP_CHUNK_APPENDED_BIT) !== 0;
  const payloadType = rawType & ~GVSP_CHUNK_APPENDED_BIT;
  const t: GvspTrailer = { reserved, payloadType, chunksAppended };
  switch (payloadType) {
    case GvspPayloadType.IMAGE:
    case GvspPayloadType.MULTIZONE_IMAGE:
      t.sizeY = r.u32(false, 'trailer size_y');
      break;
    case GvspPayloadType.CHUNK_DATA:
      t.payloadLength = r.u32(false, 'trailer payload length');
      break;
    case GvspPayloadType.EXTENDED_CHUNK:
      t.payloadLength = r.u32(false, 'trailer payload length');
      t.sizeY = r.u32(false, 'trailer size_y');
      t.chunkLayoutId = r.u32(false, 'trailer chunk layout id');
      break;
    case GvspPayloadType.MULTIPART: {
      if (allIn) throw new MalformedError(r.offset - 2, 'a multipart payload cannot be sent as an all-in packet');
      const avail = r.remaining - (chunksAppended ? 8 : 0);
      const count = Math.max(0, Math.floor(avail / TRAILER_PART_SIZE));
      t.parts = [];
      for (let i = 0; i < count; i++) {
        t.parts.push({
          dataType: r.u16(),
          partLength: readU48(r, 'part_length'),
          typeSpecific0: r.u32(),
          typeSpecific1: r.u32(),
        });
      }
      break;
    }
    case GvspPayloadType.RAW_DATA:
    case GvspPayloadType.FILE:
    case GvspPayloadType.JPEG:
    case GvspPayloadType.JPEG2000:
    case GvspPayloadType.H264:
    case GvspPayloadType.GENDC_CONTAINER:
    case GvspPayloadType.GENDC_COMPONENT:
      break;
    default:
      if (allIn) {
        throw new MalformedError(
          r.offset - 2,
          `all-in packet with payload type 0x${payloadType.toString(16)} has no known layout`,
        );
      }
      // Unknown layout: keep everything raw, chunk info included.
      if (r.remaining > 0) t.extra = r.bytesCopy(r.remaining);
      return t;
  }
  if (chunksAppended) {
    t.chunkInfo = {
      chunkDataPayloadLength: r.u32(false, 'chunk data payload length'),
      chunkLayoutId: r.u32(false, 'chunk layout id'),
    };
  }
  if (!allIn && r.remaining > 0) t.extra = r.bytesCopy(r.remaining);
  return t;
}

const KNOWN_TRAILER_TYPES = new Set<number>([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

function trailerBodyLength(t: GvspTrailer, allIn: boolean): number {
  let n = 4;
  if (!KNOWN_TRAILER_TYPES.has(t.payloadType)) return n + (t.extra?.byteLength ?? 0);
  switch (t.payloadType) {
    case GvspPayloadType.IMAGE:
    case GvspPayloadType.MULTIZONE_IMAGE:
    case GvspPayloadType.CHUNK_DATA:
      n += 4;
      break;
    case GvspPayloadType.EXTENDED_CHUNK:
      n += 12;
      break;
    case GvspPayloadType.MULTIPART:
      n += (t.parts?.length ?? 0) * TRAILER_PART_SIZE;
      break;
  }
  if (t.chunksAppended) n += 8;
  if (!allIn) n += t.extra?.byteLength ?? 0;
  return n;
}

function writeTrailer(w: ByteWriter, t: GvspTrailer, allIn: boolean): void {
  if ((t.payloadType & GVSP_CHUNK_APPENDED_BIT) !== 0) {
    throw new ValueOutOfRangeError('payloadType', 'must not include the chunk bit; set chunksAppended');
  }
  w.u16(t.reserved, false, 'reserved').u16(
    t.payloadType | (t.chunksAppended ? GVSP_CHUNK_APPENDED_BIT : 0),
    false,
    'payloadType',
  );
  if (!KNOWN_TRAILER_TYPES.has(t.payloadType)) {
    if (t.extra) w.raw(t.extra);
    return;
  }
  switch (t.payloadType) {
    case GvspPayloadType.IMAGE:
    case GvspPayloadType.MULTIZONE_IMAGE:
      w.u32(t.sizeY ?? 0, false, 'sizeY');
      break;
    case GvspPayloadType.CHUNK_DATA:
      w.u32(t.payloadLength ?? 0, false, 'payloadLength');
      break;
    case GvspPayloadType.EXTENDED_CHUNK:
      w.u32(t.payloadLength ?? 0, false, 'payloadLength').u32(t.sizeY ?? 0, false, 'sizeY');
      w.u32(t.chunkLayoutId ?? 0, false, 'chunkLayoutId');
      break;
    case GvspPayloadType.MULTIPART:
      for (const p of t.parts ?? []) {
        w.u16(p.dataType, false, 'dataType');
        writeU48(w, p.partLength, 'partLength');
        w.u32(p.typeSpecific0, false, 'typeSpecific0').u32(p.typeSpecific1, false, 'typeSpecific1');
      }
      break;
  }
  if (t.chunksAppended) {
    const c = t.chunkInfo ?? { chunkDataPayloadLength: 0, chunkLayoutId: 0 };
    w.u32(c.chunkDataPayloadLength, false, 'chunkDataPayloadLength').u32(c.chunkLayoutId, false, 'chunkLayoutId');
  }
  if (!allIn && t.extra) w.raw(t.extra);
}

// ---------------------------------------------------------------- packets

/**
 * Decodes one GVSP datagram. Data bytes are views into `bytes` (no copy); leader/trailer fields are copied.
 * Throws {@link TruncatedError} / {@link MalformedError} on bad input.
 */
export function decodeGvspPacket(bytes: Uint8Array, options: GvspDecodeOptions = {}): GvspPacket {
  const max = options.maxPacketSize ?? MAX_UDP;
  if (bytes.byteLength > max) {
    throw new MalformedError(0, `datagram of ${bytes.byteLength} bytes exceeds the ${max}-byte limit`);
  }
  const r = new ByteReader(bytes);
  const header = readHeader(r);
  if (r.remaining === 0 && header.status !== GvspStatus.SUCCESS && header.status !== GvspStatus.PACKET_RESEND) {
    return { header, kind: 'status' };
  }
  switch (header.format) {
    case GvspPacketFormat.LEADER:
      return { header, kind: 'leader', leader: readLeader(r, header, false) };
    case GvspPacketFormat.TRAILER:
      return { header, kind: 'trailer', trailer: readTrailer(r, false) };
    case GvspPacketFormat.PAYLOAD:
      return { header, kind: 'payload', data: r.rest() };
    case GvspPacketFormat.ALL_IN: {
      const leader = readLeader(r, header, true);
      const trailer = readTrailer(r, true);
      if (trailer.payloadType !== leader.payloadType || trailer.chunksAppended !== leader.chunksAppended) {
        throw new MalformedError(r.offset, 'all-in trailer payload type differs from the leader');
      }
      return { header, kind: 'allIn', leader, trailer, data: r.rest() };
    }
    case GvspPacketFormat.H264:
      return { header, kind: 'h264', timestamp: r.u64(false, 'H.264 timestamp'), data: r.rest() };
    case GvspPacketFormat.MULTIZONE: {
      r.ensure(PAYLOAD_SUBHEADER_SIZE, 'multizone payload header');
      const at = r.offset;
      const reserved = bytes[at]!;
      const zoneInfo = bytes[at + 1]!;
      const addressOffset = gvspAddressOffset(bytes, at);
      r.skip(PAYLOAD_SUBHEADER_SIZE);
      return { header, kind: 'multizone', reserved, zoneInfo, addressOffset, data: r.rest() };
    }
    case GvspPacketFormat.MULTIPART: {
      r.ensure(PAYLOAD_SUBHEADER_SIZE, 'multipart payload header');
      const at = r.offset;
      const partId = gvspPartIdOf(bytes, at);
      const zoneInfo = bytes[at + 1]!;
      const addressOffset = gvspAddressOffset(bytes, at);
      r.skip(PAYLOAD_SUBHEADER_SIZE);
      return { header, kind: 'multipart', partId, zoneInfo, addressOffset, data: r.rest() };
    }
    default: {
      // GENDC (readHeader rejected anything else)
      r.ensure(GENDC_SUBHEADER_SIZE, 'GenDC payload header');
      const dataSize = r.u32();
      const destinationOffset = r.u64();
      return {
        header,
        kind: 'gendc',
        dataSize,
        destinationOffset,
        dataFlags: r.u8(),
        flowFlags: r.u8(),
        flowId: r.u16(),
        data: r.rest(),
      };
    }
  }
}

const FORMAT_OF_KIND: Record<GvspPacket['kind'], number | undefined> = {
  leader: GvspPacketFormat.LEADER,
  trailer: GvspPacketFormat.TRAILER,
  payload: GvspPacketFormat.PAYLOAD,
  allIn: GvspPacketFormat.ALL_IN,
  h264: GvspPacketFormat.H264,
  multizone: GvspPacketFormat.MULTIZONE,
  multipart: GvspPacketFormat.MULTIPART,
  gendc: GvspPacketFormat.GENDC,
  status: undefined,
};

/** Bytes {@link encodeGvspPacket} writes for `p`. */
export function encodedLengthGvspPacket(p: GvspPacket): number {
  const h = gvspHeaderSize(p.header.extendedId);
  switch (p.kind) {
    case 'leader':
      return h + leaderBodyLength(p.leader, false);
    case 'trailer':
      return h + trailerBodyLength(p.trailer, false);
    case 'payload':
      return h + p.data.byteLength;
    case 'allIn':
      return h + leaderBodyLength(p.leader, true) + trailerBodyLength(p.trailer, true) + p.data.byteLength;
    case 'h264':
    case 'multizone':
    case 'multipart':
      return h + 8 + p.data.byteLength;
    case 'gendc':
      return h + 16 + p.data.byteLength;
    case 'status':
      return h;
  }
}

/** Encodes `p` into `out` at `offset`; returns the bytes written. The header's format must match the kind. */
export function encodeGvspPacketInto(p: GvspPacket, out: Uint8Array, offset = 0): number {
  const len = encodedLengthGvspPacket(p);
  if (offset + len > out.byteLength) throw new BufferTooSmallError(offset + len, out.byteLength);
  const w = new ByteWriter(out.subarray(offset, offset + len));
  const expected = FORMAT_OF_KIND[p.kind];
  if (expected !== undefined && p.header.format !== expected) {
    throw new ValueOutOfRangeError(
      'header.format',
      `${p.header.format} does not match a ${p.kind} packet (${expected})`,
    );
  }
  let header = p.header;
  if (p.kind === 'leader' && p.leader.payloadType === GvspPayloadType.MULTIPART && header.extendedId) {
    header = { ...header, spare: (header.spare & 0xffff00) | ((p.leader as MultipartLeader).parts.length & 0xff) };
  }
  writeHeader(w, header);
  switch (p.kind) {
    case 'leader':
      writeLeader(w, p.leader, false);
      break;
    case 'trailer':
      writeTrailer(w, p.trailer, false);
      break;
    case 'payload':
      w.raw(p.data);
      break;
    case 'allIn':
      writeLeader(w, p.leader, true);
      writeTrailer(w, p.trailer, true);
      w.raw(p.data);
      break;
    case 'h264':
      w.u64(p.timestamp, false, 'timestamp').raw(p.data);
      break;
    case 'multizone':
      w.u8(p.reserved, 'reserved').u8(p.zoneInfo, 'zoneInfo');
      writeU48(w, p.addressOffset, 'addressOffset');
      w.raw(p.data);
      break;
    case 'multipart':
      w.u8(p.partId, 'partId').u8(p.zoneInfo, 'zoneInfo');
      writeU48(w, p.addressOffset, 'addressOffset');
      w.raw(p.data);
      break;
    case 'gendc':
      w.u32(p.dataSize, false, 'dataSize').u64(p.destinationOffset, false, 'destinationOffset');
      w.u8(p.dataFlags, 'dataFlags').u8(p.flowFlags, 'flowFlags').u16(p.flowId, false, 'flowId').raw(p.data);
      break;
    case 'status':
      break;
  }
  if (w.offset !== len) throw new MalformedError(w.offset, `internal: wrote ${w.offset} bytes, computed ${len}`);
  return len;
}

/** Encodes one GVSP packet into a new buffer. */
export function encodeGvspPacket(p: GvspPacket): Uint8Array {
  const out = new Uint8Array(encodedLengthGvspPacket(p));
  encodeGvspPacketInto(p, out, 0);
  return out;
}

/** Size/offset/padding of an image part of a multipart leader, or undefined for other part types. */
export function partImageAoi(part: MultipartPartInfo): ImageAoi | undefined {
  if (part.dataType < 1 || part.dataType > 9) return undefined;
  const v = new DataView(part.dataTypeSpecific.buffer, part.dataTypeSpecific.byteOffset, 24);
  return {
    pixelFormat: part.format,
    sizeX: v.getUint32(0),
    sizeY: v.getUint32(4),
    offsetX: v.getUint32(8),
    offsetY: v.getUint32(12),
    paddingX: v.getUint16(16),
    paddingY: v.getUint16(18),
  };
}

/** The 24 type-specific bytes of an image part info. */
export function imagePartSpecific(aoi: Omit<ImageAoi, 'pixelFormat'>): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setUint32(0, aoi.sizeX);
  v.setUint32(4, aoi.sizeY);
  v.setUint32(8, aoi.offsetX);
  v.setUint32(12, aoi.offsetY);
  v.setUint16(16, aoi.paddingX);
  v.setUint16(18, aoi.paddingY);
  return b;
}

function payloadTypeLabel(t: number): string {
  return `payload type 0x${t.toString(16).padStart(4, '0')}`;
}
