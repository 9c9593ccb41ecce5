/**
 * Device side: a synthetic H.264 Baseline picture of any size, every macroblock I_PCM (no compression), for tests
 * that want tiny, exactly predictable frames. The default media are the shipped clips (clips.ts).
 */
import { ValueOutOfRangeError } from '@cam/net-utils';
import { BitWriter } from '../../codec/media/bits.js';
import { escapeRbsp } from '../../codec/media/h26x.js';

/** Settings of {@link H264TestPatternGenerator}. */
export interface H264GeneratorOptions {
  /** Picture width in pixels (even, 16..4096). */
  width: number;
  /** Picture height in pixels (even, 16..4096). */
  height: number;
  /** Frames per second, written into the SPS timing information. Default 25. */
  fps?: number;
  /** Frames per group of pictures: one IDR, then non-IDR I pictures. Default 25. */
  gop?: number;
}

/** One generated access unit in Annex B form. */
export interface GeneratedAccessUnit {
  data: Uint8Array;
  /** 90 kHz presentation time. */
  pts: number;
  keyframe: boolean;
  index: number;
}

const START_CODE = Uint8Array.of(0, 0, 0, 1);

function nal(header: number, rbsp: Uint8Array): Uint8Array {
  const body = escapeRbsp(rbsp);
  const out = new Uint8Array(5 + body.length);
  out.set(START_CODE, 0);
  out[4] = header;
  out.set(body, 5);
  return out;
}

/**
 * A real H.264 Baseline encoder of the simplest kind: every macroblock is I_PCM (raw samples), CAVLC, 4:2:0.
 * The result is a valid elementary stream any decoder plays (a moving gradient with a sweeping bar), made with
 * no codec library, so simulated devices can stream true H.264. Bit rate is that of raw video (1.5 bytes/pixel),
 * so keep pictures small.
 */
export class H264TestPatternGenerator {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly gop: number;
  private readonly mbWidth: number;
  private readonly mbHeight: number;
  private readonly sps: Uint8Array;
  private readonly pps: Uint8Array;
  private index = 0;
  private idrId = 0;
  private gopStart = 0;
  private keyframeRequested = false;

  constructor(options: H264GeneratorOptions) {
    const { width, height } = options;
    for (const [name, v] of [
      ['width', width],
      ['height', height],
    ] as const) {
      if (!Number.isInteger(v) || v < 16 || v > 4096 || v % 2 !== 0) {
        throw new ValueOutOfRangeError(name, `${v} must be an even integer in 16..4096`);
      }
    }
    this.width = width;
    this.height = height;
    this.fps = options.fps ?? 25;
    this.gop = Math.max(1, options.gop ?? 25);
    this.mbWidth = Math.ceil(width / 16);
    this.mbHeight = Math.ceil(height / 16);
    this.sps = this.buildSps();
    this.pps = this.buildPps();
  }

  /** The sequence and picture parameter sets, with start codes. */
  get parameterSets(): Uint8Array {
    const out = new Uint8Array(this.sps.length + this.pps.length);
    out.set(this.sps);
    out.set(this.pps, this.sps.length);
    return out;
  }

  /** Makes the next access unit a keyframe (SPS + PPS + IDR) and starts a new GOP there (FORCEIFRAME). */
  requestKeyframe(): void {
    this.keyframeRequested = true;
  }

  /** Moves the picture counter (the pattern and PTS follow it); the next access unit starts a new GOP. */
  seekFrame(index: number): void {
    this.index = Math.max(0, Math.floor(index));
    this.keyframeRequested = true;
  }

  /** Index of the next access unit. */
  get position(): number {
    return this.index;
  }

  /** The next access unit: SPS + PPS + IDR slice at the start of each GOP, else one non-IDR I slice. */
  next(): GeneratedAccessUnit {
    const i = this.index++;
    if (this.keyframeRequested || i - this.gopStart >= this.gop || i < this.gopStart) {
      this.gopStart = i;
      this.keyframeRequested = false;
    }
    const inGop = i - this.gopStart;
    const keyframe = inGop === 0;
    const slice = this.buildSlice(i, keyframe, inGop % 16);
    let data: Uint8Array;
    if (keyframe) {
      this.idrId = (this.idrId + 1) & 0xffff;
      data = new Uint8Array(this.sps.length + this.pps.length + slice.length);
      data.set(this.sps, 0);
      data.set(this.pps, this.sps.length);
      data.set(slice, this.sps.length + this.pps.length);
    } else {
      data = slice;
    }
    return { data, pts: Math.round((i * 90_000) / this.fps), keyframe, index: i };
  }

