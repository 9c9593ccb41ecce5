/**
 * Media codec: MPEG-2 program stream (pack, system header, PSM, PES) muxer and demuxer for H.264/H.265 and audio.
 * Pure: no I/O, no node: imports.
 */
import { FrameTooLargeError, MalformedError, TruncatedError, ValueOutOfRangeError } from '@cam/net-utils/wire';
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

/** What the bytes after a unit's header go to. */
const BODY_SKIP = 0;
const BODY_VIDEO = 1;
const BODY_AUDIO = 2;

/** Plain `Uint8Array` view of `bytes`: a Buffer's `subarray` builds a Buffer, several times dearer than this. */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Streaming MPEG program-stream demuxer: feed it bytes split anywhere (RTP payloads), get access units.
 *
 * Frame boundaries: a video PES carrying a PTS that differs from the pending access unit's starts a new one;
 * {@link flush} ends the pending one (call it on the RTP marker bit so a frame is not held until the next one).
 *
 * Each PES payload byte is copied once, from the input straight into its access unit, as it arrives: only unit
 * headers (at most 276 bytes; a whole PSM, at most 65,541) are staged when they straddle two inputs. Memory held is
 * that header plus the pending access unit, which is capped.
 */
export class PsDemuxer {
  private readonly maxAu: number;
  /** Header bytes of a unit split across inputs (grows only for a PSM split across inputs). */
  private hdr = new Uint8Array(64);
  private hdrFill = 0;
  /** Body bytes of the current unit still to come, and where they go. */
  private bodyLeft = 0;
  private body = BODY_SKIP;
  private offset = 0; // stream offset of the next byte not yet consumed (staged header bytes excluded)
  private unitStart = 0; // stream offset and total length of the current unit, for TruncatedError at the end
  private unitLength = 0;
  private readonly streamTypes = new Map<number, number>();
  private au: Uint8Array | null = null;
  private auLength = 0;
  private auStreamId = 0;
  private auPts: number | undefined;
  private auDts: number | undefined;
  private auSizeHint = 64 * 1024;
  /** flush() arrived inside a video PES: the access unit ends with that PES. */
  private flushPending = false;
  private audio: AccessUnit | null = null;
  private audioFill = 0;
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

  /** Bytes held for an incomplete unit header (the pending access unit not counted). */
  get bufferedBytes(): number {
    return this.hdrFill;
  }

  /** Feeds PS bytes; returns the access units completed. */
  push(bytes: Uint8Array, out: AccessUnit[] = []): AccessUnit[] {
    this.pushRange(plainBytes(bytes), 0, bytes.byteLength, out);
    return out;
  }

