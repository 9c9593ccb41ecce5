/**
 * H.264 sequence parameter set reader (ITU-T H.264 7.3.2.1.1): just the fields a container needs (profile, level,
 * chroma format, bit depths, picture size after cropping). Pure: no I/O, no node: imports, so it bundles for a browser.
 */
import { MalformedError, TruncatedError } from '@cam/net-utils/wire';
import { h264NalType, unescapeRbsp } from './h26x.js';

/** What {@link parseH264Sps} reads from an SPS. */
export interface H264SpsInfo {
  profileIdc: number;
  /** The constraint_set flags byte (profile_compatibility in avcC). */
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** Displayed width in pixels (cropping applied). */
  width: number;
  /** Displayed height in pixels (cropping applied). */
  height: number;
}

/** Profiles whose SPS carries chroma_format_idc and bit depths (H.264 7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Largest picture side accepted in macroblocks (8192 px), so a hostile SPS can't claim absurd sizes. */
const MAX_MBS = 512;

/** MSB-first bit reader over an RBSP; reading past the end throws {@link TruncatedError}. */
class RbspReader {
  private pos = 0;
  constructor(private readonly data: Uint8Array) {}

  bit(): number {
    const byte = this.pos >>> 3;
    if (byte >= this.data.length) throw new TruncatedError(byte, 1, 0, 'H.264 SPS');
    const b = (this.data[byte]! >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  bits(count: number): number {
    let v = 0;
    for (let i = 0; i < count; i++) v = v * 2 + this.bit();
    return v;
  }

  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new MalformedError(this.pos >>> 3, 'H.264 SPS: Exp-Golomb code longer than 32 bits');
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }

  get byteOffset(): number {
    return this.pos >>> 3;
  }
}

function skipScalingList(r: RbspReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

function limit(r: RbspReader, value: number, max: number, field: string): number {
  if (value > max) throw new MalformedError(r.byteOffset, `H.264 SPS: ${field} ${value} is above ${max}`);
  return value;
}

/**
 * Reads an H.264 SPS NAL unit (starting with its NAL header byte, emulation-prevention bytes included). Throws
 * {@link MalformedError} for a NAL that is not an SPS or carries out-of-range values, {@link TruncatedError} when it
 * ends early.
 */
export function parseH264Sps(nal: Uint8Array): H264SpsInfo {
  if (nal.length < 4) throw new TruncatedError(0, 4, nal.length, 'H.264 SPS');
  if (h264NalType(nal) !== 7) throw new MalformedError(0, `H.264 NAL type ${h264NalType(nal)} is not an SPS (7)`);
  const r = new RbspReader(unescapeRbsp(nal.subarray(1)));
  const profileIdc = r.bits(8);
  const constraintFlags = r.bits(8);
  const levelIdc = r.bits(8);
  const spsId = limit(r, r.ue(), 31, 'seq_parameter_set_id');
  let chromaFormatIdc = 1;
  let separateColourPlane = 0;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = limit(r, r.ue(), 3, 'chroma_format_idc');
    if (chromaFormatIdc === 3) separateColourPlane = r.bit();
    bitDepthLuma = limit(r, r.ue(), 6, 'bit_depth_luma_minus8') + 8;
    bitDepthChroma = limit(r, r.ue(), 6, 'bit_depth_chroma_minus8') + 8;
    r.bit(); // qpprime_y_zero_transform_bypass_flag
    if (r.bit()) {
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) if (r.bit()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  limit(r, r.ue(), 12, 'log2_max_frame_num_minus4');
  const pocType = limit(r, r.ue(), 2, 'pic_order_cnt_type');
  if (pocType === 0) limit(r, r.ue(), 12, 'log2_max_pic_order_cnt_lsb_minus4');
  else if (pocType === 1) {
    r.bit();
    r.se();
    r.se();
    const cycle = limit(r, r.ue(), 255, 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.bit(); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = limit(r, r.ue() + 1, MAX_MBS, 'pic_width_in_mbs');
  const heightMapUnits = limit(r, r.ue() + 1, MAX_MBS, 'pic_height_in_map_units');
  const frameMbsOnly = r.bit();
  if (!frameMbsOnly) r.bit(); // mb_adaptive_frame_field_flag
  r.bit(); // direct_8x8_inference_flag
  let crop = [0, 0, 0, 0];
  if (r.bit()) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
  const width = widthMbs * 16 - cropUnitX * (crop[0]! + crop[1]!);
  const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropUnitY * (crop[2]! + crop[3]!);
  if (width <= 0 || height <= 0) throw new MalformedError(r.byteOffset, 'H.264 SPS: cropping leaves no picture');
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    width,
    height,
  };
}
