/**
 * Fragmented MP4 (ISO/IEC 14496-12 with 14496-15 `avc1`) for H.264: an init segment (ftyp + moov with mvex) and media
 * segments (moof + mdat), the shape Media Source Extensions and ffmpeg read. Pure: no I/O, no timers, no node:
 * imports, so the same code runs in the platform and, bundled, in a browser.
 *
 * The free functions are the codec ({@link encodeFmp4Init}, {@link encodeFmp4Fragment}, {@link annexBToAvcc},
 * {@link encodeAvcC}); {@link Fmp4Muxer} turns a stream of Annex B access units into segments (one per GOP or per
 * frame), deriving durations from the 90 kHz presentation times.
 */
import { FrameTooLargeError, MalformedError, ValueOutOfRangeError } from '@cam/net-utils/wire';
import { h264NalType, nalUnits } from './h26x.js';
import { type H264SpsInfo, parseH264Sps } from './h264-sps.js';

/** The video track an init segment describes. */
export interface Fmp4VideoTrack {
  /** Track id (1..2^32-1). Default 1. */
  trackId?: number;
  /** Ticks per second of the sample times. Default 90000 (the MPEG clock the PS and RTP layers use). */
  timescale?: number;
  width: number;
  height: number;
  /** Sequence parameter sets, NAL header byte first, no start code (at least one). */
  sps: readonly Uint8Array[];
  /** Picture parameter sets, NAL header byte first, no start code (at least one). */
  pps: readonly Uint8Array[];
}

/** One sample of a media segment. */
export interface Fmp4Sample {
  /** The access unit in AVCC form (each NAL preceded by its 4-byte big-endian length), see {@link annexBToAvcc}. */
  data: Uint8Array;
  /** Duration in timescale ticks (0..2^32-1). */
  duration: number;
  /** True for a sync sample (IDR). */
  keyframe: boolean;
  /** Presentation minus decode time in ticks (signed); 0 or absent without B-frames. */
  compositionOffset?: number;
}

/** Largest parameter set accepted into an avcC (its length is a 16-bit field). */
const MAX_PARAMETER_SET = 0xffff;
/** Parameter sets of one kind kept in an avcC (31 is the field's limit for SPS). */
const MAX_PARAMETER_SETS = 31;

const textEncoder = new TextEncoder();

