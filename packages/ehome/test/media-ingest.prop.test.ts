// The ingest fast paths (PES payloads streamed into the access unit, interleaved frames read in place by offsets)
// against simple whole-buffer references: same access units for any split, any offset, any mix of PS units.
import { MalformedError, TruncatedError, ValueOutOfRangeError, WireError } from '@cam/net-utils';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  type AccessUnit,
  isKeyframe,
  type MediaEvent,
  MediaStreamDecoder,
  MediaStreamEncoder,
  muxPs,
  PsDemuxer,
  PsStreamType,
} from '../src/index.js';
import { splitAt } from './helpers.js';

// ---- PS units built by hand (every kind the demuxer meets, not only what muxPs writes) ----

function u16(n: number): number[] {
  return [n >>> 8, n & 0xff];
}

function timestamp(prefix: number, ts: number): number[] {
  const hi = Math.floor(ts / 2 ** 30) & 7;
  const lo = ts % 2 ** 30;
  return [
    (prefix << 4) | (hi << 1) | 1,
    (lo >>> 22) & 0xff,
    (((lo >>> 15) & 0x7f) << 1) | 1,
    (lo >>> 7) & 0xff,
    ((lo & 0x7f) << 1) | 1,
  ];
}

type Unit =
  | { kind: 'pack'; stuffing: number; mpeg1: boolean }
  | { kind: 'system'; body: Uint8Array }
  | { kind: 'psm'; entries: [number, number][] }
  | { kind: 'pes'; id: number; pts?: number; dts?: number; stuffing: number; payload: Uint8Array }
  | { kind: 'other'; id: number; body: Uint8Array }
  | { kind: 'end' };

function unitBytes(u: Unit): Uint8Array {
  switch (u.kind) {
    case 'pack':
      return u.mpeg1
        ? Uint8Array.of(0, 0, 1, 0xba, 0x21, 0, 1, 0, 1, 0x80, 0, 1)
        : Uint8Array.of(
            0,
            0,
            1,
            0xba,
            0x44,
            0,
            4,
            0,
            4,
            1,
            0,
            0,
            3,
            0xf8 | u.stuffing,
            ...Array(u.stuffing).fill(0xff),
          );
    case 'system':
      return Uint8Array.of(0, 0, 1, 0xbb, ...u16(u.body.length), ...u.body);
    case 'psm': {
      const map = u.entries.flatMap(([type, id]) => [type, id, 0, 0]);
      const body = [0x80, 0x01, ...u16(0), ...u16(map.length), ...map, 1, 2, 3, 4];
      return Uint8Array.of(0, 0, 1, 0xbc, ...u16(body.length), ...body);
    }
    case 'pes': {
      const ts = u.pts === undefined ? [] : [...timestamp(u.dts === undefined ? 2 : 3, u.pts)];
      if (u.pts !== undefined && u.dts !== undefined) ts.push(...timestamp(1, u.dts));
      const flags = u.pts === undefined ? 0 : u.dts === undefined ? 0x80 : 0xc0;
      const header = [0x80, flags, ts.length + u.stuffing, ...ts, ...Array(u.stuffing).fill(0xff)];
      const out = new Uint8Array(6 + header.length + u.payload.length);
      out.set([0, 0, 1, u.id, ...u16(header.length + u.payload.length), ...header]);
      out.set(u.payload, 6 + header.length);
      return out;
    }
    case 'other':
      return Uint8Array.of(0, 0, 1, u.id, ...u16(u.body.length), ...u.body);
    case 'end':
      return Uint8Array.of(0, 0, 1, 0xb9);
  }
}

const bytesArb = (max: number) => fc.uint8Array({ maxLength: max });
const unitArb: fc.Arbitrary<Unit> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pack' as const), stuffing: fc.nat(7), mpeg1: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('system' as const), body: bytesArb(20) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('psm' as const),
      entries: fc.array(
        fc.tuple(
          fc.constantFrom(PsStreamType.H264, PsStreamType.H265, PsStreamType.G711A),
          fc.constantFrom(0xe0, 0xc0),
        ),
        { maxLength: 2 },
      ),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record(
      {
        kind: fc.constant('pes' as const),
        id: fc.constantFrom(0xe0, 0xe0, 0xe0, 0xe1, 0xc0),
        pts: fc.constantFrom(0, 3600, 7200, 2 ** 33 - 1),
        dts: fc.constantFrom(0, 3000),
        stuffing: fc.nat(6),
        payload: fc.oneof(bytesArb(40), fc.uint8Array({ minLength: 1000, maxLength: 5000 })),
      },
      { requiredKeys: ['kind', 'id', 'stuffing', 'payload'] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('other' as const),
      id: fc.constantFrom(0xbd, 0xbe, 0xbf),
      body: bytesArb(30),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('end' as const) }) },
);

