/**
 * SC_GVMP wire constants. The vendor note fixes the field list of the frame header and the register names; the
 * numbers below are this package's documented decisions (see README "Protocol decisions").
 */

import { GvcpStatus } from '@cam/gvcp/codec';

/** Frame sync word: ASCII "SC" (0x53 0x43), big-endian, readable in a hex dump. */
export const SC_GVMP_MAGIC = 0x5343;

/** The only header version this package speaks; any other value is refused (the layout may differ). */
export const SC_GVMP_VERSION = 1;

/** Magic(2) Ver(1) Flags(1) Seq(4) PayloadLen(4). */
export const SC_GVMP_HEADER_SIZE = 12;

/** Offsets of the header fields (all multi-byte fields big-endian, like GVCP/GVSP and MCDA). */
export const HeaderOffset = {
  magic: 0,
  version: 2,
  flags: 3,
  seq: 4,
  payloadLength: 8,
} as const;

/** Largest PayloadLen a receiver accepts by default: 64 MiB (an 8K 16-bit RAW frame is ~63 MiB). */
export const DEFAULT_MAX_PAYLOAD_LENGTH = 64 * 1024 * 1024;

/** Hard ceiling of any configured maximum: PayloadLen is a u32, and the header must still fit a JS array buffer. */
export const MAX_PAYLOAD_LENGTH_LIMIT = 0xffffffff - SC_GVMP_HEADER_SIZE;

/**
 * Payload kinds, carried in the low four bits of Flags (`FrameFlag.kindMask`). 0 is deliberately unused so that a
 * zeroed Flags byte is never mistaken for a JPEG frame.
 */
export const PayloadKind = {
  JPEG: 1,
  H264: 2,
  H265: 3,
  RAW: 4,
  YUV: 5,
} as const;
export type PayloadKindName = keyof typeof PayloadKind;
export type PayloadKindCode = (typeof PayloadKind)[PayloadKindName];

/** Bits of the Flags byte. */
export const FrameFlag = {
  /** Bits 0..3: the payload kind code. */
  kindMask: 0x0f,
  /** Bit 4: the payload decodes on its own (JPEG/RAW/YUV always; H.264/H.265 IDR/IRAP frames). */
  keyFrame: 0x10,
  /** Bits 5..7: reserved; sent as 0, ignored on receipt (kept in `flags`). */
  reservedMask: 0xe0,
} as const;

/** STREAM_STATE values, exactly as the note numbers them. */
export const StreamState = {
  Idle: 0,
  Connecting: 1,
  Streaming: 2,
  Error: 3,
} as const;
export type StreamStateName = keyof typeof StreamState;
export type StreamStateCode = (typeof StreamState)[StreamStateName];

/** ERR_CODE values (u16). 0 means "no error recorded since the last accepted STREAM_START=1". */
export const ErrorCode = {
  ERR_NONE: 0x0000,
  ERR_PARAM_INCOMPLETE: 0x0001,
  ERR_CONNECT_FAIL: 0x0002,
  ERR_CONNECT_TIMEOUT: 0x0003,
  ERR_STREAM_BUSY: 0x0004,
  ERR_TCP_RESET: 0x0005,
  ERR_NO_SESSION: 0x0006,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

/** The GVCP status a refused STREAM_START write is acknowledged with, per ERR_CODE. */
export const ErrorCodeGvcpStatus: Readonly<Partial<Record<ErrorCodeValue, GvcpStatus>>> = {
  [ErrorCode.ERR_PARAM_INCOMPLETE]: GvcpStatus.WRONG_CONFIG,
  [ErrorCode.ERR_STREAM_BUSY]: GvcpStatus.BUSY,
  [ErrorCode.ERR_NO_SESSION]: GvcpStatus.ACCESS_DENIED,
};

const kindNames = new Map<number, PayloadKindName>(
  Object.entries(PayloadKind).map(([k, v]) => [v, k as PayloadKindName]),
);
const stateNames = new Map<number, StreamStateName>(
  Object.entries(StreamState).map(([k, v]) => [v, k as StreamStateName]),
);
const errorNames = new Map<number, ErrorCodeName>(Object.entries(ErrorCode).map(([k, v]) => [v, k as ErrorCodeName]));

/** `1` -> `'JPEG'`; undefined for a code no kind uses. */
export function payloadKindName(code: number): PayloadKindName | undefined {
  return kindNames.get(code);
}

/** True when `code` is one of {@link PayloadKind}. */
export function isPayloadKind(code: number): code is PayloadKindCode {
  return kindNames.has(code);
}

/** `2` -> `'Streaming'`; undefined outside 0..3. */
export function streamStateName(code: number): StreamStateName | undefined {
  return stateNames.get(code);
}

/** True when `code` is one of {@link StreamState}. */
export function isStreamState(code: number): code is StreamStateCode {
  return stateNames.has(code);
}

/** `5` -> `'ERR_TCP_RESET'`; undefined for an unknown code. */
export function errorCodeName(code: number): ErrorCodeName | undefined {
  return errorNames.get(code);
}