function fourcc(s: string): Uint8Array {
  return textEncoder.encode(s);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A box: 32-bit size, 4-character type, the children or payload. */
function box(type: string, ...payload: Uint8Array[]): Uint8Array {
  const body = concat(payload);
  const out = new Uint8Array(8 + body.length);
  new DataView(out.buffer).setUint32(0, out.length);
  out.set(fourcc(type), 4);
  out.set(body, 8);
  return out;
}

/** A full box: a box whose payload starts with version (8 bits) and flags (24 bits). */
function fullBox(type: string, version: number, flags: number, ...payload: Uint8Array[]): Uint8Array {
  const head = Uint8Array.of(version, (flags >>> 16) & 0xff, (flags >>> 8) & 0xff, flags & 0xff);
  return box(type, head, ...payload);
}

/** Big-endian fields into bytes: each entry is [bytes, value] with bytes 1, 2, 4 or 8. */
function fields(...entries: readonly (readonly [1 | 2 | 4 | 8, number])[]): Uint8Array {
  let size = 0;
  for (const [n] of entries) size += n;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let o = 0;
  for (const [n, value] of entries) {
    if (n === 1) v.setUint8(o, value);
    else if (n === 2) v.setUint16(o, value);
    else if (n === 4) v.setUint32(o, value >>> 0);
    else v.setBigUint64(o, BigInt(value));
    o += n;
  }
  return out;
}

const UNITY_MATRIX = fields(
  [4, 0x00010000],
  [4, 0],
  [4, 0],
  [4, 0],
  [4, 0x00010000],
  [4, 0],
  [4, 0],
  [4, 0],
  [4, 0x40000000],
);

function checkParameterSets(list: readonly Uint8Array[], what: string, type: number): void {
  if (list.length === 0) throw new ValueOutOfRangeError(what, 'at least one is needed');
  if (list.length > MAX_PARAMETER_SETS) throw new ValueOutOfRangeError(what, `at most ${MAX_PARAMETER_SETS}`);
  for (const ps of list) {
    if (ps.length < 2 || ps.length > MAX_PARAMETER_SET) {
      throw new ValueOutOfRangeError(what, `length ${ps.length} is outside 2..${MAX_PARAMETER_SET}`);
    }
    if (h264NalType(ps) !== type) throw new MalformedError(0, `${what}: NAL type ${h264NalType(ps)} is not ${type}`);
  }
}

/** The AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1) of an H.264 stream, as the avcC box payload. */
export function encodeAvcC(sps: readonly Uint8Array[], pps: readonly Uint8Array[]): Uint8Array {
  checkParameterSets(sps, 'SPS', 7);
  checkParameterSets(pps, 'PPS', 8);
  const info: H264SpsInfo = parseH264Sps(sps[0]!);
  const parts: Uint8Array[] = [
    Uint8Array.of(1, info.profileIdc, info.constraintFlags, info.levelIdc, 0xfc | 3, 0xe0 | sps.length),
  ];
  for (const s of sps) parts.push(fields([2, s.length]), s);
  parts.push(Uint8Array.of(pps.length));
  for (const p of pps) parts.push(fields([2, p.length]), p);
  if (info.profileIdc === 100 || info.profileIdc === 110 || info.profileIdc === 122 || info.profileIdc === 244) {
    parts.push(
      Uint8Array.of(0xfc | info.chromaFormatIdc, 0xf8 | (info.bitDepthLuma - 8), 0xf8 | (info.bitDepthChroma - 8), 0),
    );
  }
  return concat(parts);
}

/**
 * The RFC 6381 `codecs` value of an H.264 stream (`avc1.PPCCLL`: profile, constraint flags, level in hex), as Media
 * Source Extensions need it: `MediaSource.isTypeSupported(`video/mp4; codecs="${avcCodecString(sps)}"`)`.
 */
export function avcCodecString(sps: Uint8Array): string {
  const info = parseH264Sps(sps);
  const hex2 = (n: number): string => n.toString(16).padStart(2, '0').toUpperCase();
  return `avc1.${hex2(info.profileIdc)}${hex2(info.constraintFlags)}${hex2(info.levelIdc)}`;
}

function checkTrack(track: Fmp4VideoTrack): { trackId: number; timescale: number } {
  const trackId = track.trackId ?? 1;
  const timescale = track.timescale ?? 90000;
  if (!Number.isInteger(trackId) || trackId < 1 || trackId > 0xffffffff) {
    throw new ValueOutOfRangeError('trackId', `${trackId} is outside 1..2^32-1`);
  }
  if (!Number.isInteger(timescale) || timescale < 1 || timescale > 0xffffffff) {
    throw new ValueOutOfRangeError('timescale', `${timescale} is outside 1..2^32-1`);
  }
  for (const [name, v] of [
    ['width', track.width],
    ['height', track.height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 0xffff) throw new ValueOutOfRangeError(name, `${v} is outside 1..65535`);
  }
  return { trackId, timescale };
}

/** The init segment (ftyp + moov with an mvex/trex, no samples) of one H.264 video track. */
export function encodeFmp4Init(track: Fmp4VideoTrack): Uint8Array {
  const { trackId, timescale } = checkTrack(track);
  const avcC = box('avcC', encodeAvcC(track.sps, track.pps));
  const ftyp = box('ftyp', fourcc('iso5'), fields([4, 0x200]), fourcc('iso5'), fourcc('iso6'), fourcc('mp41'));
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    fields([4, 0], [4, 0], [4, 1000], [4, 0], [4, 0x00010000], [2, 0x0100], [2, 0], [4, 0], [4, 0]),
    UNITY_MATRIX,
    new Uint8Array(24),
    fields([4, trackId + 1]),
  );
  const tkhd = fullBox(
    'tkhd',
    0,
    3, // enabled, in movie
    fields([4, 0], [4, 0], [4, trackId], [4, 0], [4, 0], [4, 0], [4, 0], [2, 0], [2, 0], [2, 0], [2, 0]),
    UNITY_MATRIX,
    fields([4, track.width * 0x10000], [4, track.height * 0x10000]),
  );
  const mdhd = fullBox('mdhd', 0, 0, fields([4, 0], [4, 0], [4, timescale], [4, 0], [2, 0x55c4], [2, 0])); // 'und'
  const hdlr = fullBox('hdlr', 0, 0, fields([4, 0]), fourcc('vide'), new Uint8Array(12), fourcc('VideoHandler\0'));
  const avc1 = box(
    'avc1',
    new Uint8Array(6),
    fields([2, 1], [2, 0], [2, 0], [4, 0], [4, 0], [4, 0], [2, track.width], [2, track.height]),
    fields([4, 0x00480000], [4, 0x00480000], [4, 0], [2, 1]),
    new Uint8Array(32), // compressorname
    fields([2, 0x0018], [2, 0xffff]),
    avcC,
  );
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, fields([4, 1]), avc1),
    fullBox('stts', 0, 0, fields([4, 0])),
    fullBox('stsc', 0, 0, fields([4, 0])),
    fullBox('stsz', 0, 0, fields([4, 0], [4, 0])),
    fullBox('stco', 0, 0, fields([4, 0])),
  );
  const minf = box(
    'minf',
    fullBox('vmhd', 0, 1, new Uint8Array(8)),
    box('dinf', fullBox('dref', 0, 0, fields([4, 1]), fullBox('url ', 0, 1))),
    stbl,
  );
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, minf));
  const mvex = box('mvex', fullBox('trex', 0, 0, fields([4, trackId], [4, 1], [4, 0], [4, 0], [4, 0])));
  return concat([ftyp, box('moov', mvhd, trak, mvex)]);
}

