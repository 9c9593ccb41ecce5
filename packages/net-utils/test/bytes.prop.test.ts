import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  ByteReader,
  ByteWriter,
  bytesToMac,
  fromHex,
  ipv4ToU32,
  MalformedError,
  macFromHighLow,
  macToBytes,
  macToHighLow,
  TruncatedError,
  toHex,
  u32ToIpv4,
  WireError,
} from '../src/index.js';

/** One field of every type the reader and writer know, with a random value. */
type Field =
  | { t: 'u8' | 'i8'; v: number }
  | { t: 'u16' | 'i16' | 'u32' | 'i32' | 'f64'; v: number; le: boolean }
  | { t: 'f32'; v: number; le: boolean }
  | { t: 'u64' | 'i64'; v: bigint; le: boolean }
  | { t: 'str'; v: string; size: number; enc: 'utf-8' | 'latin1' }
  | { t: 'ipv4'; v: string }
  | { t: 'mac'; v: string }
  | { t: 'raw'; v: Uint8Array };

const le = fc.boolean();
const hexByte = fc.integer({ min: 0, max: 255 }).map((b) => b.toString(16).padStart(2, '0'));
const field: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ t: fc.constant('u8' as const), v: fc.integer({ min: 0, max: 0xff }) }),
  fc.record({ t: fc.constant('i8' as const), v: fc.integer({ min: -0x80, max: 0x7f }) }),
  fc.record({ t: fc.constant('u16' as const), v: fc.integer({ min: 0, max: 0xffff }), le }),
  fc.record({ t: fc.constant('i16' as const), v: fc.integer({ min: -0x8000, max: 0x7fff }), le }),
  fc.record({ t: fc.constant('u32' as const), v: fc.integer({ min: 0, max: 0xffffffff }), le }),
  fc.record({ t: fc.constant('i32' as const), v: fc.integer({ min: -0x80000000, max: 0x7fffffff }), le }),
  fc.record({ t: fc.constant('u64' as const), v: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), le }),
  fc.record({ t: fc.constant('i64' as const), v: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), le }),
  fc.record({ t: fc.constant('f32' as const), v: fc.float({ noNaN: true }), le }),
  fc.record({ t: fc.constant('f64' as const), v: fc.double({ noNaN: true }), le }),
  fc
    .record({
      enc: fc.constantFrom('utf-8' as const, 'latin1' as const),
      v: fc.string({ maxLength: 16, unit: 'grapheme' }),
      pad: fc.integer({ min: 0, max: 8 }),
    })
    .map(({ enc, v, pad }) => {
      // Strings end at the first NUL; latin1 only holds U+0000..U+00FF.
      const s = enc === 'latin1' ? [...v].filter((c) => c.charCodeAt(0) <= 0xff && c.length === 1).join('') : v;
      const clean = s.replaceAll('\0', '');
      const bytes = enc === 'latin1' ? clean.length : new TextEncoder().encode(clean).byteLength;
      return { t: 'str' as const, v: clean, size: bytes + pad, enc };
    }),
  fc.ipV4().map((v) => ({ t: 'ipv4' as const, v })),
  fc.array(hexByte, { minLength: 6, maxLength: 6 }).map((b) => ({ t: 'mac' as const, v: b.join(':') })),
  fc.uint8Array({ maxLength: 32 }).map((v) => ({ t: 'raw' as const, v })),
);

function sizeOf(f: Field): number {
  switch (f.t) {
    case 'u8':
    case 'i8':
      return 1;
    case 'u16':
    case 'i16':
      return 2;
    case 'u32':
    case 'i32':
    case 'f32':
    case 'ipv4':
      return 4;
    case 'u64':
    case 'i64':
    case 'f64':
      return 8;
    case 'mac':
      return 6;
    case 'str':
      return f.size;
    case 'raw':
      return f.v.byteLength;
  }
}

function write(w: ByteWriter, f: Field): void {
  switch (f.t) {
    case 'u8':
      w.u8(f.v);
      break;
    case 'i8':
      w.i8(f.v);
      break;
    case 'u16':
      w.u16(f.v, f.le);
      break;
    case 'i16':
      w.i16(f.v, f.le);
      break;
    case 'u32':
      w.u32(f.v, f.le);
      break;
    case 'i32':
      w.i32(f.v, f.le);
      break;
    case 'u64':
      w.u64(f.v, f.le);
      break;
    case 'i64':
      w.i64(f.v, f.le);
      break;
    case 'f32':
      w.f32(f.v, f.le);
      break;
    case 'f64':
      w.f64(f.v, f.le);
      break;
    case 'str':
      w.fixedString(f.v, f.size, { encoding: f.enc });
      break;
    case 'ipv4':
      w.ipv4(f.v);
      break;
    case 'mac':
      w.mac(f.v);
      break;
    case 'raw':
      w.raw(f.v);
      break;
  }
}

function read(r: ByteReader, f: Field): unknown {
  switch (f.t) {
    case 'u8':
      return r.u8();
    case 'i8':
      return r.i8();
    case 'u16':
      return r.u16(f.le);
    case 'i16':
      return r.i16(f.le);
    case 'u32':
      return r.u32(f.le);
    case 'i32':
      return r.i32(f.le);
    case 'u64':
      return r.u64(f.le);
    case 'i64':
      return r.i64(f.le);
    case 'f32':
      return r.f32(f.le);
    case 'f64':
      return r.f64(f.le);
    case 'str':
      return r.fixedString(f.size, f.enc);
    case 'ipv4':
      return r.ipv4();
    case 'mac':
      return r.mac();
    case 'raw':
      return r.bytesCopy(f.v.byteLength);
  }
}

