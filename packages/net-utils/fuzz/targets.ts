// Fuzz targets of @cam/net-utils: the length-prefixed framer (fed in pieces) and the byte reader.
import type { FuzzTarget } from '../../../test-support/hostile-types.js';
import { ByteReader, ByteWriter, LengthFramer, type LengthFramingOptions, WireError } from '../src/index.js';

const isWireError = (e: unknown): boolean => WireError.isInstance(e);

/** Frames `bodies` with a 2-byte big-endian length after a 2-byte magic (the shape of many TCP protocols). */
function frames(bodies: Uint8Array[], lengthIncludesHeader: boolean, littleEndian: boolean): Uint8Array {
  const w = new ByteWriter(bodies.reduce((n, b) => n + 8 + b.byteLength, 0));
  for (const b of bodies) {
    w.u16(0xcafe);
    const len = b.byteLength + (lengthIncludesHeader ? 8 : 0);
    w.u32(len, littleEndian);
    w.u16(0);
    w.raw(b);
  }
  return w.finish();
}

function framerTarget(name: string, options: LengthFramingOptions, littleEndian: boolean): FuzzTarget {
  return {
    name,
    seeds: () => [
      frames(
        [Uint8Array.of(1, 2, 3), new Uint8Array(100).fill(7), new Uint8Array(0)],
        options.lengthIncludesHeader,
        littleEndian,
      ),
      frames([new Uint8Array(3000).fill(0x55)], options.lengthIncludesHeader, littleEndian),
    ],
    run: (input, cuts) => {
      const framer = new LengthFramer(options);
      let from = 0;
      for (const cut of [...cuts, input.byteLength]) {
        framer.push(input.subarray(from, cut));
        from = cut;
      }
      framer.end();
    },
    isExpectedError: isWireError,
    maxInputBytes: 16 * 1024,
  };
}

const targets: FuzzTarget[] = [
  framerTarget(
    'net-utils LengthFramer (u32 BE body length, magic check)',
    {
      headerSize: 8,
      lengthFieldOffset: 2,
      lengthFieldSize: 4,
      lengthIncludesHeader: false,
      maxFrameSize: 8192,
      validateHeader: (h, at) => {
        if (h[0] !== 0xca || h[1] !== 0xfe) throw new WireError(`bad magic at ${at}`);
      },
    },
    false,
  ),
  framerTarget(
    'net-utils LengthFramer (u32 LE whole length, copies)',
    {
      headerSize: 8,
      lengthFieldOffset: 2,
      lengthFieldSize: 4,
      littleEndian: true,
      lengthIncludesHeader: true,
      lengthAdjustment: 0,
      maxFrameSize: 8192,
      copyWholeFrames: true,
    },
    true,
  ),
  {
    name: 'net-utils ByteReader',
    // a little program: each byte picks the next read, so mutations explore every reader method at every offset
    seeds: () => [Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23)],
    run: (input) => {
      const r = new ByteReader(input);
      for (let step = 0; step < 64 && r.remaining > 0; step++) {
        const op = r.u8();
        switch (op % 8) {
          case 0:
            r.u16();
            break;
          case 1:
            r.u32();
            break;
          case 2:
            r.u64();
            break;
          case 3:
            r.fixedString(op & 0x3f);
            break;
          case 4:
            r.mac();
            break;
          case 5:
            r.bytesView(op >> 2);
            break;
          case 6:
            r.skip(op >> 3);
            break;
          default:
            r.expectEnd();
        }
      }
    },
    isExpectedError: isWireError,
    maxInputBytes: 1024,
  },
];

export default targets;
