import { FrameTooLargeError, MalformedError, TruncatedError, ValueOutOfRangeError } from '@cam/net-utils';
import { BitWriter, crc32Mpeg2 } from './bits.js';
import { isKeyframe } from './h26x.js';

/** MPEG-2 systems stream types that EHome devices announce in the program stream map. */
export const PsStreamType = {
  MPEG4_VIDEO: 0x10,
  H264: 0x1b,
  H265: 0x24,
  AAC: 0x0f,
  /** Hikvision's G.711 A-law. */
  G711A: 0x90,
  G711U: 0x91,
  G722: 0x92,
  G7231: 0x93,
  G729: 0x99,
  SVAC_VIDEO: 0x80,
} as const;
export type PsStreamType = (typeof PsStreamType)[keyof typeof PsStreamType];

/** Video codecs of elementary streams the demuxer recognises. */
export type VideoCodec = 'h264' | 'h265' | 'mpeg4' | 'unknown';

/** One access unit (a video frame in Annex B form, or an audio frame) taken out of the program stream. */
export interface AccessUnit {
  kind: 'video' | 'audio';
  /** PES stream id (0xE0.. video, 0xC0.. audio). */
  streamId: number;
  /** Stream type from the PSM, or undefined before a PSM was seen. */
  streamType: number | undefined;
  codec: VideoCodec | 'audio';
  /** 33-bit presentation time stamp in 90 kHz units, when the PES carried one. */
  pts: number | undefined;
  dts: number | undefined;
  /** True for IDR (H.264) / IRAP (H.265) access units. */
  keyframe: boolean;
  data: Uint8Array;
}

/** Limits of a {@link PsDemuxer}. */
export interface PsDemuxerOptions {
  /** Largest access unit assembled; a larger one throws {@link FrameTooLargeError}. Default 8 MiB. */
  maxAccessUnitSize?: number;
}

const START_PACK = 0xba;
const START_SYSTEM = 0xbb;
const START_PSM = 0xbc;
const START_END = 0xb9;
const MAX_UNIT = 6 + 0xffff;

function codecOf(streamType: number | undefined): VideoCodec {
  if (streamType === PsStreamType.H264) return 'h264';
  if (streamType === PsStreamType.H265) return 'h265';
  if (streamType === PsStreamType.MPEG4_VIDEO) return 'mpeg4';
  return 'unknown';
}

function readTimestamp(b: Uint8Array, p: number): number {
  // '001x' PTS[32..30] marker PTS[29..15] marker PTS[14..0] marker
  return (
    ((b[p]! >>> 1) & 0x07) * 0x40000000 +
    ((b[p + 1]! << 22) | ((b[p + 2]! >>> 1) << 15) | (b[p + 3]! << 7) | (b[p + 4]! >>> 1))
  );
}

/**
 * Streaming MPEG program-stream demuxer: feed it bytes split anywhere (RTP payloads), get access units.
 *
 * Frame boundaries: a video PES carrying a PTS that differs from the pending access unit's starts a new one;
 * {@link flush} ends the pending one (call it on the RTP marker bit so a frame is not held until the next one).
 * Bytes are buffered only up to one PS unit (at most 65,541 bytes) plus the pending access unit, which is capped.
 */
export class PsDemuxer {
  private readonly maxAu: number;
  private buf = new Uint8Array(4096);
  private head = 0;
  private tail = 0;
  private offset = 0; // stream offset of the next unparsed byte, for error messages
  private readonly streamTypes = new Map<number, number>();
  private au: Uint8Array | null = null;
  private auLength = 0;
  private auStreamId = 0;
  private auPts: number | undefined;
  private auDts: number | undefined;
  private auSizeHint = 64 * 1024;
  private readonly spare: Uint8Array[] = [];
  /** PS packs seen. */
  packs = 0;
  /** PES packets of other streams skipped (private, padding). */
  skippedPes = 0;

  constructor(options: PsDemuxerOptions = {}) {
    this.maxAu = options.maxAccessUnitSize ?? 8 * 1024 * 1024;
  }

  /** Stream types announced by the PSM, by stream id. */
  get programStreamMap(): ReadonlyMap<number, number> {
    return this.streamTypes;
  }

  /** Bytes held for an incomplete PS unit. */
  get bufferedBytes(): number {
    return this.tail - this.head;
  }

  /** Feeds PS bytes; returns the access units completed. */
  push(bytes: Uint8Array, out: AccessUnit[] = []): AccessUnit[] {
    // Units that lie whole inside `bytes` are parsed in place (their payload is copied once, into the access
    // unit); only a unit that straddles chunks is staged in `buf`.
    let pos = this.tail > this.head ? this.completePending(bytes, out) : 0;
    if (pos < bytes.length && this.tail === this.head) {
      pos = this.parseUnits(bytes, pos, bytes.length, out);
    }
    if (pos < bytes.length) this.stage(bytes.subarray(pos));
    return out;
  }

