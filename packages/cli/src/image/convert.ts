/**
 * Pixel conversion for display and files: every GigE Vision pixel layout the CLI (and a browser viewer) shows goes
 * through here. Pure TypeScript: no `node:` import, no I/O, so it bundles for a browser.
 *
 * Output is one of three display layouts: 8-bit grey, 16-bit grey (10..16-bit sensors scaled to the full 16-bit
 * range by bit replication, `significantBits` telling the sensor's depth, for PNG sBIT) and 8-bit RGB.
 */

/** A frame as received: PFNC pixel format name (`Mono12`, `BayerRG8`, `YUV422_8_UYVY`, ...) and its bytes. */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: string;
  readonly data: Uint8Array;
  /** Bytes of padding at the end of each line (GVSP leader padding_x). */
  readonly paddingX?: number;
}

/** A frame ready to display or encode. */
export type DisplayImage =
  | { readonly kind: 'gray8'; readonly width: number; readonly height: number; readonly pixels: Uint8Array }
  | {
      readonly kind: 'gray16';
      readonly width: number;
      readonly height: number;
      /** Samples scaled to 0..65535. */
      readonly pixels: Uint16Array;
      /** The sensor's bit depth (10, 12, 14 or 16): what PNG sBIT records. */
      readonly significantBits: number;
    }
  | { readonly kind: 'rgb8'; readonly width: number; readonly height: number; readonly pixels: Uint8Array };

/** The pixel format cannot be converted (unknown, planar, or the bytes are too few for the size). */
export class UnsupportedPixelFormatError extends Error {
  override readonly name = 'UnsupportedPixelFormatError';
}

/** How the samples of a one-channel format are stored. */
type SampleLayout =
  | { kind: 'u8' }
  | { kind: 'u16le'; bits: number }
  /** PFNC `...p`: a little-endian bit stream, LSB first, `bits` per pixel. */
  | { kind: 'lsbPacked'; bits: 10 | 12 }
  /** GigE Vision `...Packed`: two pixels in three bytes, the high bits in bytes 0 and 2. */
  | { kind: 'gevPacked'; bits: 10 | 12 };

const BAYER = /^Bayer(RG|GR|GB|BG)(8|10|12|16)(p|Packed)?$/;
const MONO = /^Mono(8|10|12|14|16)(p|Packed)?$/;

function layoutOf(depth: number, packing: string | undefined): SampleLayout | undefined {
  if (packing === undefined) return depth === 8 ? { kind: 'u8' } : { kind: 'u16le', bits: depth };
  if (depth !== 10 && depth !== 12) return undefined;
  return packing === 'p' ? { kind: 'lsbPacked', bits: depth } : { kind: 'gevPacked', bits: depth };
}

/** True when {@link toDisplayImage} can convert this pixel format. */
export function canDisplay(pixelFormat: string): boolean {
  const m = MONO.exec(pixelFormat) ?? BAYER.exec(pixelFormat);
  if (m) return layoutOf(Number(m[m.length - 2]), m[m.length - 1]) !== undefined;
  return pixelFormat in RGB_LAYOUTS || pixelFormat in YUV422_LAYOUTS;
}

/** Converts a received frame for display: grey stays grey (deep grey scaled), Bayer is demosaiced, YUV becomes RGB. */
export function toDisplayImage(image: RawImage): DisplayImage {
  const { width, height, pixelFormat } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0)
    throw new UnsupportedPixelFormatError(`image size ${width}x${height} is not positive`);
  const mono = MONO.exec(pixelFormat);
  if (mono) {
    const depth = Number(mono[1]);
    const layout = layoutOf(depth, mono[2]);
    if (!layout) throw new UnsupportedPixelFormatError(`${pixelFormat} is not supported`);
    const samples = readSamples(image, layout);
    if (depth === 8) return { kind: 'gray8', width, height, pixels: samples as Uint8Array };
    return { kind: 'gray16', width, height, pixels: scaleTo16(samples as Uint16Array, depth), significantBits: depth };
  }
  const bayer = BAYER.exec(pixelFormat);
  if (bayer) {
    const depth = Number(bayer[2]);
    const layout = layoutOf(depth, bayer[3]);
    if (!layout) throw new UnsupportedPixelFormatError(`${pixelFormat} is not supported`);
    const samples = readSamples(image, layout);
    const eight = depth === 8 ? (samples as Uint8Array) : to8(samples as Uint16Array, depth);
    return { kind: 'rgb8', width, height, pixels: demosaicBilinear(eight, width, height, bayer[1] as BayerPattern) };
  }
  const rgb = RGB_LAYOUTS[pixelFormat];
  if (rgb) return { kind: 'rgb8', width, height, pixels: readRgb(image, rgb.order, rgb.bytes) };
  const yuv = YUV422_LAYOUTS[pixelFormat];
  if (yuv) return { kind: 'rgb8', width, height, pixels: yuv422ToRgb(image, yuv) };
  throw new UnsupportedPixelFormatError(`pixel format ${pixelFormat} cannot be converted for display`);
}

