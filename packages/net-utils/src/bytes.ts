import {
  BufferTooSmallError,
  MalformedError,
  TrailingBytesError,
  TruncatedError,
  ValueOutOfRangeError,
} from './errors.js';

/** Options of {@link ByteReader} and {@link ByteWriter}. */
export interface ByteOrderOptions {
  /** Default byte order of multi-byte fields; network order (big-endian) when false or absent. */
  littleEndian?: boolean;
}

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** Text encodings of fixed-size string fields. */
export type FixedStringEncoding = 'utf-8' | 'latin1';

/**
 * Reads typed fields from bytes through one DataView and a cursor; every read is bounds-checked and
 * throws {@link TruncatedError} naming the offset instead of returning garbage.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Cursor, relative to `bytes`. */
  offset: number;
  readonly littleEndian: boolean;
  /** `bytes.byteLength`, cached: the typed-array getter is slow on the hot path. */
  private readonly end: number;

  constructor(bytes: Uint8Array, offset = 0, options: ByteOrderOptions = {}) {
    checkStartOffset(offset, bytes.byteLength);
    this.bytes = bytes;
    this.end = bytes.byteLength;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
    this.littleEndian = options.littleEndian ?? false;
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  /** Bytes left after the cursor. */
  get remaining(): number {
    return this.bytes.byteLength - this.offset;
  }

  /**
   * Throws {@link TruncatedError} unless `n` bytes are left. A negative or fractional `n` (typically a length
   * computed from a bad wire field, like `len - headerSize`) throws {@link MalformedError} instead.
   */
  ensure(n: number, what = 'data'): void {
    const len = this.bytes.byteLength;
    if (n >= 0 && Number.isInteger(n) && this.offset >= 0 && this.offset + n <= len) return;
    if (!Number.isInteger(n) || n < 0) throw new MalformedError(this.offset, `invalid length ${n} for ${what}`);
    if (!Number.isInteger(this.offset) || this.offset < 0) {
      throw new MalformedError(this.offset, `cursor outside the ${len}-byte input while reading ${what}`);
    }
    throw new TruncatedError(this.offset, n, len - this.offset, what);
  }

  skip(n: number, what = 'padding'): this {
    this.ensure(n, what);
    this.offset += n;
    return this;
  }

  u8(what = 'u8'): number {
    const o = this.offset;
    if (!(o >= 0 && o < this.end)) this.ensure(1, what);
    this.offset = o + 1;
    return this.view.getUint8(o);
  }

  i8(what = 'i8'): number {
    const o = this.offset;
    if (!(o >= 0 && o < this.end)) this.ensure(1, what);
    this.offset = o + 1;
    return this.view.getInt8(o);
  }

  u16(littleEndian = this.littleEndian, what = 'u16'): number {
    const o = this.offset;
    if (!(o >= 0 && o + 2 <= this.end)) this.ensure(2, what);
    this.offset = o + 2;
    return this.view.getUint16(o, littleEndian);
  }

  i16(littleEndian = this.littleEndian, what = 'i16'): number {
    const o = this.offset;
    if (!(o >= 0 && o + 2 <= this.end)) this.ensure(2, what);
    this.offset = o + 2;
    return this.view.getInt16(o, littleEndian);
  }

  u32(littleEndian = this.littleEndian, what = 'u32'): number {
    const o = this.offset;
    if (!(o >= 0 && o + 4 <= this.end)) this.ensure(4, what);
    this.offset = o + 4;
    return this.view.getUint32(o, littleEndian);
  }

  i32(littleEndian = this.littleEndian, what = 'i32'): number {
    const o = this.offset;
    if (!(o >= 0 && o + 4 <= this.end)) this.ensure(4, what);
    this.offset = o + 4;
    return this.view.getInt32(o, littleEndian);
  }

  u64(littleEndian = this.littleEndian, what = 'u64'): bigint {
    const o = this.offset;
    if (!(o >= 0 && o + 8 <= this.end)) this.ensure(8, what);
    this.offset = o + 8;
    return this.view.getBigUint64(o, littleEndian);
  }

  i64(littleEndian = this.littleEndian, what = 'i64'): bigint {
    const o = this.offset;
    if (!(o >= 0 && o + 8 <= this.end)) this.ensure(8, what);
    this.offset = o + 8;
    return this.view.getBigInt64(o, littleEndian);
  }

  f32(littleEndian = this.littleEndian, what = 'f32'): number {
    const o = this.offset;
    if (!(o >= 0 && o + 4 <= this.end)) this.ensure(4, what);
    this.offset = o + 4;
    return this.view.getFloat32(o, littleEndian);
  }

  f64(littleEndian = this.littleEndian, what = 'f64'): number {
    const o = this.offset;
    if (!(o >= 0 && o + 8 <= this.end)) this.ensure(8, what);
    this.offset = o + 8;
    return this.view.getFloat64(o, littleEndian);
  }

  /** The next `n` bytes as a view into the input (no copy). */
  bytesView(n: number, what = 'bytes'): Uint8Array {
    this.ensure(n, what);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** The next `n` bytes as a fresh copy, safe to keep after the input is reused. */
  bytesCopy(n: number, what = 'bytes'): Uint8Array {
    return copyBytes(this.bytesView(n, what));
  }

  /** All bytes after the cursor, as a view. */
  rest(): Uint8Array {
    return this.bytesView(this.remaining);
  }

  /** A fixed-size field holding a string padded with NULs; the string ends at the first NUL. */
  fixedString(size: number, encoding: FixedStringEncoding = 'utf-8', what = 'string'): string {
    const field = this.bytesView(size, what);
    let end = field.indexOf(0);
    if (end < 0) end = size;
    return decodeText(field.subarray(0, end), encoding);
  }

  /** An IPv4 address stored as 4 bytes in network order, as a dotted string. */
  ipv4(what = 'IPv4 address'): string {
    return u32ToIpv4(this.u32(false, what));
  }

  /** A 6-byte MAC address as `aa:bb:cc:dd:ee:ff`. */
  mac(what = 'MAC address'): string {
    return bytesToMac(this.bytesView(6, what));
  }

  /** Throws {@link TrailingBytesError} if bytes are left after the cursor. */
  expectEnd(what = 'message'): void {
    if (this.offset !== this.bytes.byteLength) {
      throw new TrailingBytesError(this.offset, this.bytes.byteLength - this.offset, what);
    }
  }
}

function decodeText(bytes: Uint8Array, encoding: FixedStringEncoding): string {
  if (encoding === 'latin1') {
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  return utf8.decode(bytes);
}

/**
 * Writes typed fields into a buffer through one DataView and a cursor. Every write is bounds-checked
 * ({@link BufferTooSmallError}) and every value range-checked ({@link ValueOutOfRangeError}).
 */
export class ByteWriter {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  offset: number;
  readonly littleEndian: boolean;

  /** Writes into `target` from `offset`, or into a new zeroed buffer of `target` bytes. */
  constructor(target: Uint8Array | number, offset = 0, options: ByteOrderOptions = {}) {
    if (typeof target === 'number' && !(Number.isSafeInteger(target) && target >= 0)) {
      throw new ValueOutOfRangeError('buffer size', `${target} is not a byte count`);
    }
    this.bytes = typeof target === 'number' ? new Uint8Array(target) : target;
    checkStartOffset(offset, this.bytes.byteLength);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.offset = offset;
    this.littleEndian = options.littleEndian ?? false;
  }

  get remaining(): number {
    return this.bytes.byteLength - this.offset;
  }

  /** Throws {@link BufferTooSmallError} unless `n` bytes of room are left. */
  ensure(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new ValueOutOfRangeError('length', `${n} is not a byte count`);
    if (!Number.isInteger(this.offset) || this.offset < 0) {
      throw new ValueOutOfRangeError('offset', `cursor ${this.offset} is outside the output buffer`);
    }
    if (this.offset + n > this.bytes.byteLength) {
      throw new BufferTooSmallError(this.offset + n, this.bytes.byteLength);
    }
  }

  u8(value: number, field = 'u8'): this {
    checkInt(value, 0, 0xff, field);
    this.ensure(1);
    this.view.setUint8(this.offset++, value);
    return this;
  }

  i8(value: number, field = 'i8'): this {
    checkInt(value, -0x80, 0x7f, field);
    this.ensure(1);
    this.view.setInt8(this.offset++, value);
    return this;
  }

  u16(value: number, littleEndian = this.littleEndian, field = 'u16'): this {
    checkInt(value, 0, 0xffff, field);
    this.ensure(2);
    this.view.setUint16(this.offset, value, littleEndian);
    this.offset += 2;
    return this;
  }

  i16(value: number, littleEndian = this.littleEndian, field = 'i16'): this {
    checkInt(value, -0x8000, 0x7fff, field);
    this.ensure(2);
    this.view.setInt16(this.offset, value, littleEndian);
    this.offset += 2;
    return this;
  }

  u32(value: number, littleEndian = this.littleEndian, field = 'u32'): this {
    checkInt(value, 0, 0xffffffff, field);
    this.ensure(4);
    this.view.setUint32(this.offset, value, littleEndian);
    this.offset += 4;
    return this;
  }

  i32(value: number, littleEndian = this.littleEndian, field = 'i32'): this {
    checkInt(value, -0x80000000, 0x7fffffff, field);
    this.ensure(4);
    this.view.setInt32(this.offset, value, littleEndian);
    this.offset += 4;
    return this;
  }

  u64(value: bigint, littleEndian = this.littleEndian, field = 'u64'): this {
    if (typeof value !== 'bigint' || value < 0n || value > 0xffffffffffffffffn) {
      throw new ValueOutOfRangeError(field, `${String(value)} is not an unsigned 64-bit integer`);
    }
    this.ensure(8);
    this.view.setBigUint64(this.offset, value, littleEndian);
    this.offset += 8;
    return this;
  }

  i64(value: bigint, littleEndian = this.littleEndian, field = 'i64'): this {
    if (typeof value !== 'bigint' || value < -0x8000000000000000n || value > 0x7fffffffffffffffn) {
      throw new ValueOutOfRangeError(field, `${String(value)} is not a signed 64-bit integer`);
    }
    this.ensure(8);
    this.view.setBigInt64(this.offset, value, littleEndian);
    this.offset += 8;
    return this;
  }

  f32(value: number, littleEndian = this.littleEndian): this {
    checkNumber(value, 'f32');
    this.ensure(4);
    this.view.setFloat32(this.offset, value, littleEndian);
    this.offset += 4;
    return this;
  }

  f64(value: number, littleEndian = this.littleEndian): this {
    checkNumber(value, 'f64');
    this.ensure(8);
    this.view.setFloat64(this.offset, value, littleEndian);
    this.offset += 8;
    return this;
  }

  /** Copies `src` at the cursor. */
  raw(src: Uint8Array): this {
    this.ensure(src.byteLength);
    this.bytes.set(src, this.offset);
    this.offset += src.byteLength;
    return this;
  }

  /** Writes `n` zero bytes. */
  zeros(n: number): this {
    this.ensure(n);
    this.bytes.fill(0, this.offset, this.offset + n);
    this.offset += n;
    return this;
  }

  /**
   * A string in a fixed-size field, padded with NULs. Throws {@link ValueOutOfRangeError} when it does not fit;
   * with `requireTerminator` one byte is kept for the terminating NUL.
   */
  fixedString(
    value: string,
    size: number,
    options: { encoding?: FixedStringEncoding; requireTerminator?: boolean; field?: string } = {},
  ): this {
    const field = options.field ?? 'string';
    const encoded = encodeText(value, options.encoding ?? 'utf-8', field);
    const max = options.requireTerminator ? size - 1 : size;
    if (encoded.byteLength > max) {
      throw new ValueOutOfRangeError(field, `${encoded.byteLength} bytes do not fit a ${size}-byte field`);
    }
    this.ensure(size);
    this.bytes.set(encoded, this.offset);
    this.bytes.fill(0, this.offset + encoded.byteLength, this.offset + size);
    this.offset += size;
    return this;
  }

  /** An IPv4 address (dotted string or u32) as 4 bytes in network order. */
  ipv4(value: string | number, field = 'IPv4 address'): this {
    return this.u32(typeof value === 'number' ? value : ipv4ToU32(value), false, field);
  }

  /** A MAC address (`aa:bb:cc:dd:ee:ff`, `-` separated, or 6 bytes). */
  mac(value: string | Uint8Array): this {
    const b = typeof value === 'string' ? macToBytes(value) : value;
    if (b.byteLength !== 6) throw new ValueOutOfRangeError('MAC address', `needs 6 bytes, got ${b.byteLength}`);
    return this.raw(b);
  }

  /** The bytes written so far (a view from the start of the target to the cursor). */
  finish(): Uint8Array {
    return this.bytes.subarray(0, this.offset);
  }
}

function checkStartOffset(offset: number, length: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset > length) {
    throw new ValueOutOfRangeError('offset', `${offset} is not an offset inside a ${length}-byte buffer`);
  }
}

function checkNumber(value: number, field: string): void {
  if (typeof value !== 'number') throw new ValueOutOfRangeError(field, `${String(value)} is not a number`);
}

function checkInt(value: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValueOutOfRangeError(field, `${String(value)} is not an integer in ${min}..${max}`);
  }
}

