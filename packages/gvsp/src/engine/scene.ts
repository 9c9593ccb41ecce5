import { pixelFormatInfo } from '@cam/gvcp/codec';
import { ValueOutOfRangeError } from '@cam/net-utils/wire';

/** What the simulated sensor is set to, as the camera's features say. */
export interface SensorSettings {
  sensorWidth: number;
  sensorHeight: number;
  /** Region of the sensor the image is (OffsetX/Y, Width/Height), after ReverseX/Y. */
  width: number;
  height: number;
  offsetX: number;
  offsetY: number;
  pixelFormat: number;
  /** Exposure time, us: the signal grows with it (10 000 us shows the scene at its own brightness). */
  exposureTime: number;
  /** Analog gain, dB: the signal is multiplied by 10^(gain/20). */
  gain: number;
  /** Black level, percent of full scale, added to every pixel. */
  blackLevel: number;
  reverseX: boolean;
  reverseY: boolean;
  /** Instead of the scene, a still test pattern over the whole sensor. */
  testPattern?: 'Black' | 'White' | 'GreyHorizontalRamp' | 'GreyVerticalRamp';
}

/** Exposure at which a pixel reads the scene's own radiance. */
export const REFERENCE_EXPOSURE_US = 10_000;

/** The pixel formats the scene can be sent in. */
export const SCENE_PIXEL_FORMATS = [
  'Mono8',
  'Mono10',
  'Mono12',
  'Mono16',
  'Mono10p',
  'Mono12p',
  'BayerRG8',
  'BayerGR8',
  'BayerGB8',
  'BayerBG8',
  'RGB8',
  'BGR8',
  'YUV422_8',
  'YUV422_8_UYVY',
] as const;

// 3x5 glyphs (rows top to bottom, 3 bits each, MSB left) for the frame counter and the time.
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 7, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 2, 2, 2],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
  ':': [0, 2, 0, 2, 0],
  '.': [0, 0, 0, 0, 2],
  '#': [5, 7, 5, 7, 5],
  ' ': [0, 0, 0, 0, 0],
};

/** Whether the glyph of `ch` has its pixel (col 0..2, row 0..4) set. */
export function glyphPixel(ch: string, col: number, row: number): boolean {
  const g = GLYPHS[ch] ?? GLYPHS[' ']!;
  return ((g[row]! >> (2 - col)) & 1) === 1;
}

// Colour bars of the scene's top band: white, yellow, cyan, green, magenta, red, blue, black.
const BARS: ReadonlyArray<readonly [number, number, number]> = [
  [0.75, 0.75, 0.75],
  [0.75, 0.75, 0],
  [0, 0.75, 0.75],
  [0, 0.75, 0],
  [0.75, 0, 0.75],
  [0.75, 0, 0],
  [0, 0, 0.75],
  [0, 0, 0],
];

/** Where the text sits on the sensor and how large it is. */
export interface TextLayout {
  /** Sensor pixels per glyph pixel. */
  scale: number;
  x: number;
  y: number;
  lines: [string, string];
}

/** The two text lines of frame `frame` at wall-clock time `timeMs`: `#000123` and `HH:MM:SS.mmm` (UTC). */
export function sceneText(frame: number, timeMs: number): [string, string] {
  const d = new Date(timeMs);
  const p = (n: number, w: number): string => String(n).padStart(w, '0');
  return [
    `#${p(frame % 1_000_000, 6)}`,
    `${p(d.getUTCHours(), 2)}:${p(d.getUTCMinutes(), 2)}:${p(d.getUTCSeconds(), 2)}.${p(d.getUTCMilliseconds(), 3)}`,
  ];
}

/** Text placement on a sensor: top left, glyphs about a 40th of the sensor height. */
export function textLayout(sensorHeight: number, frame: number, timeMs: number): TextLayout {
  const scale = Math.max(1, Math.floor(sensorHeight / 200));
  return { scale, x: 2 * scale, y: 2 * scale, lines: sceneText(frame, timeMs) };
}

/**
 * The simulated camera's picture: a scene on the whole sensor (colour bars, a grey ramp, a bright disc moving one
 * step per frame, and the frame counter and time drawn with a 3x5 digit font), seen through the camera's
 * settings: ExposureTime and Gain scale the signal (and clip it), BlackLevel offsets it, ReverseX/Y mirror the
 * sensor, OffsetX/Y and Width/Height cut the image out of it, and the pixel format encodes it (mono 8/10/12/16 bit
 * and 10p/12p packed, Bayer RG/GR/GB/BG 8 from the colour scene, RGB8/BGR8, YUV 4:2:2). Renders into a caller's
 * buffer; allocates only when the size changes.
 */
export class SceneRenderer {
  #rgb = new Float32Array(0);

  /** Bytes of an image in `s`'s size and pixel format (packed formats are packed across lines, as PFNC says). */
  static byteSize(s: Pick<SensorSettings, 'width' | 'height' | 'pixelFormat'>): number {
    const info = pixelFormatInfo(s.pixelFormat);
    if (!info || !(SCENE_PIXEL_FORMATS as readonly string[]).includes(info.name)) {
      throw new ValueOutOfRangeError('pixelFormat', `0x${s.pixelFormat.toString(16)} is not a scene pixel format`);
    }
    return Math.ceil((s.width * s.height * info.bitsPerPixel) / 8);
  }

