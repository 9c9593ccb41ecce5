/** MSB-first bit writer over a growable byte array (for MPEG-PS headers and H.264 syntax). */
export class BitWriter {
  private buf: Uint8Array;
  private bitPos = 0;

  constructor(initialBytes = 64) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** Bits written so far. */
  get bitLength(): number {
    return this.bitPos;
  }

  /** True when the cursor is on a byte boundary. */
  get aligned(): boolean {
    return (this.bitPos & 7) === 0;
  }

  /** Writes the low `count` bits of `value` (count <= 32), most significant first. */
  bits(value: number, count: number): this {
    for (let i = count - 1; i >= 0; i--) this.bit(Math.floor(value / 2 ** i) & 1);
    return this;
  }

  bit(b: number): this {
    const byte = this.bitPos >>> 3;
    if (byte >= this.buf.length) this.grow();
    if (b) this.buf[byte]! |= 0x80 >>> (this.bitPos & 7);
    this.bitPos++;
    return this;
  }

  /** Unsigned Exp-Golomb code (H.264 ue(v)). */
  ue(value: number): this {
    const v = value + 1;
    const len = 32 - Math.clz32(v);
    this.bits(0, len - 1);
    return this.bits(v, len);
  }

  /** Signed Exp-Golomb code (H.264 se(v)). */
  se(value: number): this {
    return this.ue(value <= 0 ? -2 * value : 2 * value - 1);
  }

  /** Whole bytes (the cursor must be aligned). */
  bytes(data: Uint8Array): this {
    if (!this.aligned) throw new Error('BitWriter.bytes needs byte alignment');
    while ((this.bitPos >>> 3) + data.length > this.buf.length) this.grow();
    this.buf.set(data, this.bitPos >>> 3);
    this.bitPos += data.length * 8;
    return this;
  }

  /** H.264 rbsp_trailing_bits: a 1 then zeros to the byte boundary. */
  trailingBits(): this {
    this.bit(1);
    while (!this.aligned) this.bit(0);
    return this;
  }

  /** Zero bits to the byte boundary. */
  align(): this {
    while (!this.aligned) this.bit(0);
    return this;
  }

  /** The bytes written (the last byte zero-padded). */
  finish(): Uint8Array {
    return this.buf.slice(0, (this.bitPos + 7) >>> 3);
  }

  private grow(): void {
    const next = new Uint8Array(this.buf.length * 2);
    next.set(this.buf);
    this.buf = next;
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32/MPEG-2 (polynomial 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final xor), as in the PSM. */
export function crc32Mpeg2(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ data[i]!) & 0xff]!) >>> 0;
  return crc >>> 0;
}
