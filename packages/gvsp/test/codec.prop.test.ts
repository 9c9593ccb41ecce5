import { WireError } from '@cam/net-utils';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  decodeGvspPacket,
  decodePacketResend,
  encodeGvspPacket,
  encodePacketResend,
  type GvspHeader,
  type GvspLeader,
  type GvspPacket,
  GvspPacketFormat,
  GvspPayloadType,
  GvspStatus,
  type GvspTrailer,
} from '../src/index.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u48 = fc.integer({ min: 0, max: 0xffff_ffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn });
const bytes = (max = 64) => fc.uint8Array({ maxLength: max });
const dataStatus = fc.constantFrom(GvspStatus.SUCCESS, GvspStatus.PACKET_RESEND);

const header = (format: number): fc.Arbitrary<GvspHeader> =>
  fc.oneof(
    fc.record({
      status: dataStatus,
      extendedId: fc.constant(false),
      blockId: fc.bigInt({ min: 0n, max: 0xffffn }),
      packetId: fc.integer({ min: 0, max: 0xffffff }),
      format: fc.constant(format),
      flags: fc.constant(0),
      spare: fc.constant(0),
    }),
    fc.record({
      status: dataStatus,
      extendedId: fc.constant(true),
      blockId: u64,
      packetId: u32,
      format: fc.constant(format),
      flags: u16,
      spare: fc.integer({ min: 0, max: 0xffffff }),
    }),
  );

const common = { fieldInfo: u8, genericFlags: u8, chunksAppended: fc.boolean() };
const aoi = {
  pixelFormat: u32,
  sizeX: u32,
  sizeY: u32,
  offsetX: u32,
  offsetY: u32,
  paddingX: u16,
  paddingY: u16,
};

/** Leaders that can also appear in all-in packets (fixed layouts, no extra bytes). */
const allInLeader: fc.Arbitrary<GvspLeader> = fc.oneof(
  fc.record({ ...common, ...aoi, payloadType: fc.constantFrom(1 as const, 5 as const), timestamp: u64 }),
  fc.record({ ...common, payloadType: fc.constant(2 as const), timestamp: u64, payloadSize: u64 }),
  fc.record({
    ...common,
    payloadType: fc.constant(3 as const),
    timestamp: u64,
    payloadSize: u64,
    fileName: fc.string({ maxLength: 20 }).filter((s) => !s.includes('\0')),
  }),
  fc.record({ ...common, payloadType: fc.constant(4 as const), timestamp: u64 }),
  fc.record({
    ...common,
    payloadType: fc.constantFrom(6 as const, 7 as const),
    timestamp: u64,
    payloadSize: u64,
    timestampTickFrequency: u64,
    dataFormat: u32,
  }),
  fc.record({
    ...common,
    payloadType: fc.constant(8 as const),
    payloadSize: u64,
    packetizationMode: u8,
    packetSize: u16,
    profileIdc: u8,
    constraintSet: u8,
    levelIdc: u8,
    sropInterleavingDepth: u16,
    sropMaxDonDiff: u16,
    sropDeintBufReq: u32,
    sropInitBufTime: u32,
  }),
  fc.record({ ...common, ...aoi, payloadType: fc.constant(9 as const), timestamp: u64, zoneDirection: u32 }),
);

const partInfo = fc.record({
  dataType: u16,
  partLength: u48,
  format: u32,
  sourceId: u8,
  additionalZones: u8,
  zoneDirection: u32,
  dataPurposeId: u16,
  regionId: u16,
  dataTypeSpecific: fc.uint8Array({ minLength: 24, maxLength: 24 }),
});

const leaderOnly: fc.Arbitrary<GvspLeader> = fc.oneof(
  fc.record({
    ...common,
    payloadType: fc.constant(10 as const),
    timestamp: u64,
    parts: fc.array(partInfo, { maxLength: 4 }),
  }),
  fc.record({
    ...common,
    payloadType: fc.constant(11 as const),
    timestamp: u64,
    payloadSize: u64,
    gendcFlags: u8,
    descriptorSize: u32,
  }),
  fc.record({ ...common, payloadType: fc.integer({ min: 0x8000, max: 0xbfff }), body: bytes(40) }),
);

function trailerFor(payloadType: number, chunks: boolean, allIn: boolean): fc.Arbitrary<GvspTrailer> {
  const base = { reserved: u16, payloadType: fc.constant(payloadType), chunksAppended: fc.constant(chunks) };
  const chunkInfo = chunks ? { chunkInfo: fc.record({ chunkDataPayloadLength: u32, chunkLayoutId: u32 }) } : {};
  let fields: Record<string, fc.Arbitrary<unknown>> = {};
  if (payloadType === 1 || payloadType === 9) fields = { sizeY: u32 };
  else if (payloadType === 4) fields = { payloadLength: u32 };
  else if (payloadType === 5) fields = { payloadLength: u32, sizeY: u32, chunkLayoutId: u32 };
  else if (payloadType === 10) {
    fields = {
      parts: fc.array(fc.record({ dataType: u16, partLength: u48, typeSpecific0: u32, typeSpecific1: u32 }), {
        maxLength: 4,
      }),
    };
  }
  if (payloadType >= 0x8000)
    return fc.record(
      { ...base, extra: bytes(20).filter((b) => b.length > 0) },
      { requiredKeys: ['reserved', 'payloadType', 'chunksAppended'] },
    ) as fc.Arbitrary<GvspTrailer>;
  const rec = fc.record({ ...base, ...fields, ...chunkInfo }) as fc.Arbitrary<GvspTrailer>;
  if (allIn || payloadType === 10) return rec;
  return fc.tuple(rec, bytes(8)).map(([t, extra]) => (extra.length > 0 ? { ...t, extra } : t));
}

