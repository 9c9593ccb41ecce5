import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FrameTooLargeError,
  MalformedError,
  TrailingBytesError,
  TruncatedError,
  ValueOutOfRangeError,
} from '@cam/net-utils';
import { describe, expect, it } from 'vitest';
import { itInterop } from '../../../test-support/interop.js';
import {
  BadMagicError,
  DEFAULT_REGISTER_MAP,
  decodeFrame,
  decodeFrameHeader,
  ErrorCode,
  encodedLengthFrame,
  encodeFrame,
  encodeFrameHeader,
  encodeFrameInto,
  errorCodeName,
  FrameFlag,
  frameFlags,
  framesSource,
  mcdaAddress,
  mcdaValue,
  PayloadKind,
  registerMapAt,
  resolveRegisterMap,
  SC_GVMP_HEADER_SIZE,
  ScGvmpFrameDecoder,
  StreamState,
  testPatternJpeg,
  testPatternRaw,
  testPatternSource,
  UnknownPayloadKindError,
  UnsupportedVersionError,
} from '../src/index.js';

describe('frame header', () => {
  it('lays out Magic(2) Ver(1) Flags(1) Seq(4) PayloadLen(4) big-endian', () => {
    const bytes = encodeFrame({ seq: 0x01020304, kind: 'JPEG', payload: Uint8Array.of(0xaa, 0xbb) });
    expect(Buffer.from(bytes).toString('hex')).toBe('5343' + '01' + '11' + '01020304' + '00000002' + 'aabb');
    expect(encodedLengthFrame({ payload: new Uint8Array(2) })).toBe(14);
  });

  it('signals each payload kind in the low four flag bits and key frames in bit 4', () => {
    expect(frameFlags('JPEG')).toBe(PayloadKind.JPEG | FrameFlag.keyFrame);
    expect(frameFlags('RAW')).toBe(0x14);
    expect(frameFlags('YUV')).toBe(0x15);
    expect(frameFlags('H264')).toBe(0x02);
    expect(frameFlags('H265', true)).toBe(0x13);
    expect(() => frameFlags(9 as never)).toThrow(ValueOutOfRangeError);
  });

  it('decodes what it encodes, the payload as a view', () => {
    const payload = Uint8Array.from({ length: 100 }, (_, i) => i);
    const bytes = encodeFrame({ seq: 7, kind: 'H264', payload });
    const f = decodeFrame(bytes);
    expect(f).toMatchObject({ seq: 7, kind: PayloadKind.H264, keyFrame: false, flags: 2 });
    expect(f.payload).toEqual(payload);
    expect(f.payload.buffer).toBe(bytes.buffer);
  });

  it('encodes into a caller buffer at an offset and refuses one too small', () => {
    const out = new Uint8Array(40);
    expect(encodeFrameInto({ seq: 1, kind: 'RAW', payload: new Uint8Array(8) }, out, 4)).toBe(20);
    expect(decodeFrameHeader(out, 4)).toEqual({ flags: 0x14, seq: 1, payloadLength: 8 });
    expect(() => encodeFrameInto({ seq: 1, kind: 'RAW', payload: new Uint8Array(30) }, out, 4)).toThrow(/too small/);
  });

  it('refuses a bad magic, version or kind with typed errors naming the offset', () => {
    const good = encodeFrame({ seq: 1, kind: 'RAW', payload: new Uint8Array(4) });
    const badMagic = good.slice();
    badMagic[0] = 0x47;
    const e1 = catchError(() => decodeFrame(badMagic));
    expect(BadMagicError.isInstance(e1) && MalformedError.isInstance(e1)).toBe(true);
    expect(e1).toMatchObject({ name: 'BadMagicError', magic: 0x4743, offset: 0 });
    const badVersion = good.slice();
    badVersion[2] = 2;
    expect(catchError(() => decodeFrame(badVersion))).toMatchObject({
      name: 'UnsupportedVersionError',
      version: 2,
      offset: 2,
    });
    expect(UnsupportedVersionError.isInstance(catchError(() => decodeFrame(badVersion)))).toBe(true);
    for (const kind of [0, 6, 15]) {
      const badKind = good.slice();
      badKind[3] = kind | FrameFlag.keyFrame;
      expect(UnknownPayloadKindError.isInstance(catchError(() => decodeFrame(badKind)))).toBe(true);
    }
  });

  it('ignores reserved flag bits on receipt but keeps them', () => {
    const h = encodeFrameHeader({ flags: 0xe0 | PayloadKind.YUV, seq: 3, payloadLength: 0 });
    expect(decodeFrame(h)).toMatchObject({ flags: 0xe5, kind: PayloadKind.YUV, keyFrame: false });
  });

  it('refuses a short frame, trailing bytes, and a PayloadLen above the maximum', () => {
    const good = encodeFrame({ seq: 1, kind: 'RAW', payload: new Uint8Array(4) });
    expect(TruncatedError.isInstance(catchError(() => decodeFrame(good.subarray(0, 11))))).toBe(true);
    expect(TruncatedError.isInstance(catchError(() => decodeFrame(good.subarray(0, 15))))).toBe(true);
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expect(TrailingBytesError.isInstance(catchError(() => decodeFrame(longer)))).toBe(true);
    expect(catchError(() => decodeFrame(good, { maxPayloadLength: 3 }))).toMatchObject({
      name: 'FrameTooLargeError',
      size: 4,
      limit: 3,
    });
  });

  it('refuses out-of-range header values when encoding', () => {
    expect(() => encodeFrameHeader({ flags: 0x11, seq: 2 ** 32, payloadLength: 0 })).toThrow(ValueOutOfRangeError);
    expect(() => encodeFrameHeader({ flags: 0x100, seq: 0, payloadLength: 0 })).toThrow(ValueOutOfRangeError);
    expect(() => encodeFrameHeader({ flags: 0x10, seq: 0, payloadLength: 0 })).toThrow(ValueOutOfRangeError);
  });
});