  /**
   * Gives back the data of an access unit the caller no longer reads, to be reused for a later one (at most a few
   * buffers are kept). Only for callers that are done with `data`: it will be overwritten.
   */
  recycle(data: Uint8Array): void {
    if (this.spare.length < 4 && data.buffer.byteLength >= 4096 && data.buffer instanceof ArrayBuffer) {
      this.spare.push(new Uint8Array(data.buffer));
    }
  }

  /** Ends the pending video access unit (if any) and returns it. */
  flush(out: AccessUnit[] = []): AccessUnit[] {
    if (this.au && this.auLength > 0) out.push(this.finishAu());
    return out;
  }

  /** End of stream: returns the pending access unit; throws {@link TruncatedError} if a PS unit is incomplete. */
  end(out: AccessUnit[] = []): AccessUnit[] {
    if (this.tail > this.head) {
      throw new TruncatedError(
        this.offset,
        this.tail - this.head + 1,
        this.tail - this.head,
        'PS unit at end of stream',
      );
    }
    return this.flush(out);
  }

  private stage(bytes: Uint8Array): void {
    const need = this.tail - this.head + bytes.byteLength;
    if (this.tail + bytes.byteLength > this.buf.length) {
      if (need <= this.buf.length) {
        this.buf.copyWithin(0, this.head, this.tail);
      } else {
        const next = new Uint8Array(Math.max(need, this.buf.length * 2));
        next.set(this.buf.subarray(this.head, this.tail));
        this.buf = next;
      }
      this.tail -= this.head;
      this.head = 0;
    }
    this.buf.set(bytes, this.tail);
    this.tail += bytes.byteLength;
  }

  /** Moves just enough of `bytes` into the staged unit to complete it, parses it; returns bytes taken. */
  private completePending(bytes: Uint8Array, out: AccessUnit[]): number {
    let pos = 0;
    while (this.tail > this.head && pos < bytes.length) {
      const have = this.tail - this.head;
      const len = this.unitLength(this.buf, this.head, have);
      // Unknown length yet: take up to 16 bytes (more than any header needs); else exactly the rest of the unit.
      const take = Math.min(len < 0 ? 16 - have : len - have, bytes.length - pos);
      this.stage(bytes.subarray(pos, pos + take));
      pos += take;
      this.head = this.parseUnits(this.buf, this.head, this.tail, out);
      if (this.head === this.tail) {
        this.head = 0;
        this.tail = 0;
        if (this.buf.length > 4 * MAX_UNIT) this.buf = new Uint8Array(4096);
      }
    }
    return pos;
  }

  /**
   * Total length of the unit starting at `b[s]`, or -1 when `avail` bytes are not enough to know it. Throws on
   * anything that is not a PS unit.
   */
  private unitLength(b: Uint8Array, s: number, avail: number): number {
    if (avail < 4) return -1;
    if (b[s] !== 0 || b[s + 1] !== 0 || b[s + 2] !== 1) {
      throw new MalformedError(this.offset, 'expected an MPEG-PS start code 00 00 01');
    }
    const id = b[s + 3]!;
    if (id === START_END) return 4;
    if (id === START_PACK) {
      if (avail < 5) return -1;
      const mpeg2 = (b[s + 4]! & 0xc0) === 0x40;
      if (!mpeg2) {
        if ((b[s + 4]! & 0xf0) !== 0x20)
          throw new MalformedError(this.offset + 4, 'pack header is neither MPEG-1 nor MPEG-2');
        return 12;
      }
      return avail < 14 ? -1 : 14 + (b[s + 13]! & 0x07);
    }
    if (id < 0xb9) throw new MalformedError(this.offset + 3, `0x${id.toString(16)} is not a PS stream id`);
    return avail < 6 ? -1 : 6 + ((b[s + 4]! << 8) | b[s + 5]!);
  }

  /** Parses the complete units of `b[s..end)`; returns where the first incomplete one starts. */
  private parseUnits(b: Uint8Array, s: number, end: number, out: AccessUnit[]): number {
    const base = this.offset - s; // stream offset of b[0], for error messages
    while (end - s >= 4) {
      this.offset = base + s;
      const len = this.unitLength(b, s, end - s);
      if (len < 0 || end - s < len) break;
      const id = b[s + 3]!;
      if (id === START_PACK) this.packs++;
      else if (id === START_PSM) this.parsePsm(b.subarray(s, s + len));
      else if (id === START_END || id === START_SYSTEM) {
        /* end code; system header: rate bounds only, nothing the demuxer needs */
      } else if ((id & 0xf0) === 0xe0 || (id & 0xe0) === 0xc0) this.parsePes(b.subarray(s, s + len), id, out);
      else this.skippedPes++;
      s += len;
    }
    this.offset = base + s;
    return s;
  }

