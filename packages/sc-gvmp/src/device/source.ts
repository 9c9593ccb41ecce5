import type { PayloadKindCode, PayloadKindName } from '../codec/constants.js';
import { type TestPatternOptions, testPatternJpeg, testPatternRaw } from '../codec/test-pattern.js';

/** One frame handed to the device for sending. */
export interface SourceFrame {
  kind: PayloadKindCode | PayloadKindName;
  /** Sent as is (not copied): do not modify it until the next frame is requested. */
  payload: Uint8Array;
  /** Default: true for JPEG/RAW/YUV, false for H.264/H.265. */
  keyFrame?: boolean;
}

/**
 * Produces frame number `index` (0, 1, 2, ... per stream session). Returning `undefined` ends the source: the
 * device stays connected and sends nothing more.
 */
export type FrameSource = (index: number) => SourceFrame | undefined | Promise<SourceFrame | undefined>;

/** The built-in moving test pattern as JPEG (default) or RAW Mono8. */
export function testPatternSource(payload: 'jpeg' | 'raw' = 'jpeg', options: TestPatternOptions = {}): FrameSource {
  if (payload === 'raw') return (index) => ({ kind: 'RAW', payload: testPatternRaw(index, options) });
  return (index) => ({ kind: 'JPEG', payload: testPatternJpeg(index, options) });
}

/** User-supplied frames: sends `frames` in order, then repeats them when `loop` is true (else ends). */
export function framesSource(frames: readonly SourceFrame[], options: { loop?: boolean } = {}): FrameSource {
  return (index) => {
    if (frames.length === 0) return undefined;
    if (index >= frames.length && !options.loop) return undefined;
    return frames[index % frames.length];
  };
}
