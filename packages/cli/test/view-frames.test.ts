import { describe, expect, it } from 'vitest';
import { FrameClient, type FrameSink, SharedPixels } from '../src/viewer/frame-client.js';
import { decodeFrameMessage, encodeFrameMessage, type FrameHeader, MAX_FRAME_HEADER } from '../src/viewer/protocol.js';

const header = (frame: number): Omit<FrameHeader, 'dropped'> => ({
  frame,
  blockId: String(frame),
  width: 2,
  height: 2,
  pixelFormat: 'Mono8',
  paddingX: 0,
  completedAt: 1000 + frame,
});

function sink() {
  const sent: { header: FrameHeader; pixels: number[] }[] = [];
  return {
    sent,
    send(parts: readonly Uint8Array[], done: () => void) {
      const copy = Buffer.concat(parts);
      const { header, pixels } = decodeFrameMessage(copy.buffer.slice(copy.byteOffset, copy.byteOffset + copy.length));
      sent.push({ header, pixels: [...pixels] });
      done();
    },
    sendText() {},
  };
}

describe('cam view: frames to a slow browser', () => {
  it('keeps one frame in flight: the newest waiting one replaces older ones, which are counted as dropped', () => {
    const s = sink();
    const c = new FrameClient(s);
    c.offer(header(1), Uint8Array.of(1, 1, 1, 1));
    c.offer(header(2), Uint8Array.of(2, 2, 2, 2)); // waits
    c.offer(header(3), Uint8Array.of(3, 3, 3, 3)); // replaces 2
    c.offer(header(4), Uint8Array.of(4, 4, 4, 4)); // replaces 3
    expect(s.sent.map((f) => f.header.frame)).toEqual([1]);
    c.ack();
    expect(s.sent.map((f) => f.header.frame)).toEqual([1, 4]);
    expect(s.sent[1]).toEqual({ header: { ...header(4), dropped: 2 }, pixels: [4, 4, 4, 4] });
    c.ack();
    c.ack(); // an ack for nothing sends nothing
    expect(s.sent).toHaveLength(2);
    c.offer(header(5), Uint8Array.of(5, 5, 5, 5)); // a browser that keeps up loses nothing
    c.ack();
    c.offer(header(6), Uint8Array.of(6, 6, 6, 6));
    expect(s.sent.map((f) => [f.header.frame, f.header.dropped])).toEqual([
      [1, 0],
      [4, 2],
      [5, 2],
      [6, 2],
    ]);
  });

  it('sends header and pixels as separate parts (the pixels uncopied) and frees a buffer once no client holds it', () => {
    const writes: { parts: readonly Uint8Array[]; done: () => void }[] = [];
    const s: FrameSink = { send: (parts, done) => writes.push({ parts, done }), sendText() {} };
    const a = new FrameClient(s);
    const b = new FrameClient(s);
    const freed: number[] = [];
    const shared = (n: number) => new SharedPixels(Uint8Array.of(n, n, n, n), (bytes) => freed.push(bytes[0]!));
    const p1 = shared(1);
    a.offer(header(1), p1);
    b.offer(header(1), p1);
    expect(writes).toHaveLength(2);
    expect(writes[0]!.parts[1]).toBe(p1.bytes); // no copy into the message
    writes[0]!.done();
    expect(freed).toEqual([]); // b's socket still holds it
    writes[1]!.done();
    writes[1]!.done(); // a second call changes nothing
    expect(freed).toEqual([1]);
    a.offer(header(2), shared(2)); // waits (a is in flight)
    a.offer(header(3), shared(3)); // replaces 2, which is free at once
    expect(freed).toEqual([1, 2]);
    a.detach(); // the tab is gone: what waited is free
    expect(freed).toEqual([1, 2, 3]);
  });

  it('a frame message round-trips; a malformed one is refused with a message', () => {
    const msg = encodeFrameMessage({ ...header(7), dropped: 0 }, Uint8Array.of(9, 8, 7, 6));
    const { header: h, pixels } = decodeFrameMessage(msg.slice().buffer);
    expect(h.frame).toBe(7);
    expect([...pixels]).toEqual([9, 8, 7, 6]);
    expect(() => decodeFrameMessage(new ArrayBuffer(2))).toThrow(/no header length/);
    const big = new Uint8Array(8);
    new DataView(big.buffer).setUint32(0, MAX_FRAME_HEADER + 1, true);
    expect(() => decodeFrameMessage(big.buffer)).toThrow(/out of bounds/);
    const short = new Uint8Array(8);
    new DataView(short.buffer).setUint32(0, 100, true);
    expect(() => decodeFrameMessage(short.buffer)).toThrow(/out of bounds/);
  });
});
