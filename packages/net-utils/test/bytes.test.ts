import { describe, expect, it } from 'vitest';
import {
  BufferTooSmallError,
  ByteReader,
  ByteWriter,
  bytesToMac,
  fromHex,
  ipv4ToU32,
  isIpv4,
  MalformedError,
  macFromHighLow,
  macToBytes,
  macToHighLow,
  TrailingBytesError,
  TruncatedError,
  toHex,
  u32ToIpv4,
  ValueOutOfRangeError,
} from '../src/index.js';

describe('ByteReader', () => {
  it('reads big-endian by default and little-endian on request', () => {
    const b = fromHex('0102 0304 0506 0708');
    expect(new ByteReader(b).u16()).toBe(0x0102);
    expect(new ByteReader(b, 0, { littleEndian: true }).u16()).toBe(0x0201);
    expect(new ByteReader(b).u32(true)).toBe(0x04030201);
    expect(new ByteReader(b).u64()).toBe(0x0102030405060708n);
    expect(new ByteReader(b).u64(true)).toBe(0x0807060504030201n);
  });

  it('reads signed values', () => {
    const b = fromHex('ff fffe fffffffd fffffffffffffffc');
    const r = new ByteReader(b);
    expect(r.i8()).toBe(-1);
    expect(r.i16()).toBe(-2);
    expect(r.i32()).toBe(-3);
    expect(r.i64()).toBe(-4n);
    r.expectEnd();
  });

  it('uses one DataView honouring byteOffset of a pooled Buffer', () => {
    const pooled = Buffer.from('ffffffff0a000001', 'hex');
    const r = new ByteReader(pooled.subarray(4));
    expect(r.view.byteOffset).toBe(pooled.byteOffset + 4);
    expect(r.ipv4()).toBe('10.0.0.1');
  });

  it('fixedString stops at the first NUL; latin1 maps bytes 1:1', () => {
    expect(new ByteReader(fromHex('41420043')).fixedString(4)).toBe('AB');
    expect(new ByteReader(fromHex('414243')).fixedString(3)).toBe('ABC');
    expect(new ByteReader(fromHex('e9ff00')).fixedString(3, 'latin1')).toBe('\u00e9\u00ff');
    expect(new ByteReader(fromHex('c3a900')).fixedString(3)).toBe('\u00e9');
  });

  it('bytesView is a view, bytesCopy a copy', () => {
    const b = fromHex('01020304');
    const r = new ByteReader(b, 1);
    const view = r.bytesView(2);
    const copy = new ByteReader(b, 1).bytesCopy(2);
    b[1] = 0xaa;
    expect(view[0]).toBe(0xaa);
    expect(copy[0]).toBe(2);
    expect(r.rest()).toEqual(Uint8Array.of(4));
    expect(r.remaining).toBe(0);
  });

  it('TruncatedError names offset, needed, available and what', () => {
    const r = new ByteReader(fromHex('0102 03'));
    r.u16();
    expect(() => r.u32(false, 'block id')).toThrowError(
      'truncated block id: needed 4 bytes at offset 2, only 1 available',
    );
    try {
      r.u32(false, 'block id');
    } catch (e) {
      expect(e).toBeInstanceOf(TruncatedError);
      expect(e).toMatchObject({ offset: 2, needed: 4, available: 1 });
    }
    expect(r.offset).toBe(2);
  });

  it('rejects a negative or fractional length as malformed, not as a huge or empty read', () => {
    const r = new ByteReader(new Uint8Array(8));
    expect(() => r.bytesView(-3, 'payload')).toThrow(MalformedError);
    expect(() => r.bytesView(1.5)).toThrow(MalformedError);
    expect(() => r.skip(Number.NaN)).toThrow(MalformedError);
    expect(r.offset).toBe(0);
  });

  it('rejects a start offset outside the input', () => {
    expect(() => new ByteReader(new Uint8Array(2), 3)).toThrow(ValueOutOfRangeError);
    expect(() => new ByteReader(new Uint8Array(2), -1)).toThrow(ValueOutOfRangeError);
    expect(new ByteReader(new Uint8Array(2), 2).remaining).toBe(0);
  });

  it('a cursor moved outside the input by hand gives a typed error', () => {
    const r = new ByteReader(new Uint8Array(4));
    r.offset = -2;
    expect(() => r.u8()).toThrow(MalformedError);
    r.offset = 9;
    expect(() => r.u8()).toThrow(TruncatedError);
  });

  it('expectEnd throws TrailingBytesError with the count', () => {
    const r = new ByteReader(new Uint8Array(5));
    r.u16();
    expect(() => r.expectEnd('ack')).toThrow(TrailingBytesError);
    expect(() => r.expectEnd('ack')).toThrowError('3 unexpected trailing bytes after ack at offset 2');
  });
});

