import {
  ByteReader,
  ByteWriter,
  FrameTooLargeError,
  MalformedError,
  TrailingBytesError,
  TruncatedError,
  ValueOutOfRangeError,
} from '@cam/net-utils/wire';
import {
  DEVICE_ID_SIZE,
  MAX_PACKET_SIZE,
  MAX_XML_CHUNK,
  MD5_FIELD_SIZE,
  MD5_HEX_LENGTH,
  PACKET_HEADER_SIZE,
  SDK_CMD_HEADER_SIZE,
  SdkCmd,
  type SdkCmdName,
  sdkCmdName,
} from './constants.js';

/** Little-endian everywhere. */
const LE = { littleEndian: true } as const;
const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

export interface HeartbeatAsk {
  type: 'kTcpHeartbeatAsk';
}
export interface HeartbeatAnswer {
  type: 'kTcpHeartbeatAnswer';
}
/** `[6][0x2000][u16 code]`: the device is back in the just-connected state afterwards. */
export interface ErrorAnswer {
  type: 'kErrorAnswer';
  code: number;
}
/** Transport version ask `[8][0x2001][u32 version]`. */
export interface ServiceAsk {
  type: 'kSDKServiceAsk';
  version: number;
}
/**
 * Transport version answer `[8][0x2002][u32 version]`; one vendor demo (C# `HVersionAnswer`) appends a u16 status
 * (10 bytes). Decode accepts both; `status` present encodes the 10-byte variant.
 */
export interface ServiceAnswer {
  type: 'kSDKServiceAnswer';
  version: number;
  status?: number;
}
/** One chunk of an SDK XML call: `[12+N][cmd][u32 total][u32 index][N bytes]`; index = byte offset of the chunk. */
export interface SdkCmdChunk {
  type: 'kSDKCmdAsk' | 'kSDKCmdAnswer';
  total: number;
  index: number;
  data: Uint8Array;
}
/** GPS information pushed by some devices; the payload is kept opaque. */
export interface GpsInfoAnswer {
  type: 'kGPSInfoAnswer';
  data: Uint8Array;
}
/** `[len][0x8001][md5 33][u64 size][i16 type][name\0]`. */
export interface FileStartAsk {
  type: 'kFileStartAsk';
  md5: string;
  size: number;
  fileType: number;
  name: string;
}
/** `[14][0x8002][i16 status][u64 existSize]`: the host resumes from `existSize`. */
export interface FileStartAnswer {
  type: 'kFileStartAnswer';
  status: number;
  existSize: number;
}
/** `[4+N][0x8003][N bytes]`: file content, in either direction (read-back content comes from the device). */
export interface FileContentAsk {
  type: 'kFileContentAsk';
  data: Uint8Array;
}
/** `[6][0x8004][u16 status]` (defined by the vendor; the vendor host does not wait for it). */
export interface FileContentAnswer {
  type: 'kFileContentAnswer';
  status: number;
}
export interface FileEndAsk {
  type: 'kFileEndAsk';
}
/** `[6][0x8006][u16 status]`. */
export interface FileEndAnswer {
  type: 'kFileEndAnswer';
  status: number;
}
/** `[len][0x8007][name\0]`. */
export interface ReadFileAsk {
  type: 'kReadFileAsk';
  name: string;
}
/** `[49][0x8008][i16 status][md5 33][u64 size][i16 type]`, followed by content packets and a kFileEndAsk. */
export interface ReadFileAnswer {
  type: 'kReadFileAnswer';
  status: number;
  md5: string;
  size: number;
  fileType: number;
}
/** `[len][0x80FC][u16 fileCount][u64 totalSize][sessionId\0]` (HCatNet `HFileListStartAsk`). */
export interface FileListStartAsk {
  type: 'kFileListStartAsk';
  fileCount: number;
  totalSize: number;
  sessionId: string;
}
export interface FileListStartAnswer {
  type: 'kFileListStartAnswer';
  status: number;
}
export interface FileListEndAsk {
  type: 'kFileListEndAsk';
}
export interface FileListEndAnswer {
  type: 'kFileListEndAnswer';
  status: number;
}

/** Every TCP packet of the protocol. */
export type SdkPacket =
  | HeartbeatAsk
  | HeartbeatAnswer
  | ErrorAnswer
  | ServiceAsk
  | ServiceAnswer
  | SdkCmdChunk
  | GpsInfoAnswer
  | FileStartAsk
  | FileStartAnswer
  | FileContentAsk
  | FileContentAnswer
  | FileEndAsk
  | FileEndAnswer
  | ReadFileAsk
  | ReadFileAnswer
  | FileListStartAsk
  | FileListStartAnswer
  | FileListEndAsk
  | FileListEndAnswer;