/** sample_flags of a sync sample: depends on no other (2), is_non_sync_sample 0. */
export const SAMPLE_FLAGS_SYNC = 0x02000000;
/** sample_flags of a non-sync sample: depends on others (1), is_non_sync_sample 1. */
export const SAMPLE_FLAGS_NON_SYNC = 0x01010000;

/** Size of the moof box {@link encodeFmp4Fragment} writes for `count` samples. */
function moofSize(count: number, withCto: boolean): number {
  const trun = 12 + 4 + 4 + count * (withCto ? 16 : 12);
  return 8 + 16 + 8 + 16 + 20 + trun;
}

/** Byte length of the media segment {@link encodeFmp4Fragment} writes for these samples. */
export function encodedLengthFmp4Fragment(samples: readonly Fmp4Sample[]): number {
  let mdat = 8;
  let withCto = false;
  for (const s of samples) {
    mdat += s.data.length;
    if (s.compositionOffset) withCto = true;
  }
  return moofSize(samples.length, withCto) + mdat;
}

/**
 * A media segment (moof + mdat) of one track: `baseMediaDecodeTime` is the decode time of the first sample in
 * timescale ticks (64-bit in tfdt, safe integers here); `sequenceNumber` counts segments from 1.
 */
export function encodeFmp4Fragment(
  trackId: number,
  sequenceNumber: number,
  baseMediaDecodeTime: number,
  samples: readonly Fmp4Sample[],
): Uint8Array {
  if (samples.length === 0) throw new ValueOutOfRangeError('samples', 'a media segment needs at least one sample');
  if (!Number.isSafeInteger(baseMediaDecodeTime) || baseMediaDecodeTime < 0) {
    throw new ValueOutOfRangeError('baseMediaDecodeTime', `${baseMediaDecodeTime} is not a non-negative integer`);
  }
  const withCto = samples.some((s) => s.compositionOffset);
  const moof = moofSize(samples.length, withCto);
  const total = encodedLengthFmp4Fragment(samples);
  if (total > 0xffffffff) throw new FrameTooLargeError(total, 0xffffffff, 'fMP4 media segment');
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  let o = 0;
  const head = (size: number, type: string): void => {
    v.setUint32(o, size);
    out.set(fourcc(type), o + 4);
    o += 8;
  };
  head(moof, 'moof');
  head(16, 'mfhd');
  v.setUint32(o + 4, sequenceNumber >>> 0);
  o += 8;
  head(moof - 24, 'traf');
  head(16, 'tfhd');
  v.setUint32(o, 0x020000); // default-base-is-moof
  v.setUint32(o + 4, trackId);
  o += 8;
  head(20, 'tfdt');
  v.setUint32(o, 0x01000000); // version 1: 64-bit time
  v.setBigUint64(o + 4, BigInt(baseMediaDecodeTime));
  o += 12;
  head(moof - o, 'trun');
  // data-offset, duration, size, flags present (+ composition offsets, version 1 = signed)
  v.setUint32(o, (withCto ? 0x01000000 : 0) | 0x000001 | 0x000100 | 0x000200 | 0x000400 | (withCto ? 0x000800 : 0));
  v.setUint32(o + 4, samples.length);
  v.setUint32(o + 8, moof + 8);
  o += 12;
  for (const s of samples) {
    if (!Number.isInteger(s.duration) || s.duration < 0 || s.duration > 0xffffffff) {
      throw new ValueOutOfRangeError('duration', `${s.duration} is outside 0..2^32-1`);
    }
    v.setUint32(o, s.duration);
    v.setUint32(o + 4, s.data.length);
    v.setUint32(o + 8, s.keyframe ? SAMPLE_FLAGS_SYNC : SAMPLE_FLAGS_NON_SYNC);
    o += 12;
    if (withCto) {
      v.setInt32(o, s.compositionOffset ?? 0);
      o += 4;
    }
  }
  head(total - moof, 'mdat');
  for (const s of samples) {
    out.set(s.data, o);
    o += s.data.length;
  }
  return out;
}

