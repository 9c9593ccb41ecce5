import { imageByteSize, pixelFormatBits, pixelFormatInfo } from '@cam/gvcp/codec';
import { ValueOutOfRangeError } from '@cam/net-utils/wire';

export interface TestPatternRendererOptions {
  width: number;
  height: number;
  pixelFormat: number;
}

/**
 * Draws SFNC TestPattern GreyDiagonalRamp (the TestPattern enumeration of @cam/gvcp/codec) as it moves: a diagonal ramp that shifts by one step per frame, so every frame differs and a
 * misplaced packet shows. Writes into a caller-owned buffer (no allocation per frame).
 */
export class TestPatternRenderer {
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: number;
  readonly byteSize: number;

  constructor(options: TestPatternRendererOptions) {
    const { width, height, pixelFormat } = options;
    if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
      throw new ValueOutOfRangeError('size', `${width}x${height} is not a positive image size`);
    }
    const bits = pixelFormatBits(pixelFormat);
    if (bits === 0) throw new ValueOutOfRangeError('pixelFormat', `0x${pixelFormat.toString(16)} has no pixel size`);
    this.width = width;
    this.height = height;
    this.pixelFormat = pixelFormat;
    this.byteSize = imageByteSize(pixelFormat, width, height);
  }

  /** Fills `out` (at least {@link byteSize} bytes) with frame number `n`; returns the view written. */
  render(n: number, out: Uint8Array = new Uint8Array(this.byteSize)): Uint8Array {
    if (out.byteLength < this.byteSize) throw new ValueOutOfRangeError('out', `needs ${this.byteSize} bytes`);
    const { width, height } = this;
    const info = pixelFormatInfo(this.pixelFormat);
    const bits = pixelFormatBits(this.pixelFormat);
    const shift = n & 0xffff;
    if (info?.family === 'rgb' && bits === 24) {
      const bgr = info.name.startsWith('BGR');
      let o = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const r = (x + shift) & 0xff;
          const g = (y + shift) & 0xff;
          const b = (x + y) & 0xff;
          out[o++] = bgr ? b : r;
          out[o++] = g;
          out[o++] = bgr ? r : b;
        }
      }
    } else if (info?.family === 'rgb' && bits === 32) {
      let o = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          out[o++] = (x + shift) & 0xff;
          out[o++] = (y + shift) & 0xff;
          out[o++] = (x + y) & 0xff;
          out[o++] = 0xff;
        }
      }
    } else if (bits === 16 && info?.wordPixels) {
      // 10..16-bit pixels in 16-bit little-endian words, values within the format's range
      const max = info.name.includes('10')
        ? 0x3ff
        : info.name.includes('12')
          ? 0xfff
          : info.name.includes('14')
            ? 0x3fff
            : 0xffff;
      let o = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const v = ((x + y + shift) * 37) & max;
          out[o++] = v & 0xff;
          out[o++] = v >>> 8;
        }
      }
    } else if (bits === 8) {
      // one row of the ramp, then each row is the previous shifted by one: cheap even at high rates
      for (let x = 0; x < width; x++) out[x] = (x + shift) & 0xff;
      for (let y = 1; y < height; y++) {
        const o = y * width;
        out.copyWithin(o, o - width + 1, o);
        out[o + width - 1] = (width - 1 + y + shift) & 0xff;
      }
    } else {
      // any other layout: a byte ramp over the whole buffer
      for (let i = 0; i < this.byteSize; i++) out[i] = (i + shift) & 0xff;
    }
    return out.subarray(0, this.byteSize);
  }
}
