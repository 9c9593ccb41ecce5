import { ValueOutOfRangeError } from '@cam/net-utils';
import { fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  createFrameFramer,
  decodeFrame,
  encodeFrame,
  FramePool,
  frameBufferClass,
  frameFromFramed,
  type PayloadKindName,
} from '../src/index.js';

/** Fills a lent buffer with a pattern derived from `tag`, so that an overwrite by another lender shows. */
function stamp(bytes: Uint8Array, tag: number): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (tag * 31 + i) & 0xff;
}
function intact(bytes: Uint8Array, tag: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== ((tag * 31 + i) & 0xff)) return false;
  return true;
}

describe('FramePool', () => {
  it('size classes: at least the size, at most 12.5% (or 4 KiB) more, monotonic', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 30 }), (n) => {
        const c = frameBufferClass(n);
        expect(c).toBeGreaterThanOrEqual(n);
        expect(c <= 4096 || c <= n * 1.125).toBe(true);
        expect(frameBufferClass(n + 1)).toBeGreaterThanOrEqual(c);
      }),
    );
    expect(frameBufferClass(8 * 1024 * 1024 + 12)).toBe(9 * 1024 * 1024);
    expect(frameBufferClass(64 * 1024 + 12)).toBe(72 * 1024);
  });

  it('never lends a buffer that is still lent; released buffers come back; pooled bytes stay bounded', () => {
    const op = fc.oneof(
      fc.record({ allocate: fc.integer({ min: 0, max: 40_000 }) }),
      fc.record({ release: fc.nat() }),
      fc.record({ releaseTwice: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), fc.integer({ min: 0, max: 200_000 }), (ops, maxPooledBytes) => {
        const pool = new FramePool({ maxPooledBytes });
        const lent: { bytes: Uint8Array; tag: number }[] = [];
        let tag = 0;
        for (const o of ops) {
          if ('allocate' in o) {
            const bytes = pool.allocate(o.allocate);
            expect(bytes.byteLength).toBe(o.allocate);
            expect(bytes.buffer.byteLength).toBe(frameBufferClass(o.allocate));
            expect(pool.owns(bytes)).toBe(true);
            // No buffer lent twice: every outstanding buffer still holds what its borrower wrote.
            for (const l of lent) expect(l.bytes.buffer).not.toBe(bytes.buffer);
            stamp(bytes, ++tag);
            lent.push({ bytes, tag });
          } else if (lent.length > 0) {
            const i = ('release' in o ? o.release : o.releaseTwice) % lent.length;
            const [l] = lent.splice(i, 1);
            expect(intact(l!.bytes, l!.tag)).toBe(true);
            expect(pool.release(l!.bytes)).toBe(true);
            expect(pool.owns(l!.bytes)).toBe(false);
            if ('releaseTwice' in o) expect(pool.release(l!.bytes)).toBe(false);
          }
          expect(pool.stats.pooledBytes).toBeLessThanOrEqual(maxPooledBytes);
          expect(pool.stats.pooledBytes).toBeGreaterThanOrEqual(0);
        }
        for (const l of lent) expect(intact(l.bytes, l.tag)).toBe(true);
        const s = pool.stats;
        expect(s.allocated + s.reused).toBe(ops.filter((o) => 'allocate' in o).length);
      }),
    );
  });

  it('reuses a released buffer of the same class; ignores foreign buffers', () => {
    const pool = new FramePool({ maxPooledBytes: 1 << 20 });
    const a = pool.allocate(70_000);
    expect(pool.release(new Uint8Array(70_000))).toBe(false);
    expect(pool.release(a)).toBe(true);
    const b = pool.allocate(66_000); // same class (72 KiB)
    expect(b.buffer).toBe(a.buffer);
    expect(pool.stats).toMatchObject({ allocated: 1, reused: 1, released: 1, discarded: 0 });
    pool.release(b.subarray(12)); // any view of the buffer returns it
    expect(pool.stats.pooledBytes).toBe(72 * 1024);
    pool.clear();
    expect(pool.stats.pooledBytes).toBe(0);
    const c = pool.allocate(100);
    pool.close();
    expect(pool.release(c)).toBe(true); // taken back, but not kept
    expect(pool.stats.pooledBytes).toBe(0);
    expect(() => new FramePool({ maxPooledBytes: -1 })).toThrow(ValueOutOfRangeError);
    expect(() => pool.allocate(1.5)).toThrow(ValueOutOfRangeError);
  });

  it('a full pool leaves further released buffers to the GC', () => {
    const pool = new FramePool({ maxPooledBytes: 8192 });
    const bufs = [pool.allocate(4096), pool.allocate(4096), pool.allocate(4096)];
    for (const b of bufs) pool.release(b);
    expect(pool.stats).toMatchObject({ released: 2, discarded: 1, pooledBytes: 8192 });
  });
});

const KINDS: PayloadKindName[] = ['JPEG', 'H264', 'H265', 'RAW', 'YUV'];
const frameArb = fc.record({
  seq: fc.nat({ max: 0xffffffff }),
  kind: fc.constantFrom(...KINDS),
  keyFrame: fc.boolean(),
  payload: fc.uint8Array({ maxLength: 3000 }),
});

describe('pooled framer agrees with the plain decoder', () => {
  it('a stream split anywhere, frames assembled in pooled buffers and released at once, decodes as decodeFrame does', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 3 }),
        (frames, cuts, keep) => {
          const wire = frames.map((f) => encodeFrame(f));
          const expected = wire.map((w) => decodeFrame(w));
          const stream = new Uint8Array(wire.reduce((n, w) => n + w.length, 0));
          let o = 0;
          for (const w of wire) {
            stream.set(w, o);
            o += w.length;
          }
          const pool = new FramePool({ maxPooledBytes: 1 << 20 });
          const framer = createFrameFramer({ maxPayloadLength: 3000, allocate: (n) => pool.allocate(n) });
          const got: { seq: number; flags: number; payload: Uint8Array }[] = [];
          const kept: { index: number; frame: Uint8Array }[] = [];
          let pos = 0;
          for (let i = 0; pos < stream.length; i++) {
            const end = Math.min(stream.length, pos + cuts[i % cuts.length]!);
            for (const raw of framer.push(stream.subarray(pos, end))) {
              const f = frameFromFramed(raw);
              got.push({ seq: f.seq, flags: f.flags, payload: f.payload.slice() });
              // Keep the first `keep` pooled frames unreleased: later frames must not overwrite them.
              if (pool.owns(raw) && kept.length < keep) kept.push({ index: got.length - 1, frame: raw });
              else pool.release(raw);
            }
            pos = end;
          }
          framer.end();
          expect(got).toEqual(expected.map((f) => ({ seq: f.seq, flags: f.flags, payload: f.payload.slice() })));
          for (const k of kept) expect(k.frame).toEqual(wire[k.index]);
        },
      ),
    );
  });
});