function expected(f: Field): unknown {
  if (f.t === 'f32') return Math.fround(f.v);
  if (f.t === 'mac') return f.v.toLowerCase();
  return f.v;
}

describe('ByteReader / ByteWriter round trips', () => {
  test.prop([fc.array(field, { maxLength: 24 }), fc.integer({ min: 0, max: 16 }), fc.boolean()])(
    'every field reads back what was written, at any offset inside a larger buffer',
    (fields, pad, defaultLe) => {
      const total = fields.reduce((n, f) => n + sizeOf(f), 0);
      // A view that does not start at byte 0 of its ArrayBuffer, like a pooled Buffer.
      const backing = new Uint8Array(pad + total + pad);
      const target = backing.subarray(pad, pad + total);
      const w = new ByteWriter(target, 0, { littleEndian: defaultLe });
      for (const f of fields) write(w, f);
      expect(w.offset).toBe(total);
      expect(w.finish().byteLength).toBe(total);
      const r = new ByteReader(target, 0, { littleEndian: defaultLe });
      for (const f of fields) expect(read(r, f)).toEqual(expected(f));
      r.expectEnd();
    },
  );

  test.prop([fc.integer({ min: 0, max: 0xffffffff })])('u32 default byte order follows the option', (v) => {
    const be = new ByteWriter(4).u32(v).finish();
    const leBytes = new ByteWriter(4, 0, { littleEndian: true }).u32(v).finish();
    expect([...leBytes]).toEqual([...be].reverse());
    expect(new ByteReader(be).u32()).toBe(v);
    expect(new ByteReader(leBytes, 0, { littleEndian: true }).u32()).toBe(v);
    expect(new DataView(be.buffer).getUint32(0, false)).toBe(v);
  });

  test.prop([fc.double()])('f64 keeps NaN and signed zero', (v) => {
    const b = new ByteWriter(8).f64(v).finish();
    expect(Object.is(new ByteReader(b).f64(), v)).toBe(true);
  });
});

describe('bounds checks', () => {
  const readers: Array<[string, number, (r: ByteReader) => unknown]> = [
    ['u8', 1, (r) => r.u8()],
    ['i8', 1, (r) => r.i8()],
    ['u16', 2, (r) => r.u16()],
    ['i16', 2, (r) => r.i16()],
    ['u32', 4, (r) => r.u32()],
    ['i32', 4, (r) => r.i32()],
    ['u64', 8, (r) => r.u64()],
    ['i64', 8, (r) => r.i64()],
    ['f32', 4, (r) => r.f32()],
    ['f64', 8, (r) => r.f64()],
    ['ipv4', 4, (r) => r.ipv4()],
    ['mac', 6, (r) => r.mac()],
    ['fixedString(5)', 5, (r) => r.fixedString(5)],
    ['bytesView(7)', 7, (r) => r.bytesView(7)],
    ['bytesCopy(3)', 3, (r) => r.bytesCopy(3)],
    ['skip(9)', 9, (r) => r.skip(9)],
  ];

  test.prop([fc.constantFrom(...readers), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 })])(
    'a read past the end throws TruncatedError with the offset and bytes needed, and does not move the cursor',
    ([, size, readOne], length, start) => {
      fc.pre(start <= length);
      const r = new ByteReader(new Uint8Array(length), start);
      if (length - start >= size) {
        readOne(r);
        expect(r.offset).toBe(start + size);
        return;
      }
      let error: unknown;
      try {
        readOne(r);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TruncatedError);
      const t = error as TruncatedError;
      expect(t.name).toBe('TruncatedError');
      expect(t.offset).toBe(start);
      expect(t.needed).toBe(size);
      expect(t.available).toBe(length - start);
      expect(r.offset).toBe(start);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 64 }), fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 20 })])(
    'any sequence of reads over any bytes yields values or a typed error',
    (bytes, ops) => {
      const r = new ByteReader(bytes);
      try {
        for (const op of ops) readers[op]![2](r);
      } catch (e) {
        expect(WireError.isInstance(e)).toBe(true);
      }
      expect(r.offset).toBeLessThanOrEqual(bytes.byteLength);
    },
  );
});

describe('address helpers', () => {
  test.prop([fc.ipV4()])('ipv4ToU32 and u32ToIpv4 are inverse', (ip) => {
    expect(u32ToIpv4(ipv4ToU32(ip))).toBe(ip);
  });
  test.prop([fc.integer({ min: 0, max: 0xffffffff })])('u32 -> dotted -> u32', (v) => {
    expect(ipv4ToU32(u32ToIpv4(v))).toBe(v);
  });
  test.prop([fc.uint8Array({ minLength: 6, maxLength: 6 })])('MAC bytes <-> string <-> high/low', (b) => {
    const s = bytesToMac(b);
    expect(s).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(macToBytes(s)).toEqual(b);
    expect(macToBytes(s.toUpperCase().replaceAll(':', '-'))).toEqual(b);
    const { high, low } = macToHighLow(b);
    expect(high).toBeLessThanOrEqual(0xffff);
    expect(macFromHighLow(high, low)).toBe(s);
  });
  test.prop([fc.uint8Array({ maxLength: 64 })])('hex round trip', (b) => {
    expect(fromHex(toHex(b))).toEqual(b);
  });
  test.prop([fc.string({ maxLength: 20 })])('ipv4ToU32 accepts only dotted quads', (s) => {
    try {
      const v = ipv4ToU32(s);
      expect(u32ToIpv4(v).split('.').map(Number)).toEqual(s.split('.').map(Number));
    } catch (e) {
      expect(e).toBeInstanceOf(MalformedError);
    }
  });
});