export type SdkPacketType = SdkPacket['type'];

function nulStringLength(value: string, field: string): number {
  if (value.includes('\0')) throw new ValueOutOfRangeError(field, 'must not contain NUL');
  return utf8Encoder.encode(value).byteLength + 1;
}

function checkMd5(md5: string): void {
  if (md5.length > MD5_HEX_LENGTH || !/^[0-9a-fA-F]*$/.test(md5)) {
    throw new ValueOutOfRangeError('md5', `"${md5}" is not up to ${MD5_HEX_LENGTH} hex digits`);
  }
}

function checkSize(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ValueOutOfRangeError(field, `${value} is not a non-negative safe integer`);
  }
}

/** Bytes `p` takes on the wire, header included. */
export function encodedPacketLength(p: SdkPacket): number {
  switch (p.type) {
    case 'kTcpHeartbeatAsk':
    case 'kTcpHeartbeatAnswer':
    case 'kFileEndAsk':
    case 'kFileListEndAsk':
      return 4;
    case 'kErrorAnswer':
    case 'kFileContentAnswer':
    case 'kFileEndAnswer':
    case 'kFileListStartAnswer':
    case 'kFileListEndAnswer':
      return 6;
    case 'kSDKServiceAsk':
      return 8;
    case 'kSDKServiceAnswer':
      return p.status === undefined ? 8 : 10;
    case 'kSDKCmdAsk':
    case 'kSDKCmdAnswer':
      return SDK_CMD_HEADER_SIZE + p.data.byteLength;
    case 'kGPSInfoAnswer':
    case 'kFileContentAsk':
      return PACKET_HEADER_SIZE + p.data.byteLength;
    case 'kFileStartAsk':
      return 4 + MD5_FIELD_SIZE + 8 + 2 + nulStringLength(p.name, 'name');
    case 'kFileStartAnswer':
      return 14;
    case 'kReadFileAsk':
      return 4 + nulStringLength(p.name, 'name');
    case 'kReadFileAnswer':
      return 4 + 2 + MD5_FIELD_SIZE + 8 + 2;
    case 'kFileListStartAsk':
      return 4 + 2 + 8 + nulStringLength(p.sessionId, 'sessionId');
  }
}

/** Encodes `p` into `out` at `offset`; returns the bytes written. */
export function encodePacketInto(p: SdkPacket, out: Uint8Array, offset = 0): number {
  const len = encodedPacketLength(p);
  if (len > MAX_PACKET_SIZE)
    throw new ValueOutOfRangeError(p.type, `packet of ${len} bytes exceeds ${MAX_PACKET_SIZE}`);
  const w = new ByteWriter(out, offset, LE);
  w.ensure(len);
  w.u16(len, true, 'len').u16(SdkCmd[p.type], true, 'cmd');
  switch (p.type) {
    case 'kTcpHeartbeatAsk':
    case 'kTcpHeartbeatAnswer':
    case 'kFileEndAsk':
    case 'kFileListEndAsk':
      break;
    case 'kErrorAnswer':
      w.u16(p.code, true, 'code');
      break;
    case 'kFileContentAnswer':
    case 'kFileEndAnswer':
    case 'kFileListStartAnswer':
    case 'kFileListEndAnswer':
      w.u16(p.status, true, 'status');
      break;
    case 'kSDKServiceAsk':
      w.u32(p.version, true, 'version');
      break;
    case 'kSDKServiceAnswer':
      w.u32(p.version, true, 'version');
      if (p.status !== undefined) w.u16(p.status, true, 'status');
      break;
    case 'kSDKCmdAsk':
    case 'kSDKCmdAnswer':
      if (p.index + p.data.byteLength > p.total) {
        throw new ValueOutOfRangeError('index', `chunk ${p.index}+${p.data.byteLength} runs past total ${p.total}`);
      }
      w.u32(p.total, true, 'total').u32(p.index, true, 'index').raw(p.data);
      break;
    case 'kGPSInfoAnswer':
    case 'kFileContentAsk':
      w.raw(p.data);
      break;
    case 'kFileStartAsk':
      checkMd5(p.md5);
      checkSize(p.size, 'size');
      w.fixedString(p.md5, MD5_FIELD_SIZE, { encoding: 'latin1', requireTerminator: true, field: 'md5' });
      w.u64(BigInt(p.size), true, 'size').i16(p.fileType, true, 'fileType');
      w.raw(utf8Encoder.encode(p.name)).u8(0);
      break;
    case 'kFileStartAnswer':
      checkSize(p.existSize, 'existSize');
      w.i16(p.status, true, 'status').u64(BigInt(p.existSize), true, 'existSize');
      break;
    case 'kReadFileAsk':
      w.raw(utf8Encoder.encode(p.name)).u8(0);
      break;
    case 'kReadFileAnswer':
      checkMd5(p.md5);
      checkSize(p.size, 'size');
      w.i16(p.status, true, 'status');
      w.fixedString(p.md5, MD5_FIELD_SIZE, { encoding: 'latin1', requireTerminator: true, field: 'md5' });
      w.u64(BigInt(p.size), true, 'size').i16(p.fileType, true, 'fileType');
      break;
    case 'kFileListStartAsk':
      checkSize(p.totalSize, 'totalSize');
      w.u16(p.fileCount, true, 'fileCount').u64(BigInt(p.totalSize), true, 'totalSize');
      w.raw(utf8Encoder.encode(p.sessionId)).u8(0);
      break;
  }
  return len;
}

