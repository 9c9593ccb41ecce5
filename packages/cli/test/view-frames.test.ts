import { describe, expect, it } from 'vitest';
import { FrameClient } from '../src/viewer/frame-client.js';
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
    send(data: Uint8Array) {
      const copy = data.slice();
      const { header, pixels } = decodeFrameMessage(copy.buffer);
      sent.push({ header, pixels: [...pixels] });
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