describe('ByteWriter', () => {
  it('writes fields and finish() returns what was written', () => {
    const w = new ByteWriter(17);
    w.u8(1).u16(0x0203).u32(0x04050607, true).ipv4('192.168.0.1').mac('00:11:22:aa:bb:cc');
    expect(toHex(w.finish())).toBe('01' + '0203' + '07060504' + 'c0a80001' + '001122aabbcc');
    expect(w.remaining).toBe(0);
  });

  it('range-checks values', () => {
    const w = new ByteWriter(16);
    expect(() => w.u8(256)).toThrow(ValueOutOfRangeError);
    expect(() => w.u8(-1)).toThrow(ValueOutOfRangeError);
    expect(() => w.u16(1.5)).toThrow(ValueOutOfRangeError);
    expect(() => w.i16(0x8000)).toThrow(ValueOutOfRangeError);
    expect(() => w.u32(2 ** 32)).toThrow(ValueOutOfRangeError);
    expect(() => w.i32(-(2 ** 31) - 1)).toThrow(ValueOutOfRangeError);
    expect(() => w.u64(-1n)).toThrow(ValueOutOfRangeError);
    expect(() => w.u64(2n ** 64n)).toThrow(ValueOutOfRangeError);
    expect(() => w.i64(2n ** 63n)).toThrow(ValueOutOfRangeError);
    expect(() => w.u32(Number.NaN, false, 'packet size')).toThrowError(/^packet size: NaN/);
    expect(w.offset).toBe(0);
  });

  it('bounds-checks every write with BufferTooSmallError', () => {
    const w = new ByteWriter(new Uint8Array(3), 1);
    expect(() => w.u32(1)).toThrow(BufferTooSmallError);
    expect(() => w.u32(1)).toThrowError('output buffer too small: 5 bytes needed, 3 available');
    expect(() => w.raw(new Uint8Array(3))).toThrow(BufferTooSmallError);
    expect(() => w.zeros(-1)).toThrow(ValueOutOfRangeError);
    w.u16(0xffff);
    expect(w.offset).toBe(3);
    expect(() => w.u8(0)).toThrow(BufferTooSmallError);
  });

  it('rejects a bad size or start offset', () => {
    expect(() => new ByteWriter(-1)).toThrow(ValueOutOfRangeError);
    expect(() => new ByteWriter(new Uint8Array(4), 5)).toThrow(ValueOutOfRangeError);
  });

  it('fixedString pads with NULs and refuses what does not fit', () => {
    const w = new ByteWriter(8);
    w.fixedString('ab', 4);
    expect(toHex(w.finish())).toBe('61620000');
    expect(() => w.fixedString('abcde', 4)).toThrow(ValueOutOfRangeError);
    expect(() => w.fixedString('abcd', 4, { requireTerminator: true, field: 'user name' })).toThrowError(
      'user name: 4 bytes do not fit a 4-byte field',
    );
    expect(() => w.fixedString('\u20ac', 4, { encoding: 'latin1' })).toThrow(ValueOutOfRangeError);
    w.fixedString('\u00e9', 4, { encoding: 'latin1' });
    expect(toHex(w.finish().subarray(4))).toBe('e9000000');
  });

  it('rejects a MAC of the wrong length', () => {
    expect(() => new ByteWriter(8).mac(new Uint8Array(5))).toThrow(ValueOutOfRangeError);
    expect(() => new ByteWriter(8).mac('00:11:22:33:44')).toThrow(MalformedError);
  });
});

describe('address helpers', () => {
  it('parses and prints IPv4', () => {
    expect(ipv4ToU32('192.168.1.2')).toBe(0xc0a80102);
    expect(u32ToIpv4(0xffffffff)).toBe('255.255.255.255');
    expect(() => ipv4ToU32('256.1.1.1')).toThrow(MalformedError);
    expect(() => ipv4ToU32('1.2.3')).toThrow(MalformedError);
    expect(() => ipv4ToU32(' 1.2.3.4')).toThrow(MalformedError);
    expect(() => u32ToIpv4(-1)).toThrow(ValueOutOfRangeError);
    expect(isIpv4('10.0.0.1')).toBe(true);
    expect(isIpv4('10.0.0.256')).toBe(false);
    expect(isIpv4('a.b.c.d')).toBe(false);
  });

  it('handles MAC strings, bytes and register halves', () => {
    expect(macToBytes('00-11-22-AA-BB-CC')).toEqual(Uint8Array.of(0, 0x11, 0x22, 0xaa, 0xbb, 0xcc));
    expect(() => macToBytes('001122aabbcc')).toThrow(MalformedError);
    expect(() => bytesToMac(new Uint8Array(5))).toThrow(TruncatedError);
    expect(() => bytesToMac(new Uint8Array(7))).toThrow(MalformedError);
    expect(macToHighLow('00:11:22:aa:bb:cc')).toEqual({ high: 0x0011, low: 0x22aabbcc });
    expect(macFromHighLow(0x0011, 0x22aabbcc)).toBe('00:11:22:aa:bb:cc');
    // The reserved upper half of a raw MAC-high register value is ignored.
    expect(macFromHighLow(0xdead0011, 0x22aabbcc)).toBe('00:11:22:aa:bb:cc');
    expect(() => macFromHighLow(-1, 0)).toThrow(ValueOutOfRangeError);
    expect(() => macToHighLow(new Uint8Array(4))).toThrow(ValueOutOfRangeError);
  });

  it('hex helpers', () => {
    expect(toHex(Uint8Array.of(0, 0xab, 0x10))).toBe('00ab10');
    expect(fromHex('00 AB\n10')).toEqual(Uint8Array.of(0, 0xab, 0x10));
    expect(() => fromHex('abc')).toThrow(MalformedError);
    expect(() => fromHex('zz')).toThrow(MalformedError);
  });
});

describe('copies, not views', () => {
  it('bytesCopy and copyBytes do not alias a Buffer input', async () => {
    const { ByteReader: Reader, copyBytes: copy } = await import('../src/bytes.js');
    const buf = Buffer.from([1, 2, 3, 4]);
    const a = new Reader(buf).bytesCopy(4);
    const b = copy(buf);
    buf[0] = 9;
    expect([...a]).toEqual([1, 2, 3, 4]);
    expect([...b]).toEqual([1, 2, 3, 4]);
  });
});