// ---------------------------------------------------------------------------------------------------- samples

function lineBytes(width: number, bitsPerPixel: number): number {
  return Math.ceil((width * bitsPerPixel) / 8);
}

function need(image: RawImage, stride: number, last: number): void {
  const total = stride * (image.height - 1) + last;
  if (image.data.byteLength < total)
    throw new UnsupportedPixelFormatError(
      `${image.pixelFormat} ${image.width}x${image.height} needs ${total} bytes, the frame has ${image.data.byteLength}`,
    );
}

/** One sample per pixel: Uint8Array for 8-bit layouts, Uint16Array (sensor values) otherwise. */
export function readSamples(image: RawImage, layout: SampleLayout): Uint8Array | Uint16Array {
  const { width, height, data } = image;
  const pad = image.paddingX ?? 0;
  const bpp = layout.kind === 'u8' ? 8 : layout.kind === 'u16le' ? 16 : layout.bits;
  const used = lineBytes(width, bpp);
  // packed formats run on across lines unless padded; byte-aligned ones are per line
  const stride = used + pad;
  need(image, stride, used);
  if (layout.kind === 'u8') {
    if (pad === 0) return data.subarray(0, width * height);
    const out = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) out.set(data.subarray(y * stride, y * stride + width), y * width);
    return out;
  }
  const out = new Uint16Array(width * height);
  const mask = (1 << layout.bits) - 1;
  if (layout.kind === 'u16le') {
    for (let y = 0; y < height; y++) {
      let o = y * stride;
      for (let x = 0; x < width; x++, o += 2) out[y * width + x] = (data[o]! | (data[o + 1]! << 8)) & mask;
    }
    return out;
  }
  if (pad === 0) {
    unpackRun(data, 0, out, 0, width * height, layout);
    return out;
  }
  for (let y = 0; y < height; y++) unpackRun(data, y * stride, out, y * width, width, layout);
  return out;
}

function unpackRun(
  data: Uint8Array,
  at: number,
  out: Uint16Array,
  to: number,
  count: number,
  layout: { kind: 'lsbPacked' | 'gevPacked'; bits: 10 | 12 },
): void {
  if (layout.kind === 'lsbPacked') {
    const bits = layout.bits;
    const mask = (1 << bits) - 1;
    let bitPos = at * 8;
    for (let i = 0; i < count; i++, bitPos += bits) {
      const byte = bitPos >>> 3;
      const shift = bitPos & 7;
      const word = data[byte]! | ((data[byte + 1] ?? 0) << 8) | ((data[byte + 2] ?? 0) << 16);
      out[to + i] = (word >>> shift) & mask;
    }
    return;
  }
  // GigE Vision Mono12Packed/Mono10Packed: byte 0 = p0 high bits, byte 1 = low bits of p0 (low nibble) and p1
  // (high nibble), byte 2 = p1 high bits
  const low = layout.bits - 8;
  const lowMask = (1 << low) - 1;
  for (let i = 0; i < count; i += 2) {
    const o = at + (i >> 1) * 3;
    const b0 = data[o]!;
    const b1 = data[o + 1]!;
    out[to + i] = (b0 << low) | (b1 & lowMask);
    if (i + 1 < count) out[to + i + 1] = (data[o + 2]! << low) | ((b1 >> 4) & lowMask);
  }
}

/** Sensor values of `bits` bits scaled to 0..65535 by bit replication (max stays max, 0 stays 0). */
export function scaleTo16(samples: Uint16Array, bits: number): Uint16Array {
  if (bits >= 16) return samples;
  const up = 16 - bits;
  const down = bits - up; // >= 0 for the 10..14-bit formats this is used for
  const out = new Uint16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    out[i] = (v << up) | (v >>> down);
  }
  return out;
}

function to8(samples: Uint16Array, bits: number): Uint8Array {
  const out = new Uint8Array(samples.length);
  const shift = bits - 8;
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! >>> shift;
  return out;
}

// ---------------------------------------------------------------------------------------------------- Bayer

export type BayerPattern = 'RG' | 'GR' | 'GB' | 'BG';

/** Colour of each position of the 2x2 tile, row by row. */
const TILES: Record<BayerPattern, string> = { RG: 'RGGB', GR: 'GRBG', GB: 'GBRG', BG: 'BGGR' };

/**
 * Bilinear demosaic of an 8-bit Bayer mosaic to RGB: each missing colour is the mean of the nearest samples of that
 * colour (edges mirrored, which keeps the colour of a neighbour right). Images of one row or column stay grey.
 */
