import { describe, expect, it } from 'vitest';
import { glyphPixel, PixelFormat, SceneRenderer, type SensorSettings, sceneText, textLayout } from '../src/index.js';

const base: SensorSettings = {
  sensorWidth: 320,
  sensorHeight: 240,
  width: 320,
  height: 240,
  offsetX: 0,
  offsetY: 0,
  pixelFormat: PixelFormat.Mono8,
  exposureTime: 10_000,
  gain: 0,
  blackLevel: 0,
  reverseX: false,
  reverseY: false,
};
const T = Date.UTC(2026, 11, 7, 15, 21, 7, 123);

function render(over: Partial<SensorSettings> = {}, frame = 7): Uint8Array {
  return new SceneRenderer().render({ ...base, ...over }, frame, T);
}

const mean = (b: Uint8Array): number => b.reduce((a, v) => a + v, 0) / b.length;

/** Pixel (x, y) of a Mono8 image `w` wide. */
const px = (img: Uint8Array, w: number, x: number, y: number): number => img[y * w + x]!;

/** Unpacks PFNC "p" pixels (LSB first, across lines), independently of the packer. */
function unpack(bytes: Uint8Array, bits: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let b = 0; b < bits; b++) {
      const bit = i * bits + b;
      v |= ((bytes[bit >> 3]! >> (bit & 7)) & 1) << b;
    }
    out.push(v);
  }
  return out;
}

