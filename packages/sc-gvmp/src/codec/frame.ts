import {
  ByteReader,
  ByteWriter,
  FrameTooLargeError,
  TrailingBytesError,
  ValueOutOfRangeError,
} from '@cam/net-utils/wire';
import {
  DEFAULT_MAX_PAYLOAD_LENGTH,
  FrameFlag,
  isPayloadKind,
  MAX_PAYLOAD_LENGTH_LIMIT,
  PayloadKind,
  type PayloadKindCode,
  type PayloadKindName,
  SC_GVMP_HEADER_SIZE,
  SC_GVMP_MAGIC,
  SC_GVMP_VERSION,
} from './constants.js';
import { BadMagicError, UnknownPayloadKindError, UnsupportedVersionError } from './errors.js';

/** The fixed 12-byte header of one frame (magic and version are implied: always the supported ones). */
export interface FrameHeader {
  /** The whole Flags byte (kind bits, key-frame bit, reserved bits). */
  flags: number;
  /** Frame sequence number, u32, incremented per captured frame, wrapping to 0. */
  seq: number;
  /** Bytes of payload that follow the header. */
  payloadLength: number;
}

/** What an encoder needs for one frame. */
export interface FrameInit {
  seq: number;
  kind: PayloadKindCode | PayloadKindName;
  /** Default: true for JPEG/RAW/YUV (always self-contained), false for H.264/H.265. */
  keyFrame?: boolean;
  payload: Uint8Array;
}

/** One decoded frame. `payload` is a view into the received bytes (no copy). */
export interface ScGvmpFrame {
  seq: number;
  /** The Flags byte as received (reserved bits included). */
  flags: number;
  kind: PayloadKindCode;
  keyFrame: boolean;
  payload: Uint8Array;
}

/** Limits of a decoder. */
export interface FrameDecodeOptions {
  /** Largest PayloadLen accepted; default {@link DEFAULT_MAX_PAYLOAD_LENGTH}. */
  maxPayloadLength?: number;
}

/** The kind code for a name or code. */
export function payloadKindCode(kind: PayloadKindCode | PayloadKindName): PayloadKindCode {
  if (typeof kind === 'number') {
    if (!isPayloadKind(kind)) throw new ValueOutOfRangeError('kind', `${kind} is not a payload kind code`);
    return kind;
  }
  const code = PayloadKind[kind];
  if (code === undefined) throw new ValueOutOfRangeError('kind', `${String(kind)} is not a payload kind`);
  return code;
}

/** Builds a Flags byte from a kind and the key-frame bit (reserved bits 0). */
export function frameFlags(kind: PayloadKindCode | PayloadKindName, keyFrame?: boolean): number {
  const code = payloadKindCode(kind);
  const key = keyFrame ?? (code !== PayloadKind.H264 && code !== PayloadKind.H265);
  return code | (key ? FrameFlag.keyFrame : 0);
}

/** Checks a configured maximum payload length and returns it (default when undefined). */
export function checkMaxPayloadLength(max: number | undefined): number {
  const v = max ?? DEFAULT_MAX_PAYLOAD_LENGTH;
  if (!Number.isSafeInteger(v) || v < 0 || v > MAX_PAYLOAD_LENGTH_LIMIT) {
    throw new ValueOutOfRangeError('maxPayloadLength', `${v} is not in 0..${MAX_PAYLOAD_LENGTH_LIMIT}`);
  }
  return v;
}

/**
 * Checks magic, version and kind of a complete header (`header[0..12)`), reporting `streamOffset` as the position
 * of the frame. Throws {@link BadMagicError}, {@link UnsupportedVersionError} or {@link UnknownPayloadKindError}.
 * This is the `validateHeader` of the streaming decoder, so a bad frame is refused before its body is buffered.
 */
export function validateFrameHeader(header: Uint8Array, streamOffset = 0): void {
  const magic = (header[0]! << 8) | header[1]!;
  if (magic !== SC_GVMP_MAGIC) throw new BadMagicError(streamOffset, magic);
  const version = header[2]!;
  if (version !== SC_GVMP_VERSION) throw new UnsupportedVersionError(streamOffset + 2, version);
  const kind = header[3]! & FrameFlag.kindMask;
  if (!isPayloadKind(kind)) throw new UnknownPayloadKindError(streamOffset + 3, kind);
}