/** NAL types left out of samples: SPS and PPS (they live in avcC), access unit delimiter, end of seq/stream, filler. */
const OUT_OF_BAND = new Set([7, 8, 9, 10, 11, 12]);

/** An Annex B access unit as an AVCC sample (4-byte lengths), without the NAL units that live in the avcC. */
export function annexBToAvcc(accessUnit: Uint8Array): Uint8Array {
  const nals: Uint8Array[] = [];
  let size = 0;
  for (const nal of nalUnits(accessUnit)) {
    if (nal.length === 0 || OUT_OF_BAND.has(h264NalType(nal))) continue;
    nals.push(nal);
    size += 4 + nal.length;
  }
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let o = 0;
  for (const nal of nals) {
    v.setUint32(o, nal.length);
    out.set(nal, o + 4);
    o += 4 + nal.length;
  }
  return out;
}

/** Settings of {@link Fmp4Muxer}. */
export interface Fmp4MuxerOptions {
  /** One media segment per GOP (starting at each IDR, the default) or one per frame (lowest latency). */
  fragment?: 'gop' | 'frame';
  /** Duration of a frame whose next frame has no usable time stamp, in 90 kHz ticks. Default 3600 (25 fps). */
  frameDuration?: number;
  /** A GOP holding more bytes than this is cut into several segments. Default 8 MiB. */
  maxFragmentBytes?: number;
  /** A GOP holding more frames than this is cut into several segments. Default 300. */
  maxFragmentFrames?: number;
  /** Track id. Default 1. */
  trackId?: number;
}

/** One access unit given to {@link Fmp4Muxer.push}. */
export interface Fmp4AccessUnit {
  /** Annex B bytes (start codes). */
  data: Uint8Array;
  /** 90 kHz presentation time (33-bit wrap allowed); without it, frames are `frameDuration` apart. */
  pts?: number | undefined;
}

/** What a muxer has done so far. */
export interface Fmp4MuxerStats {
  /** Access units taken into segments. */
  frames: number;
  /** Access units dropped while waiting for the first IDR with its SPS and PPS. */
  skippedBeforeKeyframe: number;
  segments: number;
  initSegments: number;
  bytes: number;
}

const PTS_WRAP = 2 ** 33;
/** Time stamp steps above 10 s are treated as a discontinuity, not a duration. */
const MAX_STEP = 10 * 90000;

interface Pending {
  data: Uint8Array;
  pts: number | undefined;
  keyframe: boolean;
}

/**
 * Annex B H.264 access units in, fMP4 segments out. Access units before the first IDR that comes with (or after) an
 * SPS and PPS are skipped, so the stream starts decodable. The first output is the init segment; a new SPS or PPS
 * (a change of resolution) ends the current segment and emits a new init segment. Durations come from the next
 * frame's time stamp, so a frame leaves the muxer when the next one arrives (per-frame mode) or when the next IDR
 * arrives (per-GOP mode); {@link flush} emits the rest.
 */
export class Fmp4Muxer {
  private readonly fragmentMode: 'gop' | 'frame';
  private readonly frameDuration: number;
  private readonly maxBytes: number;
  private readonly maxFrames: number;
  private readonly trackId: number;
  private sps: Uint8Array | undefined;
  private pps: Uint8Array | undefined;
  private configured: string | undefined;
  private init: Uint8Array | undefined;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private decodeTime = 0;
  private sequence = 0;
  private lastDuration: number;
  readonly stats: Fmp4MuxerStats = { frames: 0, skippedBeforeKeyframe: 0, segments: 0, initSegments: 0, bytes: 0 };