  private parsePsm(unit: Uint8Array): void {
    if (unit.length < 16) throw new MalformedError(this.offset, `PSM of ${unit.length} bytes is too short`);
    const infoLen = (unit[8]! << 8) | unit[9]!;
    let p = 10 + infoLen;
    if (p + 2 > unit.length) throw new MalformedError(this.offset + 8, 'PSM program_stream_info_length overruns it');
    const mapLen = (unit[p]! << 8) | unit[p + 1]!;
    p += 2;
    const mapEnd = p + mapLen;
    if (mapEnd + 4 > unit.length)
      throw new MalformedError(this.offset + p - 2, 'PSM elementary_stream_map_length overruns it');
    while (p + 4 <= mapEnd) {
      const type = unit[p]!;
      const esId = unit[p + 1]!;
      const esInfo = (unit[p + 2]! << 8) | unit[p + 3]!;
      this.streamTypes.set(esId, type);
      p += 4 + esInfo;
    }
  }

  private parsePes(unit: Uint8Array, id: number, out: AccessUnit[]): void {
    if (unit.length < 9) throw new TruncatedError(this.offset, 9, unit.length, 'PES header');
    if ((unit[6]! & 0xc0) !== 0x80) throw new MalformedError(this.offset + 6, 'PES header is not MPEG-2 (10xx xxxx)');
    const flags = unit[7]! >>> 6;
    const headerLen = unit[8]!;
    const payloadStart = 9 + headerLen;
    if (payloadStart > unit.length)
      throw new MalformedError(this.offset + 8, `PES header length ${headerLen} overruns the packet`);
    let pts: number | undefined;
    let dts: number | undefined;
    if (flags & 0x2) {
      if (headerLen < 5) throw new MalformedError(this.offset + 8, 'PES announces a PTS but its header is too short');
      pts = readTimestamp(unit, 9);
      if (flags === 0x3) {
        if (headerLen < 10)
          throw new MalformedError(this.offset + 8, 'PES announces a DTS but its header is too short');
        dts = readTimestamp(unit, 14);
      }
    }
    const payload = unit.subarray(payloadStart);
    if ((id & 0xe0) === 0xc0) {
      out.push({
        kind: 'audio',
        streamId: id,
        streamType: this.streamTypes.get(id),
        codec: 'audio',
        pts,
        dts,
        keyframe: true,
        data: payload.slice(),
      });
      return;
    }
    if (this.au && this.auLength > 0 && (id !== this.auStreamId || (pts !== undefined && pts !== this.auPts))) {
      out.push(this.finishAu());
    }
    if (!this.au) {
      const size = Math.min(this.maxAu, Math.max(this.auSizeHint, payload.length));
      const i = this.spare.findIndex((b) => b.length >= size);
      this.au = i >= 0 ? this.spare.splice(i, 1)[0]! : new Uint8Array(size);
      this.auLength = 0;
      this.auStreamId = id;
      this.auPts = pts;
      this.auDts = dts;
    } else if (this.auPts === undefined && pts !== undefined) {
      this.auPts = pts;
      this.auDts = dts;
    }
    const need = this.auLength + payload.length;
    if (need > this.maxAu) {
      this.au = null;
      this.auLength = 0;
      throw new FrameTooLargeError(need, this.maxAu, 'access unit');
    }
    if (need > this.au.length) {
      const grown = new Uint8Array(Math.min(this.maxAu, Math.max(need, this.au.length * 2)));
      grown.set(this.au.subarray(0, this.auLength));
      this.au = grown;
    }
    this.au.set(payload, this.auLength);
    this.auLength += payload.length;
  }

  private finishAu(): AccessUnit {
    const streamType = this.streamTypes.get(this.auStreamId);
    const codec = codecOf(streamType);
    const data = this.au!.subarray(0, this.auLength);
    this.auSizeHint = Math.max(4096, Math.ceil(this.auLength * 1.25));
    this.au = null;
    this.auLength = 0;
    return {
      kind: 'video',
      streamId: this.auStreamId,
      streamType,
      codec,
      pts: this.auPts,
      dts: this.auDts,
      keyframe: codec === 'h264' || codec === 'h265' ? isKeyframe(data, codec) : false,
      data,
    };
  }
}