/** Writes the 12-byte header at `offset` of `out`; returns the bytes written (12). */
export function encodeFrameHeaderInto(header: FrameHeader, out: Uint8Array, offset = 0): number {
  const w = new ByteWriter(out, offset);
  w.u16(SC_GVMP_MAGIC, false, 'magic');
  w.u8(SC_GVMP_VERSION, 'version');
  w.u8(header.flags, 'flags');
  if (!isPayloadKind(header.flags & FrameFlag.kindMask)) {
    throw new ValueOutOfRangeError('flags', `kind bits ${header.flags & FrameFlag.kindMask} name no payload kind`);
  }
  w.u32(header.seq, false, 'seq');
  w.u32(header.payloadLength, false, 'payloadLength');
  return SC_GVMP_HEADER_SIZE;
}

/** The 12-byte header as a new buffer. */
export function encodeFrameHeader(header: FrameHeader): Uint8Array {
  const out = new Uint8Array(SC_GVMP_HEADER_SIZE);
  encodeFrameHeaderInto(header, out, 0);
  return out;
}

/** Header plus payload length of a frame. */
export function encodedLengthFrame(frame: Pick<FrameInit, 'payload'>): number {
  return SC_GVMP_HEADER_SIZE + frame.payload.byteLength;
}

/** Writes a whole frame at `offset` of `out`; returns the bytes written. */
export function encodeFrameInto(frame: FrameInit, out: Uint8Array, offset = 0): number {
  const total = encodedLengthFrame(frame);
  new ByteWriter(out, offset).ensure(total);
  encodeFrameHeaderInto(
    { flags: frameFlags(frame.kind, frame.keyFrame), seq: frame.seq, payloadLength: frame.payload.byteLength },
    out,
    offset,
  );
  out.set(frame.payload, offset + SC_GVMP_HEADER_SIZE);
  return total;
}

/** A whole frame as a new buffer (header + a copy of the payload). Senders should write header and payload apart. */
export function encodeFrame(frame: FrameInit): Uint8Array {
  const out = new Uint8Array(encodedLengthFrame(frame));
  encodeFrameInto(frame, out, 0);
  return out;
}

/** Reads and validates the header at `offset`. */
export function decodeFrameHeader(bytes: Uint8Array, offset = 0): FrameHeader {
  const r = new ByteReader(bytes, offset);
  r.ensure(SC_GVMP_HEADER_SIZE, 'SC_GVMP frame header');
  validateFrameHeader(bytes.subarray(offset, offset + SC_GVMP_HEADER_SIZE), offset);
  r.skip(3);
  const flags = r.u8('flags');
  const seq = r.u32(false, 'seq');
  const payloadLength = r.u32(false, 'payloadLength');
  return { flags, seq, payloadLength };
}

/** The frame view for a validated header and its payload (no copy). */
export function frameFromParts(header: FrameHeader, payload: Uint8Array): ScGvmpFrame {
  return {
    seq: header.seq,
    flags: header.flags,
    kind: (header.flags & FrameFlag.kindMask) as PayloadKindCode,
    keyFrame: (header.flags & FrameFlag.keyFrame) !== 0,
    payload,
  };
}

/**
 * Decodes exactly one frame (no bytes before or after it). The payload is a view of `bytes`. Throws a typed error
 * for a bad header, a PayloadLen above the maximum ({@link FrameTooLargeError}), too few bytes or trailing bytes.
 */
export function decodeFrame(bytes: Uint8Array, options: FrameDecodeOptions = {}): ScGvmpFrame {
  const max = checkMaxPayloadLength(options.maxPayloadLength);
  const header = decodeFrameHeader(bytes, 0);
  if (header.payloadLength > max) throw new FrameTooLargeError(header.payloadLength, max, 'SC_GVMP payload');
  const r = new ByteReader(bytes, SC_GVMP_HEADER_SIZE);
  const payload = r.bytesView(header.payloadLength, 'SC_GVMP payload');
  if (r.remaining > 0) throw new TrailingBytesError(r.offset, r.remaining, 'SC_GVMP frame');
  return frameFromParts(header, payload);
}