  private buildSps(): Uint8Array {
    const w = new BitWriter(64);
    const pixels = this.mbWidth * this.mbHeight;
    const level =
      pixels <= 99 ? 10 : pixels <= 396 ? 20 : pixels <= 1620 ? 30 : pixels <= 3600 ? 31 : pixels <= 8192 ? 40 : 51;
    w.bits(66, 8).bits(0xc0, 8).bits(level, 8); // Baseline, constraint_set0/1
    w.ue(0); // seq_parameter_set_id
    w.ue(0); // log2_max_frame_num_minus4 -> 16 frame numbers
    w.ue(2); // pic_order_cnt_type 2: output order = decoding order
    w.ue(1); // max_num_ref_frames
    w.bit(0); // gaps_in_frame_num_value_allowed_flag
    w.ue(this.mbWidth - 1);
    w.ue(this.mbHeight - 1);
    w.bit(1); // frame_mbs_only_flag
    w.bit(1); // direct_8x8_inference_flag
    const cropRight = (this.mbWidth * 16 - this.width) / 2;
    const cropBottom = (this.mbHeight * 16 - this.height) / 2;
    if (cropRight || cropBottom) w.bit(1).ue(0).ue(cropRight).ue(0).ue(cropBottom);
    else w.bit(0);
    w.bit(1); // vui_parameters_present_flag
    w.bit(0).bit(0).bit(0).bit(0); // aspect ratio, overscan, video signal, chroma location
    w.bit(1)
      .bits(1, 32)
      .bits(this.fps * 2, 32)
      .bit(1); // timing: 1 / (2 * fps) ticks, fixed frame rate
    w.bit(0).bit(0).bit(0).bit(0); // nal hrd, vcl hrd, pic_struct, bitstream_restriction
    w.trailingBits();
    return nal(0x67, w.finish());
  }

  private buildPps(): Uint8Array {
    const w = new BitWriter(16);
    w.ue(0).ue(0); // pps id, sps id
    w.bit(0).bit(0); // CAVLC, bottom_field_pic_order_in_frame_present_flag
    w.ue(0).ue(0).ue(0); // slice groups, ref idx l0/l1
    w.bit(0).bits(0, 2); // weighted pred
    w.se(0).se(0).se(0); // qp, qs, chroma qp offset
    w.bit(1).bit(0).bit(0); // deblocking control present, constrained intra, redundant pic cnt
    w.trailingBits();
    return nal(0x68, w.finish());
  }

  private buildSlice(index: number, idr: boolean, frameNum: number): Uint8Array {
    const mbCount = this.mbWidth * this.mbHeight;
    const w = new BitWriter(64 + mbCount * 386);
    w.ue(0); // first_mb_in_slice
    w.ue(7); // slice_type: I (all slices of the picture)
    w.ue(0); // pic_parameter_set_id
    w.bits(idr ? 0 : frameNum, 4); // frame_num
    if (idr) w.ue(this.idrId & 0xffff); // idr_pic_id
    if (idr)
      w.bit(0).bit(0); // no_output_of_prior_pics, long_term_reference
    else w.bit(0); // adaptive_ref_pic_marking_mode_flag
    w.se(0); // slice_qp_delta
    w.ue(1); // disable_deblocking_filter_idc: off (I_PCM needs none)
    const luma = new Uint8Array(256);
    const bar = (index * 4) % (this.mbWidth * 16);
    for (let mby = 0; mby < this.mbHeight; mby++) {
      for (let mbx = 0; mbx < this.mbWidth; mbx++) {
        w.ue(25); // mb_type I_PCM
        w.align(); // pcm_alignment_zero_bit
        for (let y = 0; y < 16; y++) {
          for (let x = 0; x < 16; x++) {
            const px = mbx * 16 + x;
            const py = mby * 16 + y;
            const v = Math.abs(px - bar) < 3 ? 235 : 16 + ((px * 2 + py + index * 2) & 0xbf);
            luma[y * 16 + x] = v;
          }
        }
        w.bytes(luma);
        const cb = 128 + (((mbx * 16 + index) & 0x3f) - 32);
        const cr = 128 + (((mby * 16 - index) & 0x3f) - 32);
        w.bytes(new Uint8Array(64).fill(cb));
        w.bytes(new Uint8Array(64).fill(cr));
      }
    }
    w.trailingBits();
    return nal(idr ? 0x65 : 0x41, w.finish());
  }
}
