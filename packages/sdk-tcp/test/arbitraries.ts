import { fc } from '@fast-check/vitest';
import type { SdkPacket } from '../src/codec/packets.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const i16pos = fc.integer({ min: -0x8000, max: 0x7fff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const size = fc.oneof(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const md5 = fc.oneof(fc.constant(''), fc.stringMatching(/^[0-9a-f]{32}$/));
const name = fc.string({ minLength: 0, maxLength: 40, unit: 'grapheme' }).filter((s) => !s.includes('\0'));
const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });

/** Every TCP packet type with random field values that fit one packet. */
export const arbPacket: fc.Arbitrary<SdkPacket> = fc.oneof(
  fc.constantFrom<SdkPacket>(
    { type: 'kTcpHeartbeatAsk' },
    { type: 'kTcpHeartbeatAnswer' },
    { type: 'kFileEndAsk' },
    { type: 'kFileListEndAsk' },
  ),
  u16.map((code): SdkPacket => ({ type: 'kErrorAnswer', code })),
  fc
    .tuple(
      fc.constantFrom('kFileContentAnswer', 'kFileEndAnswer', 'kFileListStartAnswer', 'kFileListEndAnswer' as const),
      u16,
    )
    .map(([type, status]) => ({ type, status }) as SdkPacket),
  u32.map((version): SdkPacket => ({ type: 'kSDKServiceAsk', version })),
  fc
    .tuple(u32, fc.option(u16, { nil: undefined }))
    .map(
      ([version, status]): SdkPacket =>
        status === undefined ? { type: 'kSDKServiceAnswer', version } : { type: 'kSDKServiceAnswer', version, status },
    ),
  fc
    .tuple(fc.constantFrom('kSDKCmdAsk' as const, 'kSDKCmdAnswer' as const), bytes(9204), u32, u32)
    .map(([type, data, a, b]): SdkPacket => {
      const total = Math.min(0xffffffff, data.byteLength + (a % 100_000));
      const index = b % (total - data.byteLength + 1);
      return { type, total, index, data };
    }),
  fc
    .tuple(fc.constantFrom('kGPSInfoAnswer' as const, 'kFileContentAsk' as const), bytes(9212))
    .map(([type, data]) => ({ type, data })),
  fc
    .tuple(md5, size, i16pos, name)
    .map(([m, s, fileType, n]): SdkPacket => ({ type: 'kFileStartAsk', md5: m, size: s, fileType, name: n })),
  fc.tuple(i16pos, size).map(([status, existSize]): SdkPacket => ({ type: 'kFileStartAnswer', status, existSize })),
  name.map((n): SdkPacket => ({ type: 'kReadFileAsk', name: n })),
  fc
    .tuple(i16pos, md5, size, i16pos)
    .map(([status, m, s, fileType]): SdkPacket => ({ type: 'kReadFileAnswer', status, md5: m, size: s, fileType })),
  fc.tuple(u16, size, name).map(
    ([fileCount, totalSize, sessionId]): SdkPacket => ({
      type: 'kFileListStartAsk',
      fileCount,
      totalSize,
      sessionId,
    }),
  ),
);
