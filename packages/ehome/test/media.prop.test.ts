import { WireError } from '@cam/net-utils';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  decodeRtp,
  encodeRtp,
  type MediaEvent,
  MediaStreamDecoder,
  MediaStreamEncoder,
  muxPs,
  PsDemuxer,
} from '../src/index.js';
import { splitAt } from './helpers.js';

const rtpArb = fc.record({
  marker: fc.boolean(),
  payloadType: fc.integer({ min: 0, max: 127 }),
  sequenceNumber: fc.integer({ min: 0, max: 0xffff }),
  timestamp: fc.integer({ min: 0, max: 0xffffffff }),
  ssrc: fc.integer({ min: 0, max: 0xffffffff }),
  csrcs: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 15 }),
  paddingLength: fc.integer({ min: 0, max: 255 }),
  payload: fc.uint8Array({ maxLength: 300 }),
});

/** Annex B-like access units (random bytes after a start code: the demuxer must not care about content). */
const auArb = fc.record({
  data: fc.uint8Array({ minLength: 1, maxLength: 70_000 }).map((b) => {
    const d = new Uint8Array(b.length + 4);
    d.set([0, 0, 0, 1]);
    d.set(b, 4);
    return d;
  }),
  keyframe: fc.boolean(),
  withDts: fc.boolean(),
});

describe('RTP', () => {
  test.prop([rtpArb])('encode/decode round trip', (p) => {
    const padding = p.paddingLength;
    const bytes = encodeRtp(p);
    const d = decodeRtp(bytes);
    expect(d.marker).toBe(p.marker);
    expect(d.payloadType).toBe(p.payloadType);
    expect(d.sequenceNumber).toBe(p.sequenceNumber);
    expect(d.timestamp).toBe(p.timestamp);
    expect(d.ssrc).toBe(p.ssrc);
    expect([...d.csrcs]).toEqual(p.csrcs);
    expect(d.paddingLength).toBe(padding);
    expect(Buffer.from(d.payload).equals(Buffer.from(p.payload))).toBe(true);
    expect(Buffer.from(encodeRtp({ ...d, paddingLength: d.paddingLength })).equals(Buffer.from(bytes))).toBe(true);
  });

  test.prop([fc.uint8Array({ maxLength: 64 })], { numRuns: 2000 })(
    'random bytes give a packet or a typed error',
    (b) => {
      try {
        decodeRtp(b);
      } catch (e) {
        expect(WireError.isInstance(e)).toBe(true);
      }
    },
  );
});

describe('MPEG-PS', () => {
  test.prop([fc.array(auArb, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 20 })], { numRuns: 60 })(
    'mux then demux split anywhere gives the same access units',
    (aus, cuts) => {
      const streams = aus.map((au, i) =>
        muxPs({
          data: au.data,
          pts: 3600 * i + 90_000,
          keyframe: au.keyframe,
          ...(au.withDts ? { dts: 3600 * i + 87_000 } : {}),
        }),
      );
      const all = Buffer.concat(streams);
      const demuxer = new PsDemuxer();
      const out = [];
      for (const piece of splitAt(all, cuts)) out.push(...demuxer.push(piece));
      out.push(...demuxer.end());
      expect(out).toHaveLength(aus.length);
      out.forEach((au, i) => {
        expect(Buffer.from(au.data).equals(Buffer.from(aus[i]!.data))).toBe(true);
        expect(au.pts).toBe(3600 * i + 90_000);
        expect(au.dts).toBe(aus[i]!.withDts ? 3600 * i + 87_000 : undefined);
      });
    },
  );

  test.prop([fc.uint8Array({ maxLength: 200 })], { numRuns: 3000 })(
    'random bytes give access units or a typed error',
    (b) => {
      const demuxer = new PsDemuxer({ maxAccessUnitSize: 4096 });
      try {
        demuxer.push(b);
        demuxer.end();
      } catch (e) {
        expect(WireError.isInstance(e)).toBe(true);
      }
    },
  );
});

describe('media stream over TCP', () => {
  test.prop(
    [
      fc.array(auArb, { minLength: 1, maxLength: 3 }),
      fc.constantFrom('rtp-interleaved' as const, 'private-header' as const),
      fc.boolean(),
      fc.integer({ min: 16, max: 2000 }),
      fc.array(fc.nat(), { maxLength: 30 }),
    ],
    { numRuns: 60 },
  )(
    'encoder -> decoder split anywhere is byte-exact, in both framings, with or without the stray byte',
    (aus, framing, strayByte, maxPayload, cuts) => {
      const encoder = new MediaStreamEncoder({ framing, strayByte, maxPayload, initialSequence: 65_530 });
      const wire = Buffer.concat(
        aus.map((au, i) => encoder.encode({ data: au.data, pts: i * 3600, keyframe: au.keyframe })),
      );
      const decoder = new MediaStreamDecoder();
      const events: MediaEvent[] = [];
      for (const piece of splitAt(wire, cuts)) events.push(...decoder.push(piece));
      events.push(...decoder.end());
      expect(decoder.framing).toBe(framing);
      const got = events.flatMap((e) => (e.type === 'access-unit' ? [e.accessUnit] : []));
      expect(got.map((a) => Buffer.from(a.data).toString('hex'))).toEqual(
        aus.map((a) => Buffer.from(a.data).toString('hex')),
      );
      expect(events.some((e) => e.type === 'gap')).toBe(false);
      expect(decoder.stats.lostPackets).toBe(0);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 8 })], { numRuns: 3000 })(
    'random bytes give events or a typed error, never anything else',
    (bytes, cuts) => {
      const decoder = new MediaStreamDecoder({ maxAccessUnitSize: 8192 });
      try {
        for (const piece of splitAt(bytes, cuts)) decoder.push(piece);
        decoder.end();
      } catch (e) {
        expect(WireError.isInstance(e)).toBe(true);
      }
    },
  );
});
