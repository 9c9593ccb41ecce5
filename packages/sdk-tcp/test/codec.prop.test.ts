import { WireError } from '@cam/net-utils';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  decodePacket,
  decodeSearchDatagram,
  encodedPacketLength,
  encodePacket,
  encodePacketInto,
  encodeSearchDatagram,
} from '../src/codec/packets.js';
import { encodeSdkCall, SdkCallAssembler, SdkPacketDecoder } from '../src/codec/sdk-call.js';
import { buildSdkRequest, buildSdkResponse, parseSdkXml } from '../src/codec/xml.js';
import { arbPacket } from './arbitraries.js';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** Splits `bytes` at the given cut points (any positions). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of points) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

describe('codec properties', () => {
  test.prop([arbPacket])('every packet round-trips, and length, bytes written and buffer agree', (p) => {
    const bytes = encodePacket(p);
    expect(bytes.byteLength).toBe(encodedPacketLength(p));
    const out = new Uint8Array(bytes.byteLength + 7);
    expect(encodePacketInto(p, out, 3)).toBe(bytes.byteLength);
    expect(out.subarray(3, 3 + bytes.byteLength)).toEqual(bytes);
    expect(decodePacket(bytes)).toEqual(p);
    expect(encodePacket(decodePacket(bytes))).toEqual(bytes);
  });

  test.prop([fc.array(arbPacket, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 })])(
    'a stream split anywhere decodes to the same packets',
    (packets, cuts) => {
      const stream = concat(packets.map(encodePacket));
      const d = new SdkPacketDecoder();
      const out = split(stream, cuts).flatMap((c) => d.push(c));
      expect(out).toEqual(packets);
      d.end();
    },
  );

  test.prop([fc.uint8Array({ maxLength: 20_000 }), fc.array(fc.nat(), { maxLength: 10 })], { numRuns: 300 })(
    'random bytes give packets or a typed error, never anything else',
    (bytes, cuts) => {
      const d = new SdkPacketDecoder();
      try {
        for (const c of split(bytes, cuts)) d.push(c);
        d.end();
      } catch (error) {
        expect(WireError.isInstance(error)).toBe(true);
      }
      try {
        decodePacket(bytes);
      } catch (error) {
        expect(WireError.isInstance(error)).toBe(true);
      }
      try {
        decodeSearchDatagram(bytes);
      } catch (error) {
        expect(WireError.isInstance(error)).toBe(true);
      }
    },
  );

  test.prop([fc.uint8Array({ maxLength: 60_000 }), fc.integer({ min: 1, max: 9204 })], { numRuns: 60 })(
    'chunked calls reassemble for any chunk size',
    (doc, chunkSize) => {
      const packets = new SdkPacketDecoder().push(encodeSdkCall(doc, 'kSDKCmdAnswer', { chunkSize }));
      const asm = new SdkCallAssembler();
      const results = packets.map((p) => (p.type === 'kSDKCmdAnswer' ? asm.push(p) : undefined));
      expect(results.at(-1)).toEqual(doc);
      expect(results.slice(0, -1).every((r) => r === undefined)).toBe(true);
    },
  );

  test.prop([
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.string({ maxLength: 15, unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)) }),
    fc.uint8Array({ maxLength: 100 }),
  ])('search datagrams round-trip', (version, deviceId, data) => {
    const d = { type: 'kSearchDeviceAnswer' as const, version, deviceId, data };
    expect(decodeSearchDatagram(encodeSearchDatagram(d))).toEqual(d);
  });

  const xmlName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
  const text = fc.string({ maxLength: 50 }).map((s) => s.replace(/[<>&]/g, ''));
  test.prop([text, xmlName, xmlName, fc.array(fc.tuple(xmlName, text), { maxLength: 4 })])(
    'XML envelopes round-trip, guid escaped, body verbatim',
    (guid, method, result, children) => {
      const body = children.map(([tag, value]) => `<${tag} v="x">${value}</${tag}>`).join('');
      expect(parseSdkXml(buildSdkRequest({ guid, method, body }))).toEqual({ kind: 'in', guid, method, body });
      expect(parseSdkXml(buildSdkResponse({ guid, method, result, body }))).toEqual({
        kind: 'out',
        guid,
        method,
        result,
        body,
      });
    },
  );

  test.prop([fc.string({ maxLength: 300 })], { numRuns: 300 })(
    'any text parses to an envelope or a typed error',
    (s) => {
      try {
        parseSdkXml(s);
      } catch (error) {
        expect(WireError.isInstance(error)).toBe(true);
      }
    },
  );
});