  /** Renders frame `frame` at wall-clock `timeMs` into `out` (at least {@link byteSize}); returns the bytes written. */
  render(s: SensorSettings, frame: number, timeMs: number, out?: Uint8Array): Uint8Array {
    checkRegion(s);
    const size = SceneRenderer.byteSize(s);
    const buf = out ?? new Uint8Array(size);
    if (buf.byteLength < size) throw new ValueOutOfRangeError('out', `needs ${size} bytes`);
    const name = pixelFormatInfo(s.pixelFormat)!.name;
    const { width, height } = s;
    const n = width * height;
    if (this.#rgb.length < n * 3) this.#rgb = new Float32Array(n * 3);
    const rgb = this.#rgb;
    this.#sense(s, frame, timeMs, rgb);
    const img = buf.subarray(0, size);
    if (name.startsWith('Mono')) {
      const bits = name === 'Mono8' ? 8 : name.startsWith('Mono10') ? 10 : name.startsWith('Mono12') ? 12 : 16;
      const max = 2 ** bits - 1;
      const luma = (i: number): number =>
        Math.round(max * (0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!));
      if (bits === 8) {
        for (let i = 0, j = 0; i < n; i++, j += 3)
          img[i] = Math.round(255 * (0.299 * rgb[j]! + 0.587 * rgb[j + 1]! + 0.114 * rgb[j + 2]!));
        return img;
      }
      if (name.endsWith('p')) packBits(img, n, bits, luma);
      else
        for (let i = 0; i < n; i++) {
          const v = luma(i);
          img[2 * i] = v & 0xff;
          img[2 * i + 1] = v >>> 8;
        }
    } else if (name.startsWith('Bayer')) {
      // the 2x2 colour filter pattern, named from the first two pixels of the first two lines
      const cfa = name.slice(5, 7);
      const pattern = cfa === 'RG' ? 'RGGB' : cfa === 'GR' ? 'GRBG' : cfa === 'GB' ? 'GBRG' : 'BGGR';
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const c = pattern[((y & 1) << 1) | (x & 1)];
          const i = y * width + x;
          img[i] = Math.round(255 * rgb[i * 3 + (c === 'R' ? 0 : c === 'G' ? 1 : 2)]!);
        }
      }
    } else if (name === 'RGB8' || name === 'BGR8') {
      const swap = name === 'BGR8';
      for (let i = 0; i < n; i++) {
        img[3 * i] = Math.round(255 * rgb[i * 3 + (swap ? 2 : 0)]!);
        img[3 * i + 1] = Math.round(255 * rgb[i * 3 + 1]!);
        img[3 * i + 2] = Math.round(255 * rgb[i * 3 + (swap ? 0 : 2)]!);
      }
    } else {
      // YUV 4:2:2 (BT.601, full range): two pixels share U and V. YUV422_8 is Y0 U Y1 V; _UYVY is U Y0 V Y1.
      const uyvy = name === 'YUV422_8_UYVY';
      for (let i = 0; i + 1 < n; i += 2) {
        const [y0, u0, v0] = yuv(rgb, i);
        const [y1, u1, v1] = yuv(rgb, i + 1);
        const u = Math.round((u0 + u1) / 2);
        const v = Math.round((v0 + v1) / 2);
        const o = 2 * i;
        if (uyvy) {
          img[o] = u;
          img[o + 1] = y0;
          img[o + 2] = v;
          img[o + 3] = y1;
        } else {
          img[o] = y0;
          img[o + 1] = u;
          img[o + 2] = y1;
          img[o + 3] = v;
        }
      }
      if (n % 2 === 1) {
        const [y0, u0] = yuv(rgb, n - 1);
        img[2 * (n - 1)] = uyvy ? u0 : y0;
        img[2 * (n - 1) + 1] = uyvy ? y0 : u0;
      }
    }
    return img;
  }

  /** Linear pixel values 0..1 (R, G, B) of the image region after exposure, gain, black level and clipping. */
  #sense(s: SensorSettings, frame: number, timeMs: number, rgb: Float32Array): void {
    const gain = (s.exposureTime / REFERENCE_EXPOSURE_US) * 10 ** (s.gain / 20);
    const black = s.blackLevel / 100;
    const sw = s.sensorWidth;
    const sh = s.sensorHeight;
    const { width, height } = s;
    const sensed = (v: number): number => {
      const x = black + v * gain;
      return Math.min(1, Math.max(0, x));
    };
    // Column by column, what does not depend on the row: the sensor column, its bar colour and its ramp value.
    const sxs = new Int32Array(width);
    for (let x = 0; x < width; x++) sxs[x] = s.reverseX ? sw - 1 - (s.offsetX + x) : s.offsetX + x;
    const pattern = s.testPattern;
    if (pattern !== undefined) {
      // a test pattern replaces the sensor signal: exposure, gain and black level do not apply
      let i = 0;
      for (let y = 0; y < height; y++) {
        const sy = s.reverseY ? sh - 1 - (s.offsetY + y) : s.offsetY + y;
        for (let x = 0; x < width; x++, i += 3) {
          const v =
            pattern === 'White'
              ? 1
              : pattern === 'GreyHorizontalRamp'
                ? sxs[x]! / Math.max(1, sw - 1)
                : pattern === 'GreyVerticalRamp'
                  ? sy / Math.max(1, sh - 1)
                  : 0;
          rgb[i] = v;
          rgb[i + 1] = v;
          rgb[i + 2] = v;
        }
      }
      return;
    }
    const barRow = new Float32Array(width * 3);
    const rampRow = new Float32Array(width * 3);
    for (let x = 0; x < width; x++) {
      const sx = sxs[x]!;
      const bar = BARS[Math.min(7, Math.floor((sx * 8) / sw))]!;
      const g = sensed(0.05 + (0.65 * sx) / Math.max(1, sw - 1)); // a grey ramp from 5% to 70%
      for (let k = 0; k < 3; k++) {
        barRow[x * 3 + k] = sensed(bar[k]!);
        rampRow[x * 3 + k] = g;
      }
    }
    const white = sensed(0.95);
    const dark = sensed(0);
    const lit = sensed(1);
    const text = textLayout(sh, frame, timeMs);
    const barsBottom = Math.floor(sh / 4);
    const discR = Math.max(2, Math.floor(sh / 10));
    const discX = (frame * 4) % sw;
    const discY = Math.floor((sh * 5) / 8);
    // a glyph pixel of margin around two lines of at most 12 characters (4 columns each, 6 rows a line)
    const boxX0 = text.x - text.scale;
    const boxX1 = boxX0 + (12 * 4 + 1) * text.scale;
    const boxY0 = text.y - text.scale;
    const boxY1 = boxY0 + (2 * 6 + 1) * text.scale;
    for (let y = 0; y < height; y++) {
      const sy = s.reverseY ? sh - 1 - (s.offsetY + y) : s.offsetY + y;
      const o = y * width * 3;
      rgb.set(sy < barsBottom ? barRow : rampRow, o);
      const dy = sy - discY;
      if (dy * dy <= discR * discR) {
        const half = Math.sqrt(discR * discR - dy * dy);
        for (let x = 0; x < width; x++) {
          const dx = sxs[x]! - discX;
          if (dx >= -half && dx <= half) rgb.fill(white, o + x * 3, o + x * 3 + 3);
        }
      }
      if (sy >= boxY0 && sy < boxY1) {
        const row = Math.floor((sy - text.y) / text.scale);
        const line = text.lines[Math.floor(row / 6)];
        for (let x = 0; x < width; x++) {
          const sx = sxs[x]!;
          if (sx < boxX0 || sx >= boxX1) continue;
          const col = Math.floor((sx - text.x) / text.scale);
          const ch = line?.[Math.floor(col / 4)];
          const on =
            ch !== undefined && col >= 0 && row >= 0 && col % 4 < 3 && row % 6 < 5 && glyphPixel(ch, col % 4, row % 6);
          rgb.fill(on ? lit : dark, o + x * 3, o + x * 3 + 3);
        }
      }
    }
  }
}