const withExtra = (l: fc.Arbitrary<GvspLeader>) =>
  fc.tuple(l, bytes(8)).map(([x, extra]) => (extra.length > 0 && !('body' in x) ? { ...x, extra } : x));

const packet: fc.Arbitrary<GvspPacket> = fc.oneof(
  fc.tuple(header(GvspPacketFormat.LEADER), fc.oneof(withExtra(allInLeader), leaderOnly)).map(([h, leader]) => {
    // the part count of a multipart leader lives in the header
    if (leader.payloadType === GvspPayloadType.MULTIPART && h.extendedId && 'parts' in leader) {
      return { header: { ...h, spare: (h.spare & 0xffff00) | leader.parts.length }, kind: 'leader' as const, leader };
    }
    if (leader.payloadType === GvspPayloadType.MULTIPART && 'extra' in leader) {
      const { extra: _e, ...rest } = leader;
      return { header: h, kind: 'leader' as const, leader: rest as GvspLeader };
    }
    return { header: h, kind: 'leader' as const, leader };
  }),
  fc
    .tuple(header(GvspPacketFormat.TRAILER), fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x8001), fc.boolean())
    .chain(([h, type, chunks]) =>
      trailerFor(type, chunks, false).map((trailer) => ({ header: h, kind: 'trailer' as const, trailer })),
    ),
  fc.record({ header: header(GvspPacketFormat.PAYLOAD), kind: fc.constant('payload' as const), data: bytes(100) }),
  fc.tuple(header(GvspPacketFormat.ALL_IN), allInLeader, bytes(50)).chain(([h, leader, data]) =>
    trailerFor(leader.payloadType, leader.chunksAppended, true).map((trailer) => ({
      header: h,
      kind: 'allIn' as const,
      leader,
      trailer,
      data,
    })),
  ),
  fc.record({
    header: header(GvspPacketFormat.H264),
    kind: fc.constant('h264' as const),
    timestamp: u64,
    data: bytes(),
  }),
  fc.record({
    header: header(GvspPacketFormat.MULTIZONE),
    kind: fc.constant('multizone' as const),
    reserved: u8,
    zoneInfo: u8,
    addressOffset: u48,
    data: bytes(),
  }),
  fc.record({
    header: header(GvspPacketFormat.MULTIPART),
    kind: fc.constant('multipart' as const),
    partId: u8,
    zoneInfo: u8,
    addressOffset: u48,
    data: bytes(),
  }),
  fc.record({
    header: header(GvspPacketFormat.GENDC),
    kind: fc.constant('gendc' as const),
    dataSize: u32,
    destinationOffset: u64,
    dataFlags: u8,
    flowFlags: u8,
    flowId: u16,
    data: bytes(),
  }),
  fc
    .tuple(header(GvspPacketFormat.PAYLOAD), fc.constantFrom(0x800c, 0x8010, 0x8011, 0x8012, 0x8014))
    .map(([h, status]) => ({ header: { ...h, status }, kind: 'status' as const })),
);

describe('GVSP codec properties', () => {
  test.prop([packet], { numRuns: 3000 })('decode(encode(p)) equals p and re-encodes identically', (p) => {
    const b = encodeGvspPacket(p);
    const d = decodeGvspPacket(b);
    expect(d).toEqual(p);
    expect(encodeGvspPacket(d)).toEqual(b);
  });

  test.prop([fc.uint8Array({ maxLength: 200 })], { numRuns: 20000 })('any bytes decode or throw a typed error', (b) => {
    try {
      const d = decodeGvspPacket(b);
      // whatever decodes must re-encode to the same length at most (padding is kept in `extra`)
      expect(encodeGvspPacket(d).byteLength).toBeLessThanOrEqual(b.byteLength);
    } catch (e) {
      expect(WireError.isInstance(e)).toBe(true);
    }
  });

  test.prop([packet, fc.integer({ min: 1, max: 40 })])(
    'a truncated packet throws a typed error or decodes shorter',
    (p, cut) => {
      const b = encodeGvspPacket(p);
      const t = b.subarray(0, Math.max(0, b.byteLength - cut));
      try {
        decodeGvspPacket(t);
      } catch (e) {
        expect(WireError.isInstance(e)).toBe(true);
      }
    },
  );

  test.prop([
    fc.record({
      reqId: fc.integer({ min: 1, max: 0xffff }),
      ackRequired: fc.boolean(),
      extendedId: fc.boolean(),
      streamChannel: u16,
      blockId: fc.bigInt({ min: 0n, max: 0xffffn }),
      firstPacketId: fc.integer({ min: 0, max: 0xffffff }),
      lastPacketId: fc.integer({ min: 0, max: 0xffffff }),
    }),
  ])('PACKETRESEND round trip', (cmd) => {
    expect(decodePacketResend(encodePacketResend(cmd))).toEqual(cmd);
  });

  test.prop([fc.uint8Array({ maxLength: 40 })], { numRuns: 5000 })(
    'PACKETRESEND: any bytes -> command or typed error',
    (b) => {
      try {
        decodePacketResend(b);
      } catch (e) {
        expect(WireError.isInstance(e)).toBe(true);
      }
    },
  );
});