  /**
   * Feeds `bytes[start..end)` (no view of the input is kept or made per unit); appends the completed access units
   * to `out`. The fast path of {@link push} for callers holding a larger buffer, such as an RTP packet in a TCP chunk.
   */
  pushRange(bytes: Uint8Array, start: number, end: number, out: AccessUnit[]): void {
    if (start < 0 || end > bytes.length || start > end) {
      throw new ValueOutOfRangeError('range', `${start}..${end} is not inside ${bytes.length} bytes`);
    }
    if (this.body === BODY_VIDEO && end - start <= this.bodyLeft && end > start) {
      // The common case: the bytes continue the current video PES (an RTP packet in the middle of a frame).
      this.au!.set(bytes.subarray(start, end), this.auLength);
      this.auLength += end - start;
      this.offset += end - start;
      this.bodyLeft -= end - start;
      if (this.bodyLeft === 0) this.endBody(out);
      return;
    }
    let p = start;
    while (p < end) {
      if (this.bodyLeft > 0) {
        p = this.consumeBody(bytes, p, end, out);
        continue;
      }
      if (this.hdrFill === 0) {
        const need = this.headerLength(bytes, p, end - p);
        if (need > 0 && need <= end - p) {
          // The whole header is here: parse it in place.
          this.beginUnit(bytes, p, need, out);
          p += need;
          continue;
        }
      }
      // Stage the header: only as many bytes as are known to belong to it, so nothing is taken from the body.
      const known = this.hdrFill >= 4 ? this.headerLength(this.hdr, 0, this.hdrFill) : -4;
      const target = known > 0 ? known : -known;
      const take = Math.min(target - this.hdrFill, end - p);
      this.stageHeader(bytes, p, take);
      p += take;
      const now = this.hdrFill >= 4 ? this.headerLength(this.hdr, 0, this.hdrFill) : -4;
      if (now > 0 && this.hdrFill === now) {
        this.hdrFill = 0;
        this.beginUnit(this.hdr, 0, now, out);
      }
    }
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

  /**
   * Ends the pending video access unit (if any) and returns it. Called inside a video PES (a marker bit that does
   * not fall on a PES end), the access unit ends with that PES instead, so a frame is never cut inside a packet.
   */
  flush(out: AccessUnit[] = []): AccessUnit[] {
    if (this.bodyLeft > 0 && this.body === BODY_VIDEO) this.flushPending = true;
    else if (this.au && this.auLength > 0) out.push(this.finishAu());
    return out;
  }

  /** End of stream: returns the pending access unit; throws {@link TruncatedError} if a PS unit is incomplete. */
  end(out: AccessUnit[] = []): AccessUnit[] {
    if (this.hdrFill > 0 || this.bodyLeft > 0) {
      const have = this.bodyLeft > 0 ? this.unitLength - this.bodyLeft : this.hdrFill;
      const needed = this.bodyLeft > 0 ? this.unitLength : have + 1;
      throw new TruncatedError(
        this.bodyLeft > 0 ? this.unitStart : this.offset,
        needed,
        have,
        'PS unit at end of stream',
      );
    }
    this.flushPending = false;
    return this.flush(out);
  }

  private stageHeader(bytes: Uint8Array, p: number, take: number): void {
    const need = this.hdrFill + take;
    if (need > this.hdr.length) {
      const grown = new Uint8Array(Math.max(need, this.hdr.length * 2));
      grown.set(this.hdr.subarray(0, this.hdrFill));
      this.hdr = grown;
    }
    for (let i = 0; i < take; i++) this.hdr[this.hdrFill + i] = bytes[p + i]!;
    this.hdrFill = need;
  }

  /**
   * Length of the header of the unit starting at `b[s]` (the part parsed as a whole; the rest of the unit is its
   * body, streamed), or minus the number of bytes needed to know it when `avail` is not enough. Throws on anything
   * that is not a PS unit.
   */
  private headerLength(b: Uint8Array, s: number, avail: number): number {
    if (avail < 4) return -4;
    if (b[s] !== 0 || b[s + 1] !== 0 || b[s + 2] !== 1) {
      throw new MalformedError(this.offset, 'expected an MPEG-PS start code 00 00 01');
    }
    const id = b[s + 3]!;
    if (id === START_END) return 4;
    if (id === START_PACK) {
      if (avail < 5) return -5;
      if ((b[s + 4]! & 0xc0) !== 0x40) {
        if ((b[s + 4]! & 0xf0) !== 0x20)
          throw new MalformedError(this.offset + 4, 'pack header is neither MPEG-1 nor MPEG-2');
        return 12;
      }
      return avail < 14 ? -14 : 14 + (b[s + 13]! & 0x07);
    }
    if (id < 0xb9) throw new MalformedError(this.offset + 3, `0x${id.toString(16)} is not a PS stream id`);
    if (avail < 6) return -6;
    const total = 6 + ((b[s + 4]! << 8) | b[s + 5]!);
    if (id === START_PSM) return total; // parsed whole (it is small)
    if ((id & 0xf0) !== 0xe0 && (id & 0xe0) !== 0xc0) return 6; // system header, padding, private: skipped
    if (total < 9) throw new TruncatedError(this.offset, 9, total, 'PES header');
    if (avail < 9) return -9;
    if ((b[s + 6]! & 0xc0) !== 0x80) throw new MalformedError(this.offset + 6, 'PES header is not MPEG-2 (10xx xxxx)');
    const headerLen = b[s + 8]!;
    if (9 + headerLen > total)
      throw new MalformedError(this.offset + 8, `PES header length ${headerLen} overruns the packet`);
    return 9 + headerLen;
  }

  /** Acts on a whole unit header at `b[s..s+length)` (checked by headerLength) and sets up its body. */
  private beginUnit(b: Uint8Array, s: number, length: number, out: AccessUnit[]): void {
    const id = b[s + 3]!;
    const total = id === START_END || id === START_PACK ? length : 6 + ((b[s + 4]! << 8) | b[s + 5]!);
    this.unitStart = this.offset;
    this.unitLength = total;
    if (id === START_PACK) this.packs++;
    else if (id === START_PSM) this.parsePsm(b, s, total);
    else if ((id & 0xf0) === 0xe0 || (id & 0xe0) === 0xc0) this.beginPes(b, s, length, total - length, id, out);
    else if (id !== START_END && id !== START_SYSTEM) this.skippedPes++;
    if (this.bodyLeft === 0 && length < total) {
      this.body = BODY_SKIP;
      this.bodyLeft = total - length;
    }
    this.offset += length;
  }

  private consumeBody(b: Uint8Array, p: number, end: number, out: AccessUnit[]): number {
    const take = Math.min(this.bodyLeft, end - p);
    if (this.body === BODY_VIDEO) {
      this.au!.set(b.subarray(p, p + take), this.auLength);
      this.auLength += take;
    } else if (this.body === BODY_AUDIO) {
      this.audio!.data.set(b.subarray(p, p + take), this.audioFill);
      this.audioFill += take;
    }
    this.bodyLeft -= take;
    this.offset += take;
    if (this.bodyLeft === 0) this.endBody(out);
    return p + take;
  }

  private endBody(out: AccessUnit[]): void {
    if (this.body === BODY_AUDIO) {
      out.push(this.audio!);
      this.audio = null;
    } else if (this.body === BODY_VIDEO && this.flushPending) {
      this.flushPending = false;
      if (this.auLength > 0) out.push(this.finishAu());
    }
    this.body = BODY_SKIP;
  }

  private parsePsm(b: Uint8Array, s: number, length: number): void {
    if (length < 16) throw new MalformedError(this.offset, `PSM of ${length} bytes is too short`);
    const infoLen = (b[s + 8]! << 8) | b[s + 9]!;
    let p = 10 + infoLen;
    if (p + 2 > length) throw new MalformedError(this.offset + 8, 'PSM program_stream_info_length overruns it');
    const mapLen = (b[s + p]! << 8) | b[s + p + 1]!;
    p += 2;
    const mapEnd = p + mapLen;
    if (mapEnd + 4 > length)
      throw new MalformedError(this.offset + p - 2, 'PSM elementary_stream_map_length overruns it');
    while (p + 4 <= mapEnd) {
      const type = b[s + p]!;
      const esId = b[s + p + 1]!;
      const esInfo = (b[s + p + 2]! << 8) | b[s + p + 3]!;
      this.streamTypes.set(esId, type);
      p += 4 + esInfo;
    }
  }

  /** A video or audio PES header (its length checked by headerLength); its payload of `size` bytes follows. */
  private beginPes(b: Uint8Array, s: number, length: number, size: number, id: number, out: AccessUnit[]): void {
    const flags = b[s + 7]! >>> 6;
    const headerLen = length - 9;
    let pts: number | undefined;
    let dts: number | undefined;
    if (flags & 0x2) {
      if (headerLen < 5) throw new MalformedError(this.offset + 8, 'PES announces a PTS but its header is too short');
      pts = readTimestamp(b, s + 9);
      if (flags === 0x3) {
        if (headerLen < 10)
          throw new MalformedError(this.offset + 8, 'PES announces a DTS but its header is too short');
        dts = readTimestamp(b, s + 14);
      }
    }
    if ((id & 0xe0) === 0xc0) {
      const audio: AccessUnit = {
        kind: 'audio',
        streamId: id,
        streamType: this.streamTypes.get(id),
        codec: 'audio',
        pts,
        dts,
        keyframe: true,
        data: new Uint8Array(size),
      };
      if (size === 0) out.push(audio);
      else {
        this.audio = audio;
        this.audioFill = 0;
        this.body = BODY_AUDIO;
        this.bodyLeft = size;
      }
      return;
    }
    if (this.au && this.auLength > 0 && (id !== this.auStreamId || (pts !== undefined && pts !== this.auPts))) {
      out.push(this.finishAu());
    }
    if (!this.au) {
      const want = Math.min(this.maxAu, Math.max(this.auSizeHint, size));
      // The most recently recycled buffer first: the likeliest to be still in cache.
      const i = this.spare.findLastIndex((x) => x.length >= want);
      this.au = i >= 0 ? this.spare.splice(i, 1)[0]! : new Uint8Array(want);
      this.auLength = 0;
      this.auStreamId = id;
      this.auPts = pts;
      this.auDts = dts;
    } else if (this.auPts === undefined && pts !== undefined) {
      this.auPts = pts;
      this.auDts = dts;
    }
    const need = this.auLength + size;
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
    if (size > 0) {
      this.body = BODY_VIDEO;
      this.bodyLeft = size;
    }
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