/** The access units of a whole PS buffer, parsed unit by unit with the documented boundary rule. */
function referenceDemux(ps: Uint8Array): AccessUnit[] {
  const out: AccessUnit[] = [];
  const types = new Map<number, number>();
  let au: { id: number; pts: number | undefined; dts: number | undefined; parts: Uint8Array[] } | undefined;
  const finish = (): void => {
    if (!au || au.parts.every((p) => p.length === 0)) return;
    const data = Uint8Array.from(Buffer.concat(au.parts));
    const streamType = types.get(au.id);
    const codec = streamType === PsStreamType.H264 ? 'h264' : streamType === PsStreamType.H265 ? 'h265' : 'unknown';
    out.push({
      kind: 'video',
      streamId: au.id,
      streamType,
      codec,
      pts: au.pts,
      dts: au.dts,
      keyframe: codec === 'unknown' ? false : isKeyframe(data, codec),
      data,
    });
    au = undefined;
  };
  const ts = (p: number): number =>
    ((ps[p]! >>> 1) & 7) * 2 ** 30 +
    ps[p + 1]! * 2 ** 22 +
    (ps[p + 2]! >>> 1) * 2 ** 15 +
    ps[p + 3]! * 2 ** 7 +
    (ps[p + 4]! >>> 1);
  let s = 0;
  while (s < ps.length) {
    const id = ps[s + 3]!;
    if (id === 0xb9) {
      s += 4;
      continue;
    }
    if (id === 0xba) {
      s += (ps[s + 4]! & 0xc0) === 0x40 ? 14 + (ps[s + 13]! & 7) : 12;
      continue;
    }
    const end = s + 6 + ((ps[s + 4]! << 8) | ps[s + 5]!);
    if (id === 0xbc) {
      const mapEnd = s + 12 + ((ps[s + 10]! << 8) | ps[s + 11]!);
      for (let p = s + 12; p + 4 <= mapEnd; p += 4) types.set(ps[p + 1]!, ps[p]!);
    } else if ((id & 0xf0) === 0xe0 || (id & 0xe0) === 0xc0) {
      const flags = ps[s + 7]! >>> 6;
      const pts = flags & 2 ? ts(s + 9) : undefined;
      const dts = flags === 3 ? ts(s + 14) : undefined;
      const payload = ps.slice(s + 9 + ps[s + 8]!, end);
      if ((id & 0xe0) === 0xc0) {
        out.push({
          kind: 'audio',
          streamId: id,
          streamType: types.get(id),
          codec: 'audio',
          pts,
          dts,
          keyframe: true,
          data: payload,
        });
      } else {
        const nonEmpty = au?.parts.some((p) => p.length > 0);
        if (au && nonEmpty && (id !== au.id || (pts !== undefined && pts !== au.pts))) finish();
        if (!au) au = { id, pts, dts, parts: [] };
        else if (au.pts === undefined && pts !== undefined) Object.assign(au, { pts, dts });
        au.parts.push(payload);
      }
    }
    s = end;
  }
  finish();
  return out;
}

const plain = (aus: AccessUnit[]) => aus.map((a) => ({ ...a, data: Buffer.from(a.data).toString('hex') }));

