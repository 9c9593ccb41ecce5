import { ValueOutOfRangeError } from '@cam/net-utils/wire';

/**
 * A small, real baseline JPEG encoder for flat-block test patterns: an 8-bit grayscale image whose every 8x8 block
 * has one value. Such blocks have only a DC coefficient, so the entropy-coded data is a DC difference per block and
 * an end-of-block code; any baseline decoder (libjpeg, browsers) reads the result. Used for the device's default
 * test pattern (no image library needed).
 */

export interface FlatJpegOptions {
  /** Image width in pixels, a multiple of 8, 8..65528. */
  width: number;
  /** Image height in pixels, a multiple of 8, 8..65528. */
  height: number;
  /** Value 0..255 of the 8x8 block at column `bx`, row `by`. */
  blockValue: (bx: number, by: number) => number;
  /** Optional COM segment text (ASCII, up to 65533 bytes). */
  comment?: string;
}

// Annex K.3 table K.3: luminance DC differences, categories 0..11.
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
// The AC table needs only end-of-block (run/size 0x00); a one-symbol table codes it as the single bit '0'.
const AC_BITS = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALUES = [0x00];
/** Quantiser 8 for every coefficient: a flat block of value v has DC 8*(v-128), quantised to v-128. */
const QUANT = 8;

/** Canonical Huffman codes (code, length) per symbol from the BITS/HUFFVAL lists (JPEG Annex C). */
function huffmanCodes(bits: number[], values: number[]): Map<number, [number, number]> {
  const codes = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]!; i++) codes.set(values[k++]!, [code++, len]);
    code <<= 1;
  }
  return codes;
}
const DC_CODES = huffmanCodes(DC_BITS, DC_VALUES);
const EOB = huffmanCodes(AC_BITS, AC_VALUES).get(0)!;

/** Accumulates entropy-coded bits MSB first, stuffing 0x00 after every 0xFF byte. */
class BitSink {
  private readonly out: number[];
  private acc = 0;
  private n = 0;
  constructor(out: number[]) {
    this.out = out;
  }
  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >>> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  /** Pads the last byte with 1 bits (as the standard asks). */
  finish(): void {
    while (this.n !== 0) this.write(1, 1);
  }
  private flushByte(): void {
    this.out.push(this.acc);
    if (this.acc === 0xff) this.out.push(0x00);
    this.acc = 0;
    this.n = 0;
  }
}

function segment(out: number[], marker: number, body: number[]): void {
  const len = body.length + 2;
  out.push(0xff, marker, len >> 8, len & 0xff, ...body);
}

/** Encodes a flat-block grayscale baseline JPEG. */
export function encodeFlatJpeg(options: FlatJpegOptions): Uint8Array {
  const { width, height, blockValue } = options;
  for (const [field, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 8 || v > 65528 || v % 8 !== 0) {
      throw new ValueOutOfRangeError(field, `${v} is not a multiple of 8 in 8..65528`);
    }
  }
  const out: number[] = [0xff, 0xd8];
  // APP0 JFIF 1.01, no density unit, aspect 1:1, no thumbnail.
  segment(out, 0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  if (options.comment !== undefined) {
    const text = Array.from(options.comment, (c) => c.charCodeAt(0) & 0x7f);
    if (text.length > 65533) throw new ValueOutOfRangeError('comment', 'longer than 65533 bytes');
    segment(out, 0xfe, text);
  }
  segment(out, 0xdb, [0x00, ...new Array<number>(64).fill(QUANT)]);
  segment(out, 0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
  segment(out, 0xc4, [0x00, ...DC_BITS, ...DC_VALUES, 0x10, ...AC_BITS, ...AC_VALUES]);
  segment(out, 0xda, [1, 1, 0x00, 0, 63, 0]);
  const sink = new BitSink(out);
  let previous = 0;
  for (let by = 0; by < height / 8; by++) {
    for (let bx = 0; bx < width / 8; bx++) {
      const v = blockValue(bx, by);
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new ValueOutOfRangeError('blockValue', `${v} is not 0..255`);
      const dc = v - 128;
      const diff = dc - previous;
      previous = dc;
      const magnitude = Math.abs(diff);
      const category = magnitude === 0 ? 0 : 32 - Math.clz32(magnitude);
      const [code, length] = DC_CODES.get(category)!;
      sink.write(code, length);
      if (category > 0) sink.write(diff >= 0 ? diff : diff + (1 << category) - 1, category);
      sink.write(EOB[0], EOB[1]);
    }
  }
  sink.finish();
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}
