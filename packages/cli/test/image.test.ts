import { describe, expect, it } from 'vitest';
import { canDisplay, demosaicBilinear, rgbToYuv444Planar, toDisplayImage } from '../src/image/convert.js';
import { encodeNetpbm, encodePng, Y4mWriter } from '../src/image/encode.js';
import { readPng } from './helpers.js';

describe('image conversion (pure, one module for the CLI and a viewer)', () => {
  it('scales Mono12 to the full 16-bit range by bit replication, PNG records sBIT 12', () => {
    const values = [0, 1, 2048, 4095];
    const data = new Uint8Array(8);
    values.forEach((v, i) => {
      data[2 * i] = v & 0xff;
      data[2 * i + 1] = v >> 8;
    });
    const img = toDisplayImage({ width: 2, height: 2, pixelFormat: 'Mono12', data });
    expect(img.kind).toBe('gray16');
    if (img.kind !== 'gray16') return;
    expect([...img.pixels]).toEqual([0, 0x0010 | 0, 0x8000 | 0x8, 0xffff]);
    expect(img.significantBits).toBe(12);
    const { chunks, rows } = readPng(encodePng(img));
    expect(chunks.get('IHDR')![8]).toBe(16);
    expect([...chunks.get('sBIT')!]).toEqual([12]);
    // row 0: filter 0, 0x0000, 0x0010; row 1: filter 0, 0x8008, 0xffff (big-endian)
    expect([...rows]).toEqual([0, 0, 0, 0x00, 0x10, 0, 0x80, 0x08, 0xff, 0xff]);
    // shifting right by 16 - sBIT gives the sensor values back
    expect([0, 0x10, 0x8008, 0xffff].map((v) => v >> 4)).toEqual(values);
  });

  it('unpacks Mono12p and Mono10p (PFNC, LSB first) and Mono12Packed (GigE Vision)', () => {
    // Mono12p: p0 = 0xabc, p1 = 0x123 -> bytes bc 3a 12
    const p12 = toDisplayImage({ width: 2, height: 1, pixelFormat: 'Mono12p', data: Uint8Array.of(0xbc, 0x3a, 0x12) });
    expect(p12.kind === 'gray16' && [...p12.pixels].map((v) => v >> 4)).toEqual([0xabc, 0x123]);
    // Mono10p: 4 pixels 0x3ff, 0x001, 0x200, 0x155 in 5 bytes, LSB first
    let bits = 0n;
    [0x3ff, 0x001, 0x200, 0x155].forEach((v, i) => {
      bits |= BigInt(v) << BigInt(10 * i);
    });
    const bytes = Uint8Array.from({ length: 5 }, (_, i) => Number((bits >> BigInt(8 * i)) & 0xffn));
    const p10 = toDisplayImage({ width: 4, height: 1, pixelFormat: 'Mono10p', data: bytes });
    expect(p10.kind === 'gray16' && [...p10.pixels].map((v) => v >> 6)).toEqual([0x3ff, 0x001, 0x200, 0x155]);
    // Mono12Packed: byte0 = p0 >> 4, byte1 = (p1 & 0xf) << 4 | (p0 & 0xf), byte2 = p1 >> 4
    const gev = toDisplayImage({
      width: 2,
      height: 1,
      pixelFormat: 'Mono12Packed',
      data: Uint8Array.of(0xab, 0x3c, 0x12),
    });
    expect(gev.kind === 'gray16' && [...gev.pixels].map((v) => v >> 4)).toEqual([0xabc, 0x123]);
  });

  it('demosaics every Bayer order of a flat colour back to that colour (bilinear)', () => {
    const [r, g, b] = [200, 100, 50];
    const tiles = { RG: [r, g, g, b], GR: [g, r, b, g], GB: [g, b, r, g], BG: [b, g, g, r] } as const;
    for (const [pattern, tile] of Object.entries(tiles)) {
      const w = 6;
      const h = 4;
      const mosaic = Uint8Array.from(
        { length: w * h },
        (_, i) => tile[((Math.floor(i / w) & 1) << 1) | ((i % w) & 1)]!,
      );
      const img = toDisplayImage({ width: w, height: h, pixelFormat: `Bayer${pattern}8`, data: mosaic });
      expect(img.kind).toBe('rgb8');
      for (let i = 0; i < w * h; i++) expect([...img.pixels.subarray(3 * i, 3 * i + 3)], pattern).toEqual([r, g, b]);
    }
  });

  it('interpolates a Bayer edge from the neighbours of the missing colour', () => {
    // RGGB 4x2: red 0 left, 200 right; the green at (1,0) gets red from its left and right neighbours
    const m = Uint8Array.of(0, 10, 200, 10, 10, 60, 10, 60);
    const rgb = demosaicBilinear(m, 4, 2, 'RG');
    expect(rgb[3]).toBe(100); // (0 + 200) / 2
    expect(rgb[5]).toBe(60); // blue below it
  });

  it('converts RGB8/BGR8/RGBa8 and YUV422 (YUYV, UYVY) to RGB', () => {
    const bgr = toDisplayImage({ width: 1, height: 1, pixelFormat: 'BGR8', data: Uint8Array.of(3, 2, 1) });
    expect([...bgr.pixels]).toEqual([1, 2, 3]);
    const rgba = toDisplayImage({ width: 1, height: 1, pixelFormat: 'RGBa8', data: Uint8Array.of(1, 2, 3, 255) });
    expect([...rgba.pixels]).toEqual([1, 2, 3]);
    // grey: U = V = 128 gives R = G = B = Y
    const yuyv = toDisplayImage({
      width: 2,
      height: 1,
      pixelFormat: 'YUV422_8',
      data: Uint8Array.of(50, 128, 90, 128),
    });
    expect([...yuyv.pixels]).toEqual([50, 50, 50, 90, 90, 90]);
    const uyvy = toDisplayImage({
      width: 2,
      height: 1,
      pixelFormat: 'YUV422_8_UYVY',
      data: Uint8Array.of(128, 50, 128, 90),
    });
    expect([...uyvy.pixels]).toEqual([50, 50, 50, 90, 90, 90]);
    // pure red in full-range BT.601: Y 76, U 85, V 255
    const red = toDisplayImage({ width: 2, height: 1, pixelFormat: 'YUV422_8', data: Uint8Array.of(76, 85, 76, 255) });
    expect(red.pixels[0]).toBeGreaterThan(250);
    expect(red.pixels[1]).toBeLessThan(5);
    expect(red.pixels[2]).toBeLessThan(5);
  });

  it('honours line padding, refuses short frames and unknown formats with a typed error', () => {
    const padded = toDisplayImage({
      width: 2,
      height: 2,
      pixelFormat: 'Mono8',
      data: Uint8Array.of(1, 2, 0, 3, 4),
      paddingX: 1,
    });
    expect([...padded.pixels]).toEqual([1, 2, 3, 4]);
    expect(() => toDisplayImage({ width: 4, height: 4, pixelFormat: 'Mono8', data: new Uint8Array(15) })).toThrow(
      /needs 16 bytes/,
    );
    expect(() => toDisplayImage({ width: 1, height: 1, pixelFormat: 'RGB8_Planar', data: new Uint8Array(3) })).toThrow(
      expect.objectContaining({ name: 'UnsupportedPixelFormatError' }),
    );
    expect(canDisplay('Mono12')).toBe(true);
    expect(canDisplay('BayerGB12p')).toBe(true);
    expect(canDisplay('RGB10_Planar')).toBe(false);
  });

  it('writes PGM/PPM and a YUV4MPEG2 stream whose layout cannot change mid-stream', () => {
    const grey = toDisplayImage({ width: 2, height: 1, pixelFormat: 'Mono8', data: Uint8Array.of(1, 2) });
    expect(encodeNetpbm(grey).toString('latin1')).toBe('P5\n2 1\n255\n\x01\x02');
    const y4m = new Y4mWriter(25);
    const first = Buffer.concat(y4m.frame(grey));
    expect(first.toString('latin1')).toBe('YUV4MPEG2 W2 H1 F25:1 Ip A1:1 Cmono\nFRAME\n\x01\x02');
    expect(Buffer.concat(y4m.frame(grey)).toString('latin1')).toBe('FRAME\n\x01\x02');
    const other = toDisplayImage({ width: 1, height: 1, pixelFormat: 'Mono8', data: Uint8Array.of(1) });
    expect(() => y4m.frame(other)).toThrow(expect.objectContaining({ name: 'Y4mFormatChangeError' }));
    // white RGB -> studio-range Y 235, Cb = Cr = 128
    expect([...rgbToYuv444Planar(Uint8Array.of(255, 255, 255), 1, 1)]).toEqual([235, 128, 128]);
  });

  it('imports no node: module (a browser viewer can bundle it)', async () => {
    const { readFileSync } = await import('node:fs');
    const source = readFileSync(new URL('../src/image/convert.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/from ['"]node:/);
    expect(source).not.toMatch(/^import (?!type)/m);
  });
});
