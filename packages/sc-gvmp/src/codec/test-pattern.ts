import { ValueOutOfRangeError } from '@cam/net-utils/wire';
import { encodeFlatJpeg } from './jpeg.js';

/** Size of the test pattern image. */
export interface TestPatternOptions {
  /** Multiple of 8; default 320. */
  width?: number;
  /** Multiple of 8; default 240. */
  height?: number;
}

/** Default test pattern geometry (QVGA, Mono8). */
export const TEST_PATTERN_WIDTH = 320;
export const TEST_PATTERN_HEIGHT = 240;

/**
 * Gray value of the 8x8 block (`bx`, `by`) in frame `index`: diagonal bands that move by one step per frame, so
 * successive frames differ and a viewer shows motion.
 */
export function testPatternValue(bx: number, by: number, index: number): number {
  return ((bx + by) * 16 + index * 8) & 0xff;
}

function geometry(options: TestPatternOptions): { width: number; height: number } {
  const width = options.width ?? TEST_PATTERN_WIDTH;
  const height = options.height ?? TEST_PATTERN_HEIGHT;
  for (const [field, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 8 || v > 65528 || v % 8 !== 0) {
      throw new ValueOutOfRangeError(field, `${v} is not a multiple of 8 in 8..65528`);
    }
  }
  return { width, height };
}

/** Frame `index` of the test pattern as a baseline grayscale JPEG (with a COM segment naming the index). */
export function testPatternJpeg(index: number, options: TestPatternOptions = {}): Uint8Array {
  const { width, height } = geometry(options);
  return encodeFlatJpeg({
    width,
    height,
    blockValue: (bx, by) => testPatternValue(bx, by, index),
    comment: `SC_GVMP test pattern frame ${index}`,
  });
}

/** Frame `index` of the test pattern as RAW Mono8 (`width * height` bytes, row-major), the same image as the JPEG. */
export function testPatternRaw(index: number, options: TestPatternOptions = {}): Uint8Array {
  const { width, height } = geometry(options);
  const out = new Uint8Array(width * height);
  const row = new Uint8Array(width);
  for (let by = 0; by < height / 8; by++) {
    for (let bx = 0; bx < width / 8; bx++) row.fill(testPatternValue(bx, by, index), bx * 8, bx * 8 + 8);
    for (let y = by * 8; y < by * 8 + 8; y++) out.set(row, y * width);
  }
  return out;
}
