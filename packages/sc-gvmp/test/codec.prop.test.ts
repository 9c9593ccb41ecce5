import { WireError } from '@cam/net-utils';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  decodeFrame,
  decodeFrameHeader,
  encodeFrame,
  encodeFrameHeader,
  FrameFlag,
  PayloadKind,
  SC_GVMP_HEADER_SIZE,
  type ScGvmpFrame,
  ScGvmpFrameDecoder,
} from '../src/index.js';

const kind = fc.constantFrom(...Object.values(PayloadKind));
const header = fc.record({
  flags: fc.tuple(kind, fc.integer({ min: 0, max: 7 })).map(([k, hi]) => k | (hi << 4)),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  payloadLength: fc.integer({ min: 0, max: 0xffffffff }),
});
const frame = fc.record({
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  kind,
  keyFrame: fc.boolean(),
  payload: fc.uint8Array({ maxLength: 300 }),
});

describe('properties', () => {
  test.prop([header])('header round trip', (h) => {
    expect(decodeFrameHeader(encodeFrameHeader(h))).toEqual(h);
  });

  test.prop([frame])('frame round trip', (f) => {
    const d = decodeFrame(encodeFrame(f));
    expect(d).toEqual({
      seq: f.seq,
      kind: f.kind,
      keyFrame: f.keyFrame,
      flags: f.kind | (f.keyFrame ? FrameFlag.keyFrame : 0),
      payload: f.payload,
    });
  });

  test.prop([fc.array(frame, { maxLength: 8 }), fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 20 })])(
    'a stream split anywhere yields the same frames',
    (frames, cuts) => {
      const bytes = Buffer.concat(frames.map((f) => encodeFrame(f)));
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const d = new ScGvmpFrameDecoder();
      const out: ScGvmpFrame[] = [];
      let last = 0;
      for (const p of [...points, bytes.length]) {
        d.pushTo(bytes.subarray(last, p), out);
        last = p;
      }
      d.end();
      expect(out.map((f) => [f.seq, f.kind, f.keyFrame, Buffer.from(f.payload).toString('hex')])).toEqual(
        frames.map((f) => [f.seq, f.kind, f.keyFrame, Buffer.from(f.payload).toString('hex')]),
      );
    },
  );

  test.prop([fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 30 }), fc.boolean()], { numRuns: 2000 })(
    'random bytes: whole frames or a typed error, never anything else, never an unbounded buffer',
    (chunks, magicFirst) => {
      const max = 256;
      const d = new ScGvmpFrameDecoder({ maxPayloadLength: max });
      if (magicFirst && chunks[0] && chunks[0].length >= 3) {
        chunks[0][0] = 0x53;
        chunks[0][1] = 0x43;
        chunks[0][2] = 1;
      }
      try {
        for (const c of chunks) {
          for (const f of d.push(c)) expect(f.payload.length).toBeLessThanOrEqual(max);
          expect(d.bufferedBytes).toBeLessThanOrEqual(max + SC_GVMP_HEADER_SIZE);
        }
        d.end();
      } catch (error) {
        expect(WireError.isInstance(error)).toBe(true);
      }
    },
  );

  test.prop([fc.uint8Array({ maxLength: 40 })], { numRuns: 5000 })('decodeFrame: a frame or a typed error', (bytes) => {
    try {
      decodeFrame(bytes, { maxPayloadLength: 64 });
    } catch (error) {
      expect(WireError.isInstance(error)).toBe(true);
    }
  });
});
