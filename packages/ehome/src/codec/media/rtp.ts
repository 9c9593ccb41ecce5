/**
 * Media codec: RTP packets (RFC 3550) as EHome sends MPEG-PS in them, and sequence tracking. Pure: no I/O.
 */
import { BufferTooSmallError, MalformedError, TruncatedError, ValueOutOfRangeError } from '@cam/net-utils/wire';

/** An RTP packet (RFC 3550). `payload` is a view into the input when decoded. */
export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: readonly number[];
  /** Header extension (profile and data), when the X bit is set. */
  extension?: { profile: number; data: Uint8Array };
  /** Padding bytes announced by the P bit (the payload excludes them). */
  paddingLength: number;
  payload: Uint8Array;
}

export const RTP_VERSION = 2;
/** The dynamic payload type EHome devices use for MPEG-PS. */
export const RTP_PAYLOAD_TYPE_PS = 96;
/** 90 kHz, the RTP and MPEG-PS clock of video. */
export const RTP_VIDEO_CLOCK_RATE = 90_000;

const NO_CSRCS: readonly number[] = Object.freeze([]);

/** Decodes one RTP packet. Throws {@link MalformedError} / {@link TruncatedError} on anything but RTP version 2. */
export function decodeRtp(bytes: Uint8Array): RtpPacket {
  if (bytes.byteLength < 12) throw new TruncatedError(0, 12, bytes.byteLength, 'RTP header');
  const b0 = bytes[0]!;
  const version = b0 >>> 6;
  if (version !== RTP_VERSION) throw new MalformedError(0, `RTP version ${version}, expected 2`);
  const hasPadding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  const b1 = bytes[1]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 12;
  let csrcs = NO_CSRCS;
  if (csrcCount > 0) {
    if (bytes.byteLength < offset + csrcCount * 4) {
      throw new TruncatedError(offset, csrcCount * 4, bytes.byteLength - offset, 'RTP CSRC list');
    }
    const list: number[] = [];
    for (let i = 0; i < csrcCount; i++) list.push(view.getUint32(offset + i * 4));
    csrcs = list;
    offset += csrcCount * 4;
  }
  let extension: RtpPacket['extension'];
  if (hasExtension) {
    if (bytes.byteLength < offset + 4)
      throw new TruncatedError(offset, 4, bytes.byteLength - offset, 'RTP extension header');
    const profile = view.getUint16(offset);
    const words = view.getUint16(offset + 2);
    offset += 4;
    if (bytes.byteLength < offset + words * 4) {
      throw new TruncatedError(offset, words * 4, bytes.byteLength - offset, 'RTP extension');
    }
    extension = { profile, data: bytes.subarray(offset, offset + words * 4) };
    offset += words * 4;
  }
  let end = bytes.byteLength;
  let paddingLength = 0;
  if (hasPadding) {
    paddingLength = bytes[end - 1]!;
    if (paddingLength === 0 || end - paddingLength < offset) {
      throw new MalformedError(end - 1, `RTP padding length ${paddingLength} does not fit the packet`);
    }
    end -= paddingLength;
  }
  const packet: RtpPacket = {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    csrcs,
    paddingLength,
    payload: bytes.subarray(offset, end),
  };
  if (extension) packet.extension = extension;
  return packet;
}

/** Bytes {@link encodeRtpInto} writes for `packet`. */
export function encodedLengthRtp(packet: RtpPacketInit): number {
  const ext = packet.extension ? 4 + packet.extension.data.byteLength : 0;
  return 12 + (packet.csrcs?.length ?? 0) * 4 + ext + packet.payload.byteLength + (packet.paddingLength ?? 0);
}

/** What {@link encodeRtp} needs; CSRCs, extension and padding are optional. */
export interface RtpPacketInit {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs?: readonly number[];
  extension?: { profile: number; data: Uint8Array };
  paddingLength?: number;
  payload: Uint8Array;
}

/** Encodes an RTP packet into `out` at `offset`; returns the bytes written. */
export function encodeRtpInto(packet: RtpPacketInit, out: Uint8Array, offset = 0): number {
  const length = encodedLengthRtp(packet);
  if (out.byteLength - offset < length) throw new BufferTooSmallError(length, out.byteLength - offset);
  const csrcs = packet.csrcs ?? NO_CSRCS;
  if (csrcs.length > 15) throw new ValueOutOfRangeError('csrcs', 'at most 15 CSRCs');
  if (!Number.isInteger(packet.payloadType) || packet.payloadType < 0 || packet.payloadType > 127) {
    throw new ValueOutOfRangeError('payloadType', `${packet.payloadType} not in 0..127`);
  }
  const padding = packet.paddingLength ?? 0;
  if (padding < 0 || padding > 255) throw new ValueOutOfRangeError('paddingLength', `${padding} not in 0..255`);
  if (packet.extension && packet.extension.data.byteLength % 4 !== 0) {
    throw new ValueOutOfRangeError('extension', 'data must be a multiple of 4 bytes');
  }
  const view = new DataView(out.buffer, out.byteOffset + offset, length);
  view.setUint8(0, (RTP_VERSION << 6) | (padding > 0 ? 0x20 : 0) | (packet.extension ? 0x10 : 0) | csrcs.length);
  view.setUint8(1, (packet.marker ? 0x80 : 0) | packet.payloadType);
  view.setUint16(2, packet.sequenceNumber & 0xffff);
  view.setUint32(4, packet.timestamp >>> 0);
  view.setUint32(8, packet.ssrc >>> 0);
  let p = 12;
  for (const c of csrcs) {
    view.setUint32(p, c >>> 0);
    p += 4;
  }
  if (packet.extension) {
    view.setUint16(p, packet.extension.profile);
    view.setUint16(p + 2, packet.extension.data.byteLength / 4);
    out.set(packet.extension.data, offset + p + 4);
    p += 4 + packet.extension.data.byteLength;
  }
  out.set(packet.payload, offset + p);
  p += packet.payload.byteLength;
  if (padding > 0) {
    out.fill(0, offset + p, offset + p + padding - 1);
    out[offset + p + padding - 1] = padding;
    p += padding;
  }
  return p;
}

/** Encodes an RTP packet into a new buffer. */
export function encodeRtp(packet: RtpPacketInit): Uint8Array {
  const out = new Uint8Array(encodedLengthRtp(packet));
  encodeRtpInto(packet, out, 0);
  return out;
}

/**
 * Follows RTP sequence numbers (16-bit, wrapping) and reports gaps; a packet older than the last one is counted as
 * late and reported as such (RTP over TCP should never reorder, so this is diagnostic).
 */
export class RtpSequenceTracker {
  private last = -1;
  /** Packets seen. */
  received = 0;
  /** Packets missing between those seen. */
  lost = 0;
  /** Packets older than the newest one seen (duplicates or reordered). */
  late = 0;

  /** Records a sequence number; returns how many packets were skipped before it (0 when in order). */
  track(sequenceNumber: number): number {
    this.received++;
    if (this.last < 0) {
      this.last = sequenceNumber;
      return 0;
    }
    const delta = (sequenceNumber - this.last) & 0xffff;
    if (delta === 0 || delta >= 0x8000) {
      this.late++;
      return 0;
    }
    this.last = sequenceNumber;
    const gap = delta - 1;
    this.lost += gap;
    return gap;
  }

  reset(): void {
    this.last = -1;
    this.received = 0;
    this.lost = 0;
    this.late = 0;
  }
}