export function demosaicBilinear(mosaic: Uint8Array, width: number, height: number, pattern: BayerPattern): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  if (width < 2 || height < 2) {
    for (let i = 0; i < width * height; i++) out.fill(mosaic[i]!, i * 3, i * 3 + 3);
    return out;
  }
  const tile = TILES[pattern];
  const xm = (x: number): number => (x < 0 ? 1 : x >= width ? width - 2 : x);
  const ym = (y: number): number => (y < 0 ? 1 : y >= height ? height - 2 : y);
  const at = (x: number, y: number): number => mosaic[ym(y) * width + xm(x)]!;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = tile[((y & 1) << 1) | (x & 1)];
      const v = mosaic[y * width + x]!;
      const cross = (at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) + 2) >> 2;
      const diag = (at(x - 1, y - 1) + at(x + 1, y - 1) + at(x - 1, y + 1) + at(x + 1, y + 1) + 2) >> 2;
      const horiz = (at(x - 1, y) + at(x + 1, y) + 1) >> 1;
      const vert = (at(x, y - 1) + at(x, y + 1) + 1) >> 1;
      let r: number;
      let g: number;
      let b: number;
      if (c === 'R') [r, g, b] = [v, cross, diag];
      else if (c === 'B') [r, g, b] = [diag, cross, v];
      else {
        // green: the row's other colour is left and right, the column's is above and below
        const rowHasRed = tile[((y & 1) << 1) | ((x + 1) & 1)] === 'R';
        [r, g, b] = rowHasRed ? [horiz, v, vert] : [vert, v, horiz];
      }
      const o = (y * width + x) * 3;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------- RGB, YUV

const RGB_LAYOUTS: Record<string, { order: 'rgb' | 'bgr'; bytes: 3 | 4 }> = {
  RGB8: { order: 'rgb', bytes: 3 },
  RGB8Packed: { order: 'rgb', bytes: 3 },
  BGR8: { order: 'bgr', bytes: 3 },
  BGR8Packed: { order: 'bgr', bytes: 3 },
  RGBa8: { order: 'rgb', bytes: 4 },
  BGRa8: { order: 'bgr', bytes: 4 },
};

function readRgb(image: RawImage, order: 'rgb' | 'bgr', bytes: 3 | 4): Uint8Array {
  const { width, height, data } = image;
  const stride = width * bytes + (image.paddingX ?? 0);
  need(image, stride, width * bytes);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0, i = y * stride, o = y * width * 3; x < width; x++, i += bytes, o += 3) {
      out[o] = data[order === 'rgb' ? i : i + 2]!;
      out[o + 1] = data[i + 1]!;
      out[o + 2] = data[order === 'rgb' ? i + 2 : i]!;
    }
  }
  return out;
}

/** Byte positions of Y0, U, Y1, V in each 4-byte group of two pixels. */
interface Yuv422Layout {
  y0: number;
  u: number;
  y1: number;
  v: number;
}

const YUYV: Yuv422Layout = { y0: 0, u: 1, y1: 2, v: 3 };
const UYVY: Yuv422Layout = { u: 0, y0: 1, v: 2, y1: 3 };
const YUV422_LAYOUTS: Record<string, Yuv422Layout> = {
  YUV422_8: YUYV,
  YCbCr422_8: YUYV,
  YUV422_8_UYVY: UYVY,
  YUV422Packed: UYVY,
  YCbCr422_8_CbYCrY: UYVY,
};

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Full-range BT.601 YUV 4:2:2 to RGB (two pixels share U and V). */
function yuv422ToRgb(image: RawImage, l: Yuv422Layout): Uint8Array {
  const { width, height, data } = image;
  const used = Math.ceil(width / 2) * 4;
  const stride = used + (image.paddingX ?? 0);
  need(image, stride, used);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x += 2) {
      const i = y * stride + x * 2;
      const u = data[i + l.u]! - 128;
      const v = data[i + l.v]! - 128;
      const dr = 1.402 * v;
      const dg = -0.344136 * u - 0.714136 * v;
      const db = 1.772 * u;
      for (let k = 0; k < 2 && x + k < width; k++) {
        const yy = data[i + (k === 0 ? l.y0 : l.y1)]!;
        const o = (y * width + x + k) * 3;
        out[o] = clamp8(yy + dr);
        out[o + 1] = clamp8(yy + dg);
        out[o + 2] = clamp8(yy + db);
      }
    }
  }
  return out;
}

/** RGB to studio-range BT.601 planar Y, Cb, Cr (4:4:4), as YUV4MPEG2 `C444` carries it. */
export function rgbToYuv444Planar(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const r = rgb[i * 3]!;
    const g = rgb[i * 3 + 1]!;
    const b = rgb[i * 3 + 2]!;
    out[i] = clamp8(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
    out[n + i] = clamp8(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
    out[2 * n + i] = clamp8(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
  }
  return out;
}