/** Encodes one packet into a new buffer of exactly its length. */
export function encodePacket(p: SdkPacket): Uint8Array {
  const out = new Uint8Array(encodedPacketLength(p));
  encodePacketInto(p, out, 0);
  return out;
}

/** Reads the `[u16 len][u16 cmd]` header and checks it; used by the stream decoder before buffering a body. */
export function checkPacketHeader(header: Uint8Array, streamOffset = 0): { len: number; cmd: SdkCmdName } {
  if (header.byteLength < PACKET_HEADER_SIZE) {
    throw new TruncatedError(streamOffset, PACKET_HEADER_SIZE, header.byteLength, 'packet header');
  }
  const len = header[0]! | (header[1]! << 8);
  const code = header[2]! | (header[3]! << 8);
  const cmd = sdkCmdName(code);
  if (cmd === undefined || cmd === 'kSearchDeviceAsk' || cmd === 'kSearchDeviceAnswer') {
    throw new MalformedError(streamOffset + 2, `unknown SDK TCP command 0x${code.toString(16).padStart(4, '0')}`);
  }
  if (len < PACKET_HEADER_SIZE) {
    throw new MalformedError(streamOffset, `packet length ${len} is shorter than the 4-byte header`);
  }
  if (len > MAX_PACKET_SIZE) throw new FrameTooLargeError(len, MAX_PACKET_SIZE, 'SDK packet');
  return { len, cmd };
}