describe('PS demuxer fast path against a whole-buffer reference', () => {
  test.prop([fc.array(unitArb, { minLength: 1, maxLength: 24 }), fc.array(fc.nat(), { maxLength: 30 })], {
    numRuns: 300,
  })('any mix of PS units split anywhere gives the reference access units', (units, cuts) => {
    const ps = Buffer.concat(units.map(unitBytes));
    const demuxer = new PsDemuxer();
    const got: AccessUnit[] = [];
    for (const piece of splitAt(ps, cuts)) {
      // Copy what we keep: without recycle() each access unit owns its bytes, and must stay intact.
      demuxer.push(piece, got);
    }
    demuxer.end(got);
    expect(plain(got)).toEqual(plain(referenceDemux(ps)));
  });

  test.prop(
    [
      fc.array(unitArb, { minLength: 1, maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      fc.uint8Array({ maxLength: 16 }),
      fc.uint8Array({ maxLength: 16 }),
    ],
    { numRuns: 200 },
  )('pushRange over ranges of a larger buffer agrees with push of copies', (units, cuts, before, after) => {
    const ps = Buffer.concat(units.map(unitBytes));
    const a = new PsDemuxer();
    const b = new PsDemuxer();
    const viaPush: AccessUnit[] = [];
    const viaRange: AccessUnit[] = [];
    for (const piece of splitAt(ps, cuts)) {
      a.push(Uint8Array.from(piece), viaPush);
      const host = Buffer.concat([before, piece, after]); // garbage around the range must not be read
      b.pushRange(host, before.length, before.length + piece.length, viaRange);
    }
    a.end(viaPush);
    b.end(viaRange);
    expect(plain(viaRange)).toEqual(plain(viaPush));
  });

  test.prop([fc.array(unitArb, { minLength: 1, maxLength: 12 }), fc.nat(), fc.array(fc.nat(), { maxLength: 8 })], {
    numRuns: 200,
  })('a stream cut short ends in TruncatedError or whole access units, never anything else', (units, cut, cuts) => {
    const ps = Buffer.concat(units.map(unitBytes));
    const short = ps.subarray(0, cut % (ps.length + 1));
    const d = new PsDemuxer();
    try {
      for (const piece of splitAt(short, cuts)) d.push(piece);
      d.end();
    } catch (e) {
      expect(e).toBeInstanceOf(TruncatedError);
    }
  });
});

describe('PS demuxer edges', () => {
  it('a flush inside a video PES ends the access unit with that PES, not inside it', () => {
    const data = new Uint8Array(3000).fill(5);
    data.set([0, 0, 0, 1, 0x65]);
    const ps = muxPs({ data, pts: 90, keyframe: true });
    const d = new PsDemuxer();
    expect(d.push(ps.subarray(0, 1000))).toEqual([]);
    expect(d.flush()).toEqual([]); // a marker mid-PES
    const out = d.push(ps.subarray(1000));
    expect(out).toHaveLength(1);
    expect(Buffer.from(out[0]!.data).equals(Buffer.from(data))).toBe(true);
    expect(d.end()).toEqual([]);
  });

  it('says where a unit cut at the end of the stream started', () => {
    const pack = unitBytes({ kind: 'pack', stuffing: 0, mpeg1: false });
    const pes = unitBytes({ kind: 'pes', id: 0xe0, pts: 0, stuffing: 0, payload: new Uint8Array(100) });
    const d = new PsDemuxer();
    d.push(Buffer.concat([pack, pes.subarray(0, 50)]));
    expect(() => d.end()).toThrow(TruncatedError);
    try {
      d.end();
    } catch (e) {
      expect((e as TruncatedError).offset).toBe(pack.length);
    }
  });

  it('refuses a range outside the buffer with a typed error', () => {
    expect(() => new PsDemuxer().pushRange(new Uint8Array(4), 2, 8, [])).toThrow(ValueOutOfRangeError);
  });

  it('reuses a recycled buffer for the next access unit', () => {
    const d = new PsDemuxer();
    const au = (pts: number) => muxPs({ data: new Uint8Array(20_000).fill(pts & 0xff), pts, keyframe: false });
    const [first] = d.push(Buffer.concat([au(1), au(2)]));
    const firstBuffer = first!.data.buffer;
    d.recycle(first!.data);
    const [second] = d.push(au(3)); // ends the second; the third takes the recycled buffer
    expect(second!.data.every((x) => x === 2)).toBe(true);
    const [third] = d.end();
    expect(third!.data.buffer).toBe(firstBuffer);
    expect(third!.data.every((x) => x === 3)).toBe(true);
  });
});

// ---- The interleaved-RTP decoder: in-place frames vs staged ones ----

const auArb = fc.record({
  data: fc.uint8Array({ minLength: 1, maxLength: 20_000 }).map((b) => Uint8Array.from([0, 0, 0, 1, ...b])),
  keyframe: fc.boolean(),
});

function decodeAll(decoder: MediaStreamDecoder, pieces: Uint8Array[]): MediaEvent[] {
  const events: MediaEvent[] = [];
  for (const piece of pieces) decoder.pushTo(piece, events);
  events.push(...decoder.end());
  return events;
}

/** The events, and the typed error if the stream is damaged (a dropped packet can cut a PS unit). */
function outcome(decoder: MediaStreamDecoder, pieces: Uint8Array[]): { events: MediaEvent[]; error?: string } {
  const events: MediaEvent[] = [];
  try {
    for (const piece of pieces) decoder.pushTo(piece, events);
    events.push(...decoder.end());
    return { events };
  } catch (e) {
    expect(WireError.isInstance(e)).toBe(true);
    return { events, error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

const eventSummary = (events: MediaEvent[]) =>
  events.map((e) =>
    e.type === 'access-unit'
      ? { type: e.type, pts: e.accessUnit.pts, data: Buffer.from(e.accessUnit.data).toString('hex') }
      : e.type === 'ps'
        ? { type: e.type, bytes: Buffer.from(e.bytes).toString('hex') }
        : e,
  );

describe('media stream decoder fast path', () => {
  test.prop(
    [
      fc.array(auArb, { minLength: 1, maxLength: 4 }),
      fc.constantFrom('rtp-interleaved' as const, 'private-header' as const),
      fc.boolean(),
      fc.integer({ min: 16, max: 3000 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 3 }),
    ],
    {
      numRuns: 100,
      examples: [
        [
          [
            { data: Uint8Array.of(0, 0, 0, 1, 0), keyframe: false },
            { data: Uint8Array.of(0, 0, 0, 1, 0), keyframe: false },
          ],
          'rtp-interleaved',
          false,
          16,
          [],
          [1],
        ],
      ],
    },
  )(
    'split anywhere gives the same events (and error) as one chunk, PS chunks included, and they rebuild the PS stream',
    (aus, framing, strayByte, maxPayload, cuts, drops) => {
      const encoder = new MediaStreamEncoder({ framing, strayByte, maxPayload, initialSequence: 65_000 });
      const encoded = aus.map((au, i) => encoder.encode({ data: au.data, pts: 3600 * i, keyframe: au.keyframe }));
      let wire: Uint8Array = Buffer.concat(encoded);
      // Drop whole interleaved frames of the last access unit (after the header) to exercise gap events.
      if (drops.length > 0 && aus.length > 1) {
        const last = encoded.at(-1)!;
        const frameLength = (o: number) => 4 + ((last[o + 2]! << 8) | last[o + 3]!);
        const kept: Uint8Array[] = [];
        let o = 0;
        for (let i = 0; o < last.length; i++) {
          const len = frameLength(o);
          if (!drops.includes(i) || i === 0) kept.push(last.subarray(o, o + len));
          o += len;
        }
        wire = Buffer.concat([...encoded.slice(0, -1), ...kept]);
      }
      const whole = outcome(new MediaStreamDecoder({ emitPs: true }), [Uint8Array.from(wire)]);
      const split = outcome(new MediaStreamDecoder({ emitPs: true }), splitAt(Buffer.from(wire), cuts));
      expect(split.error).toBe(whole.error);
      expect(eventSummary(split.events)).toEqual(eventSummary(whole.events));
      if (drops.length === 0 || aus.length === 1) {
        expect(whole.error).toBeUndefined();
        const ps = Buffer.concat(split.events.flatMap((e) => (e.type === 'ps' ? [e.bytes] : [])));
        const expected = Buffer.concat(
          aus.map((au, i) => muxPs({ data: au.data, pts: 3600 * i, keyframe: au.keyframe })),
        );
        expect(ps.equals(expected)).toBe(true);
      }
    },
  );

  it('a framing error is final: later pushes and end() throw it again', () => {
    const d = new MediaStreamDecoder();
    const enc = new MediaStreamEncoder({ framing: 'rtp-interleaved' });
    d.push(enc.encode({ data: Uint8Array.of(0, 0, 0, 1, 0x65), pts: 0, keyframe: true }));
    expect(() => d.push(Uint8Array.of(0x25, 0, 0, 0))).toThrow(MalformedError);
    expect(() => d.push(enc.encode({ data: Uint8Array.of(0, 0, 1, 0x41), pts: 1, keyframe: false }))).toThrow(
      /expected '\$'/,
    );
    expect(() => d.end()).toThrow(MalformedError);
  });

  it('a stream cut inside an interleaved frame is truncated', () => {
    const enc = new MediaStreamEncoder({ framing: 'rtp-interleaved' });
    const wire = enc.encode({ data: new Uint8Array(3000), pts: 0, keyframe: true });
    const d = new MediaStreamDecoder();
    d.push(wire.subarray(0, 2000));
    expect(() => d.end()).toThrow(TruncatedError);
  });

  test.prop([fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 8 })], { numRuns: 2000 })(
    'bytes after a valid "$" start give events or a typed error',
    (bytes, cuts) => {
      const d = new MediaStreamDecoder({ maxAccessUnitSize: 8192 });
      try {
        decodeAll(d, splitAt(Buffer.concat([Uint8Array.of(0x24, 0, 0, 12, 0x80, 0, 0, 0), bytes]), cuts));
      } catch (e) {
        expect(WireError.isInstance(e)).toBe(true);
      }
    },
  );
});