/** What {@link muxPs} needs of a video access unit. */
export interface PsMuxInput {
  /** Annex B bytes of one access unit. */
  data: Uint8Array;
  /** 33-bit PTS in 90 kHz units. */
  pts: number;
  dts?: number;
  /** Keyframes are preceded by a system header and a PSM, as devices send them. */
  keyframe: boolean;
  /** Stream type announced in the PSM. Default H.264. */
  streamType?: number;
  /** Video stream id. Default 0xE0. */
  streamId?: number;
  /** Program mux rate in units of 50 bytes/s. Default 0x3fff. */
  muxRate?: number;
}

const MAX_PES_PAYLOAD = 0xffff - 3 - 10;

function writeTimestamp(w: BitWriter, prefix: number, ts: number): void {
  const hi = Math.floor(ts / 0x40000000) & 0x7;
  const lo = ts % 0x40000000;
  w.bits(prefix, 4)
    .bits(hi, 3)
    .bit(1)
    .bits((lo >>> 15) & 0x7fff, 15)
    .bit(1)
    .bits(lo & 0x7fff, 15)
    .bit(1);
}

/**
 * Muxes one video access unit into MPEG-PS the way EHome devices do: pack header, then for keyframes a system
 * header and a PSM, then PES packets of at most 65,535 bytes, the first carrying the PTS (and DTS).
 */
export function muxPs(input: PsMuxInput): Uint8Array {
  const streamId = input.streamId ?? 0xe0;
  const streamType = input.streamType ?? PsStreamType.H264;
  if (!Number.isInteger(input.pts) || input.pts < 0 || input.pts >= 2 ** 33) {
    throw new ValueOutOfRangeError('pts', `${input.pts} is not a 33-bit timestamp`);
  }
  const scr = input.dts ?? input.pts;
  const muxRate = input.muxRate ?? 0x3fff;
  const w = new BitWriter(input.data.length + 256);
  // Pack header (MPEG-2): start code, SCR base + extension, mux rate, no stuffing.
  w.bits(0x000001ba, 32);
  const scrHi = Math.floor(scr / 0x40000000) & 0x7;
  const scrLo = scr % 0x40000000;
  w.bits(0b01, 2)
    .bits(scrHi, 3)
    .bit(1)
    .bits((scrLo >>> 15) & 0x7fff, 15)
    .bit(1)
    .bits(scrLo & 0x7fff, 15)
    .bit(1);
  w.bits(0, 9).bit(1).bits(muxRate, 22).bit(1).bit(1).bits(0x1f, 5).bits(0, 3);
  if (input.keyframe) {
    // System header: one video stream.
    w.bits(0x000001bb, 32).bits(9, 16);
    w.bit(1).bits(muxRate, 22).bit(1);
    w.bits(0, 6).bit(0).bit(0); // audio_bound, fixed, CSPS
    w.bit(1).bit(1).bit(1).bits(1, 5); // audio lock, video lock, marker, video_bound
    w.bit(0).bits(0x7f, 7);
    w.bits(streamId, 8).bits(0b11, 2).bit(1).bits(512, 13);
    // Program stream map with CRC.
    const psm = new BitWriter(32);
    psm.bits(0x000001bc, 32).bits(14, 16);
    psm.bit(1).bits(0b11, 2).bits(0, 5); // current_next, reserved, version
    psm.bits(0x7f, 7).bit(1);
    psm.bits(0, 16); // program_stream_info_length
    psm.bits(4, 16); // elementary_stream_map_length
    psm.bits(streamType, 8).bits(streamId, 8).bits(0, 16);
    const body = psm.finish();
    const crc = crc32Mpeg2(body, 0, body.length);
    w.bytes(body).bits(crc, 32);
  }
  const data = input.data;
  let p = 0;
  let first = true;
  do {
    const withDts = first && input.dts !== undefined;
    const headerData = first ? (withDts ? 10 : 5) : 0;
    const take = Math.min(MAX_PES_PAYLOAD, data.length - p);
    w.bits(0x000001, 24)
      .bits(streamId, 8)
      .bits(3 + headerData + take, 16);
    w.bits(first ? 0x84 : 0x80, 8); // '10', data_alignment_indicator on the first
    w.bits(first ? (withDts ? 0xc0 : 0x80) : 0, 8).bits(headerData, 8);
    if (first) {
      writeTimestamp(w, withDts ? 0b0011 : 0b0010, input.pts);
      if (withDts) writeTimestamp(w, 0b0001, input.dts!);
    }
    w.bytes(data.subarray(p, p + take));
    p += take;
    first = false;
  } while (p < data.length);
  return w.finish();
}

export { MAX_UNIT as PS_MAX_UNIT_SIZE };