function encodeText(value: string, encoding: FixedStringEncoding, field: string): Uint8Array {
  if (encoding === 'utf-8') return utf8Encoder.encode(value);
  const out = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff) throw new ValueOutOfRangeError(field, `character U+${c.toString(16)} is not latin1`);
    out[i] = c;
  }
  return out;
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** `'192.168.1.2'` -> `0xc0a80102`. Throws {@link MalformedError} on anything but four decimal octets. */
export function ipv4ToU32(address: string): number {
  const m = IPV4_RE.exec(address);
  if (!m) throw new MalformedError(0, `"${address}" is not a dotted IPv4 address`);
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) throw new MalformedError(0, `"${address}" has an octet above 255`);
    v = v * 256 + octet;
  }
  return v;
}

/** `0xc0a80102` -> `'192.168.1.2'`. */
export function u32ToIpv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ValueOutOfRangeError('IPv4 address', `${value} is not an unsigned 32-bit integer`);
  }
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** True for a syntactically valid dotted IPv4 address. */
export function isIpv4(address: string): boolean {
  const m = IPV4_RE.exec(address);
  if (!m) return false;
  return m.slice(1).every((o) => Number(o) <= 255);
}

const MAC_RE = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i;

/** `'00:11:22:aa:bb:cc'` (or with `-`) -> 6 bytes. Throws {@link MalformedError} otherwise. */
export function macToBytes(mac: string): Uint8Array {
  const m = MAC_RE.exec(mac.trim());
  if (!m) throw new MalformedError(0, `"${mac}" is not a MAC address like 00:11:22:aa:bb:cc`);
  return Uint8Array.from(m.slice(1, 7), (h) => Number.parseInt(h, 16));
}

