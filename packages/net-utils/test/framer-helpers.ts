import { fc } from '@fast-check/vitest';
import type { LengthFramingOptions } from '../src/index.js';

/** A random but valid framing configuration (kept small so properties run fast). */
export const framingOptions: fc.Arbitrary<LengthFramingOptions> = fc
  .record({
    lengthFieldSize: fc.constantFrom(1 as const, 2 as const, 4 as const),
    lengthFieldOffset: fc.integer({ min: 0, max: 6 }),
    extraHeader: fc.integer({ min: 0, max: 6 }),
    littleEndian: fc.boolean(),
    lengthIncludesHeader: fc.boolean(),
    lengthAdjustment: fc.integer({ min: -4, max: 4 }),
    maxBody: fc.integer({ min: 0, max: 600 }),
  })
  .map((c) => {
    const headerSize = c.lengthFieldOffset + c.lengthFieldSize + c.extraHeader;
    return {
      headerSize,
      lengthFieldOffset: c.lengthFieldOffset,
      lengthFieldSize: c.lengthFieldSize,
      littleEndian: c.littleEndian,
      lengthIncludesHeader: c.lengthIncludesHeader,
      lengthAdjustment: c.lengthAdjustment,
      maxFrameSize: headerSize + c.maxBody,
    };
  });

/** The raw length-field value that announces a frame of `total` bytes under `o`. */
export function rawLength(o: LengthFramingOptions, total: number): number {
  return total - (o.lengthIncludesHeader ? 0 : o.headerSize) - (o.lengthAdjustment ?? 0);
}

export function fieldMax(o: LengthFramingOptions): number {
  return o.lengthFieldSize === 4 ? 0xffffffff : 2 ** (8 * o.lengthFieldSize) - 1;
}

/** Writes `raw` into the length field of `header`. */
export function putLength(o: LengthFramingOptions, header: Uint8Array, raw: number): void {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const le = o.littleEndian ?? false;
  if (o.lengthFieldSize === 1) view.setUint8(o.lengthFieldOffset, raw);
  else if (o.lengthFieldSize === 2) view.setUint16(o.lengthFieldOffset, raw, le);
  else view.setUint32(o.lengthFieldOffset, raw, le);
}

/** Frame sizes `total` this configuration can announce (length field range, header, limit). */
export function totalRange(o: LengthFramingOptions): { min: number; max: number } {
  const base = (o.lengthIncludesHeader ? 0 : o.headerSize) + (o.lengthAdjustment ?? 0);
  return { min: Math.max(o.headerSize, base), max: Math.min(o.maxFrameSize, fieldMax(o) + base) };
}

/** A whole frame of `total` bytes with filler from `seed`. */
export function makeFrame(o: LengthFramingOptions, total: number, seed: number): Uint8Array {
  const frame = new Uint8Array(total);
  for (let i = 0; i < total; i++) frame[i] = (seed + i * 31) & 0xff;
  putLength(o, frame, rawLength(o, total));
  return frame;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** `bytes` cut at the given points (any order, duplicates and empty chunks allowed). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.min(bytes.byteLength, c)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  chunks.push(bytes.subarray(prev));
  return chunks;
}

/** A configuration and a list of valid frames for it. */
export const configAndFrames = framingOptions.chain((o) => {
  const { min, max } = totalRange(o);
  if (min > max) return fc.constant({ o, frames: [] as Uint8Array[] });
  return fc
    .array(fc.tuple(fc.integer({ min, max }), fc.integer({ min: 0, max: 255 })), { maxLength: 12 })
    .map((specs) => ({ o, frames: specs.map(([total, seed]) => makeFrame(o, total, seed)) }));
});
