import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  FrameTooLargeError,
  LengthFramer,
  type LengthFramingOptions,
  MalformedError,
  TruncatedError,
  WireError,
} from '../src/index.js';
import { concat, configAndFrames, fieldMax, framingOptions, putLength, rawLength, splitAt } from './framer-helpers.js';

const cuts = fc.array(fc.nat({ max: 8000 }), { maxLength: 40 });

function feedAll(framer: LengthFramer, chunks: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) out.push(...framer.push(c));
  return out;
}

describe('LengthFramer properties', () => {
  test.prop([configAndFrames, cuts])('yields the same frames however the stream is split', ({ o, frames }, cutAt) => {
    const stream = concat(frames);
    const framer = new LengthFramer(o);
    const got = feedAll(framer, splitAt(stream, cutAt));
    expect(got.map((f) => [...f])).toEqual(frames.map((f) => [...f]));
    expect(framer.idle).toBe(true);
    expect(framer.bufferedBytes).toBe(0);
    expect(framer.position).toBe(stream.byteLength);
    framer.end();
  });

  test.prop([configAndFrames, cuts])('pushTo and byte-by-byte feeding agree with one push', ({ o, frames }, cutAt) => {
    const stream = concat(frames);
    const whole = new LengthFramer(o).push(stream);
    const byByte = new LengthFramer(o);
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.byteLength; i++) byByte.pushTo(stream.subarray(i, i + 1), out);
    expect(out.map((f) => [...f])).toEqual(whole.map((f) => [...f]));
    const split = new LengthFramer(o);
    const out2: Uint8Array[] = [];
    for (const c of splitAt(stream, cutAt)) split.pushTo(c, out2);
    expect(out2.length).toBe(frames.length);
  });

  test.prop([framingOptions, fc.integer({ min: 1, max: 1_000_000 }), cuts, fc.boolean()])(
    'an oversize announcement throws FrameTooLargeError without buffering the body',
    (o, over, cutAt, withBody) => {
      const base = (o.lengthIncludesHeader ? 0 : o.headerSize) + (o.lengthAdjustment ?? 0);
      // The largest announcement the length field can carry bounds how far over the limit it can go.
      const total = Math.min(o.maxFrameSize + over, fieldMax(o) + base);
      fc.pre(total > o.maxFrameSize);
      const raw = rawLength(o, total);
      const header = new Uint8Array(o.headerSize).fill(0x5a);
      putLength(o, header, raw);
      // The peer keeps sending the body it announced (up to 4 KiB of it here).
      const body = withBody ? new Uint8Array(Math.min(4096, total - o.headerSize)).fill(0xee) : new Uint8Array(0);
      const framer = new LengthFramer(o);
      let error: unknown;
      for (const chunk of splitAt(concat([header, body]), cutAt)) {
        try {
          expect(framer.push(chunk)).toEqual([]);
        } catch (e) {
          error = e;
          break;
        } finally {
          expect(framer.bufferedBytes).toBeLessThanOrEqual(o.headerSize);
        }
      }
      expect(error).toBeInstanceOf(FrameTooLargeError);
      expect(error).toMatchObject({ size: total, limit: o.maxFrameSize });
      // Poisoned: later input gets the same error, still nothing buffered.
      expect(() => framer.push(body)).toThrow(error as Error);
      expect(framer.bufferedBytes).toBeLessThanOrEqual(o.headerSize);
    },
  );

  test.prop([framingOptions, fc.uint8Array({ maxLength: 2000 }), cuts], { numRuns: 3000 })(
    'random bytes produce only well-formed frames, then at most one typed error',
    (o, bytes, cutAt) => {
      const framer = new LengthFramer(o);
      const frames: Uint8Array[] = [];
      let error: unknown;
      try {
        for (const c of splitAt(bytes, cutAt)) framer.pushTo(c, frames);
        framer.end();
      } catch (e) {
        error = e;
      }
      if (error !== undefined) expect(WireError.isInstance(error)).toBe(true);
      for (const f of frames) {
        expect(f.byteLength).toBeGreaterThanOrEqual(o.headerSize);
        expect(f.byteLength).toBeLessThanOrEqual(o.maxFrameSize);
      }
      // The frames are exactly the start of the input, in order.
      const joined = concat(frames);
      expect([...joined]).toEqual([...bytes.subarray(0, joined.byteLength)]);
      if (error === undefined) expect(joined.byteLength).toBe(bytes.byteLength);
    },
  );

  test.prop([configAndFrames, fc.integer({ min: 1, max: 1000 }), cuts])(
    'end() inside a frame throws TruncatedError at the frame start',
    ({ o, frames }, cutBack, cutAt) => {
      fc.pre(frames.length > 0);
      const stream = concat(frames);
      const keep = Math.max(0, stream.byteLength - cutBack);
      // Where does the frame containing byte `keep` start?
      let start = 0;
      let target: Uint8Array | undefined;
      for (const f of frames) {
        if (keep < start + f.byteLength) {
          target = f;
          break;
        }
        start += f.byteLength;
      }
      const framer = new LengthFramer(o);
      const got = feedAll(framer, splitAt(stream.subarray(0, keep), cutAt));
      if (keep === start) {
        expect(framer.idle).toBe(true);
        framer.end();
        return;
      }
      expect(got.length).toBe(frames.indexOf(target!));
      let error: unknown;
      try {
        framer.end();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TruncatedError);
      const t = error as TruncatedError;
      expect(t.offset).toBe(start);
      expect(t.available).toBe(keep - start);
      expect(t.needed).toBe(keep - start < o.headerSize ? o.headerSize : target!.byteLength);
    },
  );

  test.prop([configAndFrames, fc.nat(), cuts])(
    'a validateHeader error propagates, names the frame offset and poisons the framer',
    ({ o, frames }, pick, cutAt) => {
      fc.pre(frames.length > 0);
      const bad = pick % frames.length;
      const marker = o.lengthFieldOffset === 0 ? o.lengthFieldSize : 0;
      fc.pre(marker < o.headerSize);
      const marked = frames.map((f, i) => {
        const c = f.slice();
        c[marker] = i === bad ? 1 : 0;
        return c;
      });
      const seen: number[] = [];
      const opts: LengthFramingOptions = {
        ...o,
        validateHeader: (header, offset) => {
          expect(header.byteLength).toBe(o.headerSize);
          seen.push(offset);
          if (header[marker] === 1) throw new MalformedError(offset + marker, 'bad magic');
        },
      };
      const framer = new LengthFramer(opts);
      const out: Uint8Array[] = [];
      let error: unknown;
      try {
        for (const c of splitAt(concat(marked), cutAt)) framer.pushTo(c, out);
      } catch (e) {
        error = e;
      }
      const badOffset = marked.slice(0, bad).reduce((n, f) => n + f.byteLength, 0);
      expect(error).toBeInstanceOf(MalformedError);
      expect((error as MalformedError).offset).toBe(badOffset + marker);
      expect(out.length).toBe(bad);
      expect(seen.at(-1)).toBe(badOffset);
      expect(() => framer.push(new Uint8Array(1))).toThrow(error as Error);
      expect(() => framer.end()).toThrow(error as Error);
      framer.reset();
      const good = marked[0]!.slice();
      good[marker] = 0;
      expect(framer.push(good).map((f) => [...f])).toEqual([[...good]]);
    },
  );
});