/** 6 bytes -> `'00:11:22:aa:bb:cc'` (lower case). */
export function bytesToMac(bytes: Uint8Array): string {
  if (bytes.byteLength < 6) throw new TruncatedError(0, 6, bytes.byteLength, 'MAC address');
  if (bytes.byteLength > 6) throw new MalformedError(6, `a MAC address is 6 bytes, got ${bytes.byteLength}`);
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + bytes[i]!.toString(16).padStart(2, '0');
  return s;
}

/** A MAC address as a 48-bit number (high 16 bits, low 32 bits), the way GigE Vision registers hold it. */
export function macToHighLow(mac: string | Uint8Array): { high: number; low: number } {
  const b = typeof mac === 'string' ? macToBytes(mac) : mac;
  if (b.byteLength !== 6) throw new ValueOutOfRangeError('MAC address', `needs 6 bytes, got ${b.byteLength}`);
  return {
    high: ((b[0]! << 8) | b[1]!) >>> 0,
    low: ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0,
  };
}

/**
 * Inverse of {@link macToHighLow}. Only the low 16 bits of `high` are used (the upper half of a GigE Vision
 * MAC-high register is reserved), so a raw register value can be passed as is.
 */
export function macFromHighLow(high: number, low: number): string {
  checkInt(high, 0, 0xffffffff, 'MAC high');
  checkInt(low, 0, 0xffffffff, 'MAC low');
  return bytesToMac(
    Uint8Array.of((high >>> 8) & 0xff, high & 0xff, low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff),
  );
}

/**
 * A copy of `bytes` in fresh memory. Use it instead of `.slice()`: on a Node Buffer (what sockets deliver),
 * `slice()` returns a view that still aliases the original memory.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out;
}

/** Lower-case hex of bytes, for messages and fixtures. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i]!.toString(16).padStart(2, '0');
  return s;
}

/** Bytes from hex (whitespace ignored). Throws {@link MalformedError} on odd length or non-hex. */
export function fromHex(hex: string): Uint8Array {
  const h = hex.replace(/\s+/g, '');
  if (h.length % 2 !== 0 || /[^0-9a-f]/i.test(h)) throw new MalformedError(0, 'not an even-length hex string');
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}