  constructor(options: Fmp4MuxerOptions = {}) {
    this.fragmentMode = options.fragment ?? 'gop';
    this.frameDuration = options.frameDuration ?? 3600;
    this.maxBytes = options.maxFragmentBytes ?? 8 * 1024 * 1024;
    this.maxFrames = options.maxFragmentFrames ?? 300;
    this.trackId = options.trackId ?? 1;
    if (!Number.isInteger(this.frameDuration) || this.frameDuration < 1 || this.frameDuration > MAX_STEP) {
      throw new ValueOutOfRangeError('frameDuration', `${this.frameDuration} is outside 1..${MAX_STEP}`);
    }
    this.lastDuration = this.frameDuration;
  }

  /** The current init segment, once the first IDR with its parameter sets was seen. */
  get initSegment(): Uint8Array | undefined {
    return this.init;
  }

  /** Picture size from the current SPS. */
  get dimensions(): { width: number; height: number } | undefined {
    if (!this.sps) return undefined;
    const info = parseH264Sps(this.sps);
    return { width: info.width, height: info.height };
  }

  /** The `codecs` value of the current stream for Media Source Extensions (see {@link avcCodecString}). */
  get codecString(): string | undefined {
    return this.sps ? avcCodecString(this.sps) : undefined;
  }

  /** Takes one access unit; returns the segments (init and/or media) completed by it, in order, possibly none. */
  push(unit: Fmp4AccessUnit): Uint8Array[] {
    const out: Uint8Array[] = [];
    let keyframe = false;
    let sps: Uint8Array | undefined;
    let pps: Uint8Array | undefined;
    let hasSlice = false;
    for (const nal of nalUnits(unit.data)) {
      const t = h264NalType(nal);
      if (t === 7) sps ??= nal;
      else if (t === 8) pps ??= nal;
      else if (t === 5) {
        keyframe = true;
        hasSlice = true;
      } else if (t >= 1 && t <= 4) hasSlice = true;
    }
    if (!hasSlice) {
      // Parameter sets sent alone (as some encoders and the PS packer do) apply to the next picture.
      if (sps) this.sps = sps.slice();
      if (pps) this.pps = pps.slice();
      return out;
    }
    if (sps) this.sps = sps.slice();
    if (pps) this.pps = pps.slice();
    if (keyframe && this.sps && this.pps) {
      const key = `${hex(this.sps)}/${hex(this.pps)}`;
      if (key !== this.configured) {
        this.emit(out, unit.pts);
        const { width, height } = parseH264Sps(this.sps);
        this.init = encodeFmp4Init({ trackId: this.trackId, width, height, sps: [this.sps], pps: [this.pps] });
        this.configured = key;
        this.stats.initSegments++;
        this.stats.bytes += this.init.length;
        out.push(this.init);
      }
    }
    if (!this.configured) {
      this.stats.skippedBeforeKeyframe++;
      return out;
    }
    if (this.fragmentMode === 'frame' || keyframe || this.pending.length >= this.maxFrames) {
      this.emit(out, unit.pts);
    } else if (this.pendingBytes + unit.data.length > this.maxBytes) {
      this.emit(out, unit.pts);
    }
    const data = annexBToAvcc(unit.data);
    this.pending.push({ data, pts: unit.pts, keyframe });
    this.pendingBytes += data.length;
    // Per-frame mode keeps only the newest frame waiting for its successor's time stamp.
    return out;
  }

  /** Emits what is held (the last frame gets the previous frame's duration). */
  flush(): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.emit(out, undefined);
    return out;
  }

  /** Writes the held frames as one segment; `nextPts` is the time stamp of the frame that follows them. */
  private emit(out: Uint8Array[], nextPts: number | undefined): void {
    if (this.pending.length === 0) return;
    const samples: Fmp4Sample[] = [];
    let total = 0;
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i]!;
      const next = i + 1 < this.pending.length ? this.pending[i + 1]!.pts : nextPts;
      const duration = this.step(p.pts, next);
      samples.push({ data: p.data, duration, keyframe: p.keyframe });
      total += duration;
    }
    this.sequence++;
    const segment = encodeFmp4Fragment(this.trackId, this.sequence, this.decodeTime, samples);
    this.decodeTime += total;
    this.stats.frames += samples.length;
    this.stats.segments++;
    this.stats.bytes += segment.length;
    this.pending = [];
    this.pendingBytes = 0;
    out.push(segment);
  }

  private step(pts: number | undefined, next: number | undefined): number {
    if (pts === undefined || next === undefined) return this.lastDuration;
    const d = (((next - pts) % PTS_WRAP) + PTS_WRAP) % PTS_WRAP;
    if (d === 0 || d > MAX_STEP) return this.lastDuration;
    this.lastDuration = d;
    return d;
  }
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