function checkRegion(s: SensorSettings): void {
  const ok =
    Number.isInteger(s.width) &&
    Number.isInteger(s.height) &&
    s.width > 0 &&
    s.height > 0 &&
    s.offsetX >= 0 &&
    s.offsetY >= 0 &&
    s.offsetX + s.width <= s.sensorWidth &&
    s.offsetY + s.height <= s.sensorHeight;
  if (!ok) {
    throw new ValueOutOfRangeError(
      'region',
      `${s.width}x${s.height}+${s.offsetX}+${s.offsetY} is not inside the ${s.sensorWidth}x${s.sensorHeight} sensor`,
    );
  }
}

/** PFNC "p" packing: pixels back to back, least significant bit first, across lines. */
function packBits(out: Uint8Array, n: number, bits: number, value: (i: number) => number): void {
  out.fill(0);
  let bit = 0;
  for (let i = 0; i < n; i++) {
    const v = value(i);
    for (let b = 0; b < bits; ) {
      const byte = bit >>> 3;
      const shift = bit & 7;
      const take = Math.min(8 - shift, bits - b);
      out[byte]! |= ((v >>> b) & ((1 << take) - 1)) << shift;
      b += take;
      bit += take;
    }
  }
}

function yuv(rgb: Float32Array, i: number): [number, number, number] {
  const r = 255 * rgb[i * 3]!;
  const g = 255 * rgb[i * 3 + 1]!;
  const b = 255 * rgb[i * 3 + 2]!;
  const y = 0.299 * r + 0.587 * g + 0.114 * b;
  const clip = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  return [clip(y), clip(128 + 0.564 * (b - y)), clip(128 + 0.713 * (r - y))];
}