describe('streaming decoder', () => {
  it('yields whole frames from byte-sized chunks', () => {
    const frames = [0, 1, 2].map((i) => encodeFrame({ seq: i, kind: 'JPEG', payload: new Uint8Array(i * 10).fill(i) }));
    const all = Buffer.concat(frames);
    const d = new ScGvmpFrameDecoder();
    const out = [];
    for (const b of all) out.push(...d.push(Uint8Array.of(b)));
    expect(out.map((f) => [f.seq, f.payload.length])).toEqual([
      [0, 0],
      [1, 10],
      [2, 20],
    ]);
    expect(d.idle).toBe(true);
    d.end();
  });

  it('refuses a PayloadLen above the maximum from the header alone, before buffering the body', () => {
    const d = new ScGvmpFrameDecoder({ maxPayloadLength: 1000 });
    const header = encodeFrameHeader({ flags: 0x14, seq: 0, payloadLength: 0xffffffff });
    const e = catchError(() => d.push(header));
    expect(FrameTooLargeError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({ size: 0xffffffff, limit: 1000 });
    expect(d.bufferedBytes).toBeLessThanOrEqual(SC_GVMP_HEADER_SIZE);
    // Poisoned: the stream is out of sync.
    expect(() => d.push(new Uint8Array(1))).toThrow(FrameTooLargeError);
  });

  it('rejects a bad magic after good frames, delivering the good ones first', () => {
    const good = encodeFrame({ seq: 5, kind: 'RAW', payload: new Uint8Array(3) });
    const chunk = Buffer.concat([good, Buffer.from('GET / HTTP/1.1\r\n')]);
    const d = new ScGvmpFrameDecoder();
    const out: ReturnType<ScGvmpFrameDecoder['push']> = [];
    expect(() => d.pushTo(chunk, out)).toThrow(BadMagicError);
    expect(out.map((f) => f.seq)).toEqual([5]);
  });

  it('copies a frame at most once: views of a chunk that holds it whole, one exact buffer when it spans chunks', () => {
    const f = encodeFrame({ seq: 1, kind: 'RAW', payload: new Uint8Array(1000).fill(7) });
    const d = new ScGvmpFrameDecoder();
    const whole = Buffer.concat([f, f]);
    const views = d.push(whole);
    expect(views.map((v) => v.payload.buffer === whole.buffer)).toEqual([true, true]);
    const [first] = d.push(f.subarray(0, 600));
    expect(first).toBeUndefined();
    const [joined] = d.push(f.subarray(600));
    expect(joined!.payload.buffer.byteLength).toBe(f.length);
    expect(joined!.payload.every((b) => b === 7)).toBe(true);
  });

  it('reports a stream ending mid-frame as truncated', () => {
    const d = new ScGvmpFrameDecoder();
    d.push(encodeFrame({ seq: 1, kind: 'RAW', payload: new Uint8Array(10) }).subarray(0, 15));
    expect(TruncatedError.isInstance(catchError(() => d.end()))).toBe(true);
  });
});

describe('register map and codes', () => {
  it('defaults to the manufacturer space at 0xB000', () => {
    expect(DEFAULT_REGISTER_MAP).toEqual({
      mcda: 0xb000,
      mcp: 0xb004,
      streamStart: 0xb008,
      streamState: 0xb00c,
      errCode: 0xb010,
    });
    expect(registerMapAt(0xd000).errCode).toBe(0xd010);
    expect(resolveRegisterMap({ mcp: 0xc000 })).toMatchObject({ mcda: 0xb000, mcp: 0xc000 });
  });

  it('refuses unaligned or duplicate addresses', () => {
    expect(() => resolveRegisterMap({ mcda: 0xb001 })).toThrow(ValueOutOfRangeError);
    expect(() => resolveRegisterMap({ mcp: 0xb000 })).toThrow(/already used by mcda/);
    expect(() => resolveRegisterMap({ errCode: 2 ** 32 })).toThrow(ValueOutOfRangeError);
  });

  it('stores MCDA in network order', () => {
    expect(mcdaValue('192.168.1.2')).toBe(0xc0a80102);
    expect(mcdaAddress(0x7f000001)).toBe('127.0.0.1');
  });

  it('numbers states as the note does and names error codes', () => {
    expect(StreamState).toEqual({ Idle: 0, Connecting: 1, Streaming: 2, Error: 3 });
    expect(Object.keys(ErrorCode)).toEqual([
      'ERR_NONE',
      'ERR_PARAM_INCOMPLETE',
      'ERR_CONNECT_FAIL',
      'ERR_CONNECT_TIMEOUT',
      'ERR_STREAM_BUSY',
      'ERR_TCP_RESET',
      'ERR_NO_SESSION',
    ]);
    expect(new Set(Object.values(ErrorCode)).size).toBe(7);
    expect(errorCodeName(5)).toBe('ERR_TCP_RESET');
    expect(errorCodeName(99)).toBeUndefined();
  });
});

describe('test pattern', () => {
  it('is a baseline JPEG with SOI, SOF0 and EOI, different per frame', () => {
    const a = testPatternJpeg(0);
    const b = testPatternJpeg(1);
    expect([a[0], a[1], a[a.length - 2], a[a.length - 1]]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    expect(Buffer.from(a).includes(Buffer.from([0xff, 0xc0]))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a).toString('latin1')).toContain('SC_GVMP test pattern frame 0');
  });

  it('framesSource plays user frames once or in a loop', () => {
    const a = { kind: 'H265' as const, payload: Uint8Array.of(1) };
    const b = { kind: 'H265' as const, payload: Uint8Array.of(2), keyFrame: true };
    const once = framesSource([a, b]);
    expect([0, 1, 2].map((i) => once(i))).toEqual([a, b, undefined]);
    const loop = framesSource([a, b], { loop: true });
    expect([0, 1, 2, 3].map((i) => loop(i))).toEqual([a, b, a, b]);
    expect(framesSource([])(0)).toBeUndefined();
    const raw = testPatternSource('raw', { width: 8, height: 8 })(3);
    expect(raw).toMatchObject({ kind: 'RAW' });
    expect(
      Buffer.from((raw as { payload: Uint8Array }).payload).equals(
        Buffer.from(testPatternRaw(3, { width: 8, height: 8 })),
      ),
    ).toBe(true);
  });

  it('RAW is width x height Mono8', () => {
    expect(testPatternRaw(0, { width: 16, height: 8 }).length).toBe(128);
    expect(() => testPatternRaw(0, { width: 12 })).toThrow(ValueOutOfRangeError);
  });

  itInterop('decodes with libjpeg (djpeg) to exactly the RAW pattern', ['djpeg'], () => {
    const dir = mkdtempSync(join(tmpdir(), 'scgvmp-'));
    try {
      for (const index of [0, 7, 31]) {
        const file = join(dir, `f${index}.jpg`);
        writeFileSync(file, testPatternJpeg(index, { width: 64, height: 48 }));
        const pgm = execFileSync('djpeg', ['-grayscale', '-pnm', file]);
        const pixels = pgm.subarray(pgm.length - 64 * 48);
        expect(Buffer.from(pixels).equals(Buffer.from(testPatternRaw(index, { width: 64, height: 48 })))).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
