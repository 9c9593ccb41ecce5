import { describe, expect, it } from 'vitest';
import { FrameTooLargeError, fromHex, LengthFramer, MalformedError, TruncatedError, toHex } from '../src/index.js';

// A made-up protocol: 2-byte magic, 2-byte big-endian length of the body, body.
const opts = {
  headerSize: 4,
  lengthFieldOffset: 2,
  lengthFieldSize: 2,
  lengthIncludesHeader: false,
  maxFrameSize: 64,
} as const;

describe('LengthFramer', () => {
  it('returns frames whole inside one chunk as views of it (no copy)', () => {
    const chunk = fromHex('cafe0002aabb cafe0000 cafe0001cc');
    const frames = new LengthFramer(opts).push(chunk);
    expect(frames.map(toHex)).toEqual(['cafe0002aabb', 'cafe0000', 'cafe0001cc']);
    expect(frames[0]!.buffer).toBe(chunk.buffer);
    expect(frames[2]!.byteOffset).toBe(chunk.byteOffset + 10);
  });

  it('assembles a split frame into one buffer of exactly its size', () => {
    const f = new LengthFramer(opts);
    expect(f.push(fromHex('ca'))).toEqual([]);
    expect(f.bufferedBytes).toBe(1);
    expect(f.idle).toBe(false);
    expect(f.push(fromHex('fe0003'))).toEqual([]);
    expect(f.bufferedBytes).toBe(4);
    expect(f.push(fromHex('0102'))).toEqual([]);
    expect(f.bufferedBytes).toBe(6);
    const [frame] = f.push(fromHex('03cafe'));
    expect(toHex(frame!)).toBe('cafe0003010203');
    expect(frame!.buffer.byteLength).toBe(7);
    expect(f.bufferedBytes).toBe(2);
    expect(f.position).toBe(9);
  });

  it('a header-only frame split across chunks is returned as its own copy', () => {
    const f = new LengthFramer(opts);
    f.push(fromHex('cafe00'));
    const [a] = f.push(fromHex('00'));
    f.push(fromHex('beef00'));
    const [b] = f.push(fromHex('00'));
    expect(toHex(a!)).toBe('cafe0000');
    expect(toHex(b!)).toBe('beef0000');
  });

  it('handles little-endian 4-byte length fields that count the header, with an adjustment', () => {
    // Length at offset 0, LE u32, counts the header, and the protocol stores length - 1.
    const f = new LengthFramer({
      headerSize: 8,
      lengthFieldOffset: 0,
      lengthFieldSize: 4,
      littleEndian: true,
      lengthIncludesHeader: true,
      lengthAdjustment: 1,
      maxFrameSize: 100,
    });
    const frame = fromHex('08000000 01020304 ff');
    expect(f.push(frame).map(toHex)).toEqual([toHex(frame)]);
  });

  it('1-byte length field', () => {
    const f = new LengthFramer({
      headerSize: 1,
      lengthFieldOffset: 0,
      lengthFieldSize: 1,
      lengthIncludesHeader: false,
      maxFrameSize: 256,
    });
    expect(f.push(fromHex('02aabb 00 01cc')).map(toHex)).toEqual(['02aabb', '00', '01cc']);
  });

  it('rejects a frame above maxFrameSize before buffering it', () => {
    const f = new LengthFramer(opts);
    expect(() => f.push(fromHex('cafe0100'))).toThrow(FrameTooLargeError);
    expect(() => f.push(new Uint8Array(10))).toThrowError('frame of 260 bytes exceeds the limit of 64 bytes');
    expect(f.bufferedBytes).toBe(0);
  });

  it('rejects a length shorter than the header as malformed at the length field', () => {
    const f = new LengthFramer({ ...opts, lengthIncludesHeader: true });
    let error: unknown;
    try {
      f.push(fromHex('cafe0000 cafe0002'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MalformedError);
    expect((error as MalformedError).offset).toBe(2);
  });

  it('end() in a header or body throws TruncatedError; between frames it is fine', () => {
    const f = new LengthFramer(opts);
    f.push(fromHex('cafe0000'));
    f.end();
    f.push(fromHex('cafe'));
    expect(() => f.end()).toThrowError(
      'truncated frame at end of stream: needed 4 bytes at offset 4, only 2 available',
    );
    const g = new LengthFramer(opts);
    g.push(fromHex('cafe0004 0102'));
    expect(() => g.end()).toThrow(TruncatedError);
    expect(() => g.end()).toThrowError('needed 8 bytes at offset 0, only 6 available');
    expect(() => g.push(fromHex('0304'))).toThrow(TruncatedError);
  });

  it('reset() recovers for a new connection', () => {
    const f = new LengthFramer(opts);
    expect(() => f.push(fromHex('cafeffff'))).toThrow(FrameTooLargeError);
    f.reset();
    expect(f.position).toBe(0);
    expect(f.push(fromHex('cafe0000')).length).toBe(1);
  });

  it('validates its configuration', () => {
    expect(() => new LengthFramer({ ...opts, lengthFieldOffset: 3 })).toThrow(RangeError);
    expect(() => new LengthFramer({ ...opts, lengthFieldOffset: -1 })).toThrow(RangeError);
    expect(() => new LengthFramer({ ...opts, maxFrameSize: 3 })).toThrow(RangeError);
    expect(() => new LengthFramer({ ...opts, headerSize: 0 })).toThrow(RangeError);
    expect(() => new LengthFramer({ ...opts, lengthFieldSize: 3 as 2 })).toThrow(RangeError);
    expect(() => new LengthFramer({ ...opts, lengthAdjustment: 0.5 })).toThrow(RangeError);
  });
});

describe('LengthFramer allocate option', () => {
  it('assembles split frames in buffers from the given allocator, and never exposes a partial one', async () => {
    const { LengthFramer: Framer } = await import('../src/framer.js');
    const sizes: number[] = [];
    const framer = new Framer({
      headerSize: 2,
      lengthFieldOffset: 0,
      lengthFieldSize: 2,
      lengthIncludesHeader: false,
      maxFrameSize: 1024,
      allocate: (n) => {
        sizes.push(n);
        return new Uint8Array(n).fill(0xee);
      },
    });
    const frame = Uint8Array.of(0, 4, 1, 2, 3, 4);
    expect(framer.push(frame.subarray(0, 3))).toEqual([]);
    const [out] = framer.push(frame.subarray(3));
    expect([...out!]).toEqual([...frame]);
    expect(sizes).toEqual([6]);
    // A whole frame inside one chunk is a view: no allocation.
    expect(framer.push(frame)).toHaveLength(1);
    expect(sizes).toEqual([6]);
  });
});