function readSize(r: ByteReader, what: string): number {
  const at = r.offset;
  const v = r.u64(true, what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedError(at, `${what} ${v} is beyond 2^53`);
  return Number(v);
}

function readMd5(r: ByteReader): string {
  const at = r.offset;
  const md5 = r.fixedString(MD5_FIELD_SIZE, 'latin1', 'md5');
  if (md5.length > MD5_HEX_LENGTH || !/^[0-9a-fA-F]*$/.test(md5)) {
    throw new MalformedError(at, 'md5 field is not hex digits followed by NUL');
  }
  return md5;
}

/** A NUL-terminated UTF-8 string running to the end of the packet; only NUL padding may follow the terminator. */
function readNulString(r: ByteReader, what: string): string {
  const rest = r.rest();
  const end = rest.indexOf(0);
  if (end < 0) throw new MalformedError(r.offset - rest.byteLength, `${what} is not NUL-terminated`);
  for (let i = end + 1; i < rest.byteLength; i++) {
    if (rest[i] !== 0) throw new TrailingBytesError(r.offset - rest.byteLength + i, rest.byteLength - i, what);
  }
  return utf8.decode(rest.subarray(0, end));
}

/**
 * Decodes one whole packet (header included). Throws a typed error on a wrong length, an unknown command or a
 * malformed body. Byte fields (`data`) are views into `frame`; copy them to keep them past the frame's life.
 */
export function decodePacket(frame: Uint8Array): SdkPacket {
  const { len, cmd } = checkPacketHeader(frame);
  if (len !== frame.byteLength) {
    if (len > frame.byteLength) throw new TruncatedError(0, len, frame.byteLength, `${cmd} packet`);
    throw new TrailingBytesError(len, frame.byteLength - len, `${cmd} packet`);
  }
  const r = new ByteReader(frame, PACKET_HEADER_SIZE, LE);
  let p: SdkPacket;
  switch (cmd) {
    case 'kTcpHeartbeatAsk':
    case 'kTcpHeartbeatAnswer':
    case 'kFileEndAsk':
    case 'kFileListEndAsk':
      p = { type: cmd };
      break;
    case 'kErrorAnswer':
      p = { type: cmd, code: r.u16(true, 'code') };
      break;
    case 'kFileContentAnswer':
    case 'kFileEndAnswer':
    case 'kFileListStartAnswer':
    case 'kFileListEndAnswer':
      p = { type: cmd, status: r.u16(true, 'status') };
      break;
    case 'kSDKServiceAsk':
      p = { type: cmd, version: r.u32(true, 'version') };
      break;
    case 'kSDKServiceAnswer': {
      const version = r.u32(true, 'version');
      p = r.remaining >= 2 ? { type: cmd, version, status: r.u16(true, 'status') } : { type: cmd, version };
      break;
    }
    case 'kSDKCmdAsk':
    case 'kSDKCmdAnswer': {
      const total = r.u32(true, 'total');
      const indexAt = r.offset;
      const index = r.u32(true, 'index');
      const data = r.rest();
      if (data.byteLength > MAX_XML_CHUNK) throw new FrameTooLargeError(data.byteLength, MAX_XML_CHUNK, 'XML chunk');
      if (index + data.byteLength > total) {
        throw new MalformedError(
          indexAt,
          `XML chunk at index ${index} of ${data.byteLength} bytes runs past total ${total}`,
        );
      }
      p = { type: cmd, total, index, data };
      break;
    }
    case 'kGPSInfoAnswer':
    case 'kFileContentAsk':
      p = { type: cmd, data: r.rest() };
      break;
    case 'kFileStartAsk': {
      const md5 = readMd5(r);
      const size = readSize(r, 'size');
      const fileType = r.i16(true, 'fileType');
      p = { type: cmd, md5, size, fileType, name: readNulString(r, 'file name') };
      break;
    }
    case 'kFileStartAnswer':
      p = { type: cmd, status: r.i16(true, 'status'), existSize: readSize(r, 'existSize') };
      break;
    case 'kReadFileAsk':
      p = { type: cmd, name: readNulString(r, 'file name') };
      break;
    case 'kReadFileAnswer': {
      const status = r.i16(true, 'status');
      const md5 = readMd5(r);
      const size = readSize(r, 'size');
      p = { type: cmd, status, md5, size, fileType: r.i16(true, 'fileType') };
      break;
    }
    case 'kFileListStartAsk': {
      const fileCount = r.u16(true, 'fileCount');
      const totalSize = readSize(r, 'totalSize');
      p = { type: cmd, fileCount, totalSize, sessionId: readNulString(r, 'session id') };
      break;
    }
    default:
      throw new MalformedError(2, `${cmd} is not a TCP packet`);
  }
  r.expectEnd(`${cmd} packet`);
  return p;
}

/** UDP search ask `[u32 version][u16 0x1001]`. */
export interface SearchDeviceAsk {
  type: 'kSearchDeviceAsk';
  version: number;
}
/** UDP search answer `[u32 version][u16 0x1002][15-byte device id, NUL-padded][data]`. */
export interface SearchDeviceAnswer {
  type: 'kSearchDeviceAnswer';
  version: number;
  deviceId: string;
  data: Uint8Array;
}
export type SearchDatagram = SearchDeviceAsk | SearchDeviceAnswer;

/** Largest search datagram accepted (id plus a generous data block). */
export const MAX_SEARCH_DATAGRAM = 1472;

export function encodeSearchDatagram(d: SearchDatagram): Uint8Array {
  const len = d.type === 'kSearchDeviceAsk' ? 6 : 6 + DEVICE_ID_SIZE + d.data.byteLength;
  if (len > MAX_SEARCH_DATAGRAM) throw new ValueOutOfRangeError('data', `search datagram of ${len} bytes is too large`);
  const w = new ByteWriter(len, 0, LE);
  w.u32(d.version, true, 'version').u16(SdkCmd[d.type], true, 'cmd');
  if (d.type === 'kSearchDeviceAnswer') {
    w.fixedString(d.deviceId, DEVICE_ID_SIZE, { encoding: 'latin1', field: 'deviceId' });
    w.raw(d.data);
  }
  return w.finish();
}

export function decodeSearchDatagram(bytes: Uint8Array): SearchDatagram {
  if (bytes.byteLength > MAX_SEARCH_DATAGRAM) {
    throw new FrameTooLargeError(bytes.byteLength, MAX_SEARCH_DATAGRAM, 'search datagram');
  }
  const r = new ByteReader(bytes, 0, LE);
  const version = r.u32(true, 'version');
  const code = r.u16(true, 'cmd');
  if (code === SdkCmd.kSearchDeviceAsk) {
    r.expectEnd('kSearchDeviceAsk');
    return { type: 'kSearchDeviceAsk', version };
  }
  if (code === SdkCmd.kSearchDeviceAnswer) {
    const deviceId = r.fixedString(DEVICE_ID_SIZE, 'latin1', 'device id');
    return { type: 'kSearchDeviceAnswer', version, deviceId, data: r.rest() };
  }
  throw new MalformedError(4, `0x${code.toString(16).padStart(4, '0')} is not a search command`);
}
