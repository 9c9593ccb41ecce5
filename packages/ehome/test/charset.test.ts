import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { canEncodeGb2312, decodeSignalText, encodeSignalText, SignalEncodingError } from '../src/codec/index.js';

/**
 * The GB2312 codec uses the platform's WHATWG 'gbk' decoder and that decoder's inverse (no iconv-lite, so it runs in
 * browsers). iconv-lite, the library used before, is the independent oracle here: every GB2312 character (rows
 * 0xA1-0xF7, columns 0xA1-0xFE) must encode to the same two bytes and decode back.
 */
describe('GB2312 without iconv-lite', () => {
  it('agrees with iconv-lite on every GB2312 character, both ways', () => {
    let checked = 0;
    const mismatches: string[] = [];
    for (let lead = 0xa1; lead <= 0xf7; lead++) {
      for (let trail = 0xa1; trail <= 0xfe; trail++) {
        const bytes = Uint8Array.of(lead, trail);
        const expected = iconv.decode(Buffer.from(bytes), 'gb2312');
        if (expected === '\uFFFD' || expected.length !== 1) continue; // an unassigned code
        checked++;
        const text = decodeSignalText(bytes, 'GB2312');
        const back = encodeSignalText(expected, 'GB2312');
        if (text !== expected || back.length !== 2 || back[0] !== lead || back[1] !== trail) {
          if (mismatches.length < 10) mismatches.push(`${lead.toString(16)}${trail.toString(16)}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(7000);
  });

  it('refuses text GB2312 cannot carry and bytes that are not GB2312, with typed errors', () => {
    expect(canEncodeGb2312('通道 1')).toBe(true);
    expect(canEncodeGb2312('😀')).toBe(false);
    expect(() => encodeSignalText('摄像机 😀', 'GB2312')).toThrow(SignalEncodingError);
    expect(() => decodeSignalText(Uint8Array.of(0x41, 0xd3), 'GB2312')).toThrow(SignalEncodingError);
    expect(() => decodeSignalText(Uint8Array.of(0xd3, 0x0a, 0x41), 'GB2312')).toThrow(SignalEncodingError);
  });
});