describe('SceneRenderer: the simulated sensor', () => {
  it('gets brighter with ExposureTime and Gain, saturates, and BlackLevel lifts the darkest pixels', () => {
    const m = (o: Partial<SensorSettings>): number => mean(render(o));
    expect(m({ exposureTime: 5000 })).toBeLessThan(m({}));
    expect(m({ exposureTime: 20_000 })).toBeGreaterThan(m({}));
    expect(m({ gain: 6 })).toBeGreaterThan(m({}));
    // +6 dB is twice the signal: the same as twice the exposure
    expect(Math.abs(m({ gain: 6.0206 }) - m({ exposureTime: 20_000 }))).toBeLessThan(0.5);
    expect(m({ exposureTime: 10, gain: 0 })).toBeLessThan(2);
    expect(m({ exposureTime: 10_000_000 })).toBeGreaterThan(200);
    const dark = render({ exposureTime: 10 });
    const lifted = render({ exposureTime: 10, blackLevel: 10 });
    expect(Math.min(...dark)).toBe(0);
    expect(Math.min(...lifted)).toBe(Math.round(0.1 * 255));
  });

  it('moves from frame to frame and draws the frame counter and the time', () => {
    const a = render({}, 7);
    const b = render({}, 8);
    expect(Buffer.compare(a, b)).not.toBe(0);
    expect(sceneText(123, T)).toEqual(['#000123', '15:21:07.123']);
    // read the text back with the font: every glyph pixel of both lines is where the layout puts it
    const img = render({}, 123);
    const t = textLayout(base.sensorHeight, 123, T);
    t.lines.forEach((line, l) => {
      for (let c = 0; c < line.length; c++) {
        for (let row = 0; row < 5; row++) {
          for (let col = 0; col < 3; col++) {
            const x = t.x + (c * 4 + col) * t.scale;
            const y = t.y + (l * 6 + row) * t.scale;
            expect(px(img, base.width, x, y) > 128, `${line}[${c}] ${col},${row}`).toBe(glyphPixel(line[c]!, col, row));
          }
        }
      }
    });
  });

  it('cuts Width x Height at OffsetX/Y out of the sensor, and ReverseX/Y mirror the sensor before the cut', () => {
    const full = render();
    const roi = render({ width: 100, height: 60, offsetX: 30, offsetY: 50 });
    for (let y = 0; y < 60; y++)
      for (let x = 0; x < 100; x++) expect(px(roi, 100, x, y)).toBe(px(full, 320, 30 + x, 50 + y));
    const rx = render({ reverseX: true });
    const ry = render({ reverseY: true });
    for (let y = 0; y < 240; y += 7) {
      for (let x = 0; x < 320; x += 5) {
        expect(px(rx, 320, x, y)).toBe(px(full, 320, 319 - x, y));
        expect(px(ry, 320, x, y)).toBe(px(full, 320, x, 239 - y));
      }
    }
    // the region applies after the flip: the reversed region is a window of the reversed sensor
    const rroi = render({ reverseX: true, width: 64, height: 32, offsetX: 10, offsetY: 20 });
    expect(px(rroi, 64, 0, 0)).toBe(px(rx, 320, 10, 20));
    expect(() => render({ width: 300, offsetX: 30 })).toThrow(/not inside the 320x240 sensor/);
  });

  it('encodes Mono10/12/16 words and Mono10p/12p packed with the same picture as Mono8', () => {
    const m8 = render();
    const n = 320 * 240;
    for (const [name, bits] of [
      ['Mono10', 10],
      ['Mono12', 12],
      ['Mono16', 16],
    ] as const) {
      const img = render({ pixelFormat: PixelFormat[name]! });
      expect(img.byteLength).toBe(2 * n);
      const words = new Uint16Array(img.buffer, img.byteOffset, n); // little-endian host
      for (let i = 0; i < n; i += 97) {
        expect(words[i]!).toBeLessThan(2 ** bits);
        expect(Math.abs(words[i]! / (2 ** bits - 1) - m8[i]! / 255)).toBeLessThan(0.003);
      }
    }
    for (const [name, unpacked, bits] of [
      ['Mono10p', 'Mono10', 10],
      ['Mono12p', 'Mono12', 12],
    ] as const) {
      const packed = render({ pixelFormat: PixelFormat[name]! });
      expect(packed.byteLength).toBe((n * bits) / 8);
      const words = render({ pixelFormat: PixelFormat[unpacked]! });
      const w = new Uint16Array(words.buffer, words.byteOffset, n);
      expect(unpack(packed, bits, n)).toEqual(Array.from(w));
    }
  });

  it('samples the colour scene through the Bayer filter, and sends RGB8 / BGR8 / YUV422', () => {
    const rgb = render({ pixelFormat: PixelFormat.RGB8 });
    expect(rgb.byteLength).toBe(320 * 240 * 3);
    const at = (x: number, y: number, k: number): number => rgb[(y * 320 + x) * 3 + k]!;
    // a yellow bar (second of eight, top quarter): red and green, no blue
    expect([at(60, 40, 0) > 150, at(60, 40, 1) > 150, at(60, 40, 2)]).toEqual([true, true, 0]);
    const bgr = render({ pixelFormat: PixelFormat.BGR8 });
    expect([bgr[(40 * 320 + 60) * 3]!, bgr[(40 * 320 + 60) * 3 + 2]!]).toEqual([at(60, 40, 2), at(60, 40, 0)]);
    const ch = { R: 0, G: 1, B: 2 } as const;
    for (const [name, cfa] of [
      ['BayerRG8', 'RGGB'],
      ['BayerGR8', 'GRBG'],
      ['BayerGB8', 'GBRG'],
      ['BayerBG8', 'BGGR'],
    ] as const) {
      const img = render({ pixelFormat: PixelFormat[name]! });
      expect(img.byteLength).toBe(320 * 240);
      for (let y = 30; y < 34; y++) {
        for (let x = 40; x < 200; x += 3) {
          const c = cfa[((y & 1) << 1) | (x & 1)] as 'R' | 'G' | 'B';
          expect(img[y * 320 + x], `${name} ${x},${y}`).toBe(at(x, y, ch[c]));
        }
      }
    }
    const yuyv = render({ pixelFormat: PixelFormat.YUV422_8 });
    const uyvy = render({ pixelFormat: PixelFormat.YUV422_8_UYVY });
    expect(yuyv.byteLength).toBe(320 * 240 * 2);
    const m8 = render();
    for (let i = 0; i < 320 * 240; i += 38) {
      // Y of each pixel is its luma; the two layouts carry the same samples in another order
      expect(Math.abs(yuyv[2 * i]! - m8[i]!)).toBeLessThanOrEqual(1);
      expect([uyvy[2 * i + 1], uyvy[2 * i], uyvy[2 * i + 3], uyvy[2 * i + 2]]).toEqual([
        yuyv[2 * i],
        yuyv[2 * i + 1],
        yuyv[2 * i + 2],
        yuyv[2 * i + 3],
      ]);
    }
    // grey has no colour: U and V are 128 in the grey ramp
    const g = (200 * 320 + 100) * 2;
    expect([Math.abs(yuyv[g + 1]! - 128) <= 1, Math.abs(yuyv[g + 3]! - 128) <= 1]).toEqual([true, true]);
  });

  it('draws still test patterns that ignore exposure', () => {
    expect(mean(render({ testPattern: 'Black', exposureTime: 1e6 }))).toBe(0);
    expect(mean(render({ testPattern: 'White', exposureTime: 10 }))).toBe(255);
    const h = render({ testPattern: 'GreyHorizontalRamp' });
    expect([px(h, 320, 0, 100), px(h, 320, 319, 100), px(h, 320, 160, 0)]).toEqual([0, 255, px(h, 320, 160, 239)]);
    expect(() => render({ pixelFormat: 0x01100025 })).toThrow(/not a scene pixel format/);
  });
});
