/**
 * Device side: the simulated camera's pictures. Real H.264 clips and JPEGs made at development time by
 * `tools/make-media.sh` (ffmpeg, libx264) and shipped in the package's `media/` folder: `live.h264` for preview,
 * `playback.h264` for recordings (another scene), `pictures/live-sSS.jpg` (the preview scene every 2 s) for alarm and
 * capture pictures. Each clip is 60 s at 25 fps with an IDR every second and shows the second of the minute, so
 * a stream started at the frame of the current second shows the true seconds. Files are read once per process and
 * shared by every simulated device.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { h264NalType, nalUnits } from '../../codec/media/h26x.js';
import { parseH264Sps } from '../../codec/media/h264-sps.js';
import { muxPs } from '../../codec/media/ps.js';
import type { RecordingSizer } from '../recordings.js';

/** Frame rate of the shipped clips. */
export const CLIP_FPS = 25;
/** Frames per GOP of the shipped clips (an IDR every second). */
export const CLIP_GOP = 25;
/** 90 kHz ticks per clip frame. */
export const CLIP_FRAME_TICKS = 90000 / CLIP_FPS;

/** One access unit of a clip (Annex B, 4-byte start codes; an IDR carries its SPS and PPS). */
export interface ClipFrame {
  data: Uint8Array;
  keyframe: boolean;
}

/** A looped H.264 clip with the MPEG-PS size of each frame (what a download of it weighs). */
export interface Clip {
  name: string;
  frames: readonly ClipFrame[];
  width: number;
  height: number;
  /** psOffset[i] = MPEG-PS bytes of frames 0..i-1 (length frames + 1). */
  readonly psOffset: Float64Array;
}

const START = Uint8Array.of(0, 0, 0, 1);
/** Largest clip read (the shipped ones are about 1 MB): a replaced file can't make a device allocate without bound. */
const MAX_CLIP_BYTES = 64 * 1024 * 1024;

let directory: string | undefined;

/** The package's `media/` folder, from the source tree (`src/device/media/`) or the bundle (`dist/`). */
export function mediaDirectory(): string {
  if (directory) return directory;
  for (const rel of ['../media/', '../../../media/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}live.h264`)) {
      directory = dir;
      return dir;
    }
  }
  throw new Error(`@cam/ehome: the simulated media (media/live.h264) is missing next to ${import.meta.url}`);
}

function readMedia(name: string): Uint8Array {
  const bytes = readFileSync(`${mediaDirectory()}${name}`);
  if (bytes.length > MAX_CLIP_BYTES) throw new Error(`@cam/ehome: media/${name} is larger than ${MAX_CLIP_BYTES}`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Splits an Annex B elementary stream into access units (a new one at each SPS, AUD or first slice of a picture). */
export function splitAccessUnits(stream: Uint8Array): ClipFrame[] {
  const frames: ClipFrame[] = [];
  let current: Uint8Array[] = [];
  let keyframe = false;
  let hasSlice = false;
  const close = (): void => {
    if (current.length === 0) return;
    let size = 0;
    for (const n of current) size += 4 + n.length;
    const data = new Uint8Array(size);
    let o = 0;
    for (const n of current) {
      data.set(START, o);
      data.set(n, o + 4);
      o += 4 + n.length;
    }
    frames.push({ data, keyframe });
    current = [];
    keyframe = false;
    hasSlice = false;
  };
  for (const nal of nalUnits(stream)) {
    if (nal.length === 0) continue;
    const t = h264NalType(nal);
    const vcl = t >= 1 && t <= 5;
    // first_mb_in_slice is ue(v) right after the header: a leading 1 bit means 0, the first slice of a picture.
    const firstSlice = vcl && nal.length > 1 && (nal[1]! & 0x80) !== 0;
    if (hasSlice && (t === 7 || t === 8 || t === 9 || firstSlice)) close();
    current.push(nal);
    if (vcl) hasSlice = true;
    if (t === 5) keyframe = true;
  }
  close();
  return frames;
}

const clips = new Map<string, Clip>();

/** A shipped clip, read and split on first use. */
export function loadClip(name: 'live' | 'playback'): Clip {
  const cached = clips.get(name);
  if (cached) return cached;
  const frames = splitAccessUnits(readMedia(`${name}.h264`));
  if (frames.length === 0 || !frames[0]!.keyframe) throw new Error(`@cam/ehome: media/${name}.h264 has no IDR first`);
  const psOffset = new Float64Array(frames.length + 1);
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    psOffset[i + 1] = psOffset[i]! + muxPs({ data: f.data, pts: 0, keyframe: f.keyframe }).length;
  }
  const sps = [...nalUnits(frames[0]!.data)].find((nal) => h264NalType(nal) === 7);
  if (!sps) throw new Error(`@cam/ehome: media/${name}.h264 has no SPS first`);
  const { width, height } = parseH264Sps(sps);
  const clip: Clip = { name, frames, width, height, psOffset };
  clips.set(name, clip);
  return clip;
}

/** MPEG-PS bytes of `count` frames of a looped clip starting at frame `first`. */
export function clipPsBytes(clip: Clip, first: number, count: number): number {
  const n = clip.frames.length;
  const whole = Math.floor(count / n);
  const total = clip.psOffset[n]!;
  let bytes = whole * total;
  let from = ((first % n) + n) % n;
  let left = count - whole * n;
  while (left > 0) {
    const take = Math.min(left, n - from);
    bytes += clip.psOffset[from + take]! - clip.psOffset[from]!;
    left -= take;
    from = 0;
  }
  return bytes;
}

/** Clip frame shown at a time of day: the frame of that second of the minute (an IDR). */
export function clipFrameAt(ms: number): number {
  return Math.floor((((ms / 1000) % 60) + 60) % 60) * CLIP_FPS;
}

const pictures = new Map<number, Uint8Array>();

/** A JPEG of the preview scene at `when` (the picture of the even second at or before its second of the minute). */
export function scenePicture(when: Date = new Date()): Uint8Array {
  const second = Math.floor(when.getUTCSeconds() / 2) * 2;
  let jpeg = pictures.get(second);
  if (!jpeg) {
    jpeg = readMedia(`pictures/live-s${String(second).padStart(2, '0')}.jpg`);
    pictures.set(second, jpeg);
  }
  return jpeg;
}

/** The default {@link RecordingSizer}: MPEG-PS bytes of the shipped playback clip from the frame of that second. */
export const playbackClipSizer: RecordingSizer = (startMs, durationMs) =>
  clipPsBytes(loadClip('playback'), clipFrameAt(startMs), Math.round((durationMs / 1000) * CLIP_FPS));
