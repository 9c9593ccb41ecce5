import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { readFrames, TruncatedError, WireError } from '@cam/net-utils';
import { fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { BadMagicError, createFrameFramer, encodeFrame, FramePool, type PayloadKindName } from '../src/index.js';
import { SocketFrameQueue } from '../src/transport/frame-queue.js';

const KINDS: PayloadKindName[] = ['JPEG', 'H264', 'H265', 'RAW', 'YUV'];
const frameArb = fc.record({
  seq: fc.nat({ max: 0xffffffff }),
  kind: fc.constantFrom(...KINDS),
  payload: fc.uint8Array({ maxLength: 5000 }),
});

/** Everything the queue yields (copied, released to `pool` when given), then the error it ends with. */
async function drainQueue(
  socket: PassThrough,
  pool?: FramePool,
  maxBufferedBytes = 1 << 20,
): Promise<{ frames: Uint8Array[]; error?: unknown }> {
  const framer = createFrameFramer({
    maxPayloadLength: 5000,
    ...(pool ? { allocate: (n: number) => pool.allocate(n) } : {}),
  });
  const q = new SocketFrameQueue(socket as unknown as Socket, framer, { maxBufferedBytes });
  const frames: Uint8Array[] = [];
  try {
    for (;;) {
      const f = q.shift();
      if (f !== undefined) {
        frames.push(new Uint8Array(f));
        pool?.release(f);
      } else if (q.done) return { frames };
      else await q.wait();
    }
  } catch (error) {
    return { frames, error };
  } finally {
    q.detach();
  }
}

async function drainReadFrames(socket: PassThrough): Promise<{ frames: Uint8Array[]; error?: unknown }> {
  const frames: Uint8Array[] = [];
  try {
    for await (const f of readFrames(socket, createFrameFramer({ maxPayloadLength: 5000 }))) {
      frames.push(new Uint8Array(f));
    }
    return { frames };
  } catch (error) {
    return { frames, error };
  }
}

/** Writes `bytes` cut at `cuts` (cycled), yielding to the event loop between chunks, then ends. */
async function feed(socket: PassThrough, bytes: Uint8Array, cuts: number[]): Promise<void> {
  let pos = 0;
  for (let i = 0; pos < bytes.length; i++) {
    const end = Math.min(bytes.length, pos + cuts[i % cuts.length]!);
    socket.write(bytes.subarray(pos, end));
    pos = end;
    if (i % 3 === 0) await new Promise((r) => setImmediate(r));
  }
  socket.end();
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('SocketFrameQueue agrees with net-utils readFrames', () => {
  it('same frames, same typed error, for any stream split anywhere (pooled or not, tiny backpressure limit or not)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(frameArb, { maxLength: 10 }),
        fc.oneof(
          fc.constant(new Uint8Array(0)),
          fc.uint8Array({ minLength: 1, maxLength: 40 }), // trailing garbage or a truncated frame
        ),
        fc.array(fc.integer({ min: 1, max: 7000 }), { minLength: 1, maxLength: 10 }),
        fc.boolean(),
        fc.boolean(),
        async (frames, tail, cuts, pooled, tinyLimit) => {
          const wire = concat([...frames.map((f) => encodeFrame(f)), tail]);
          const a = new PassThrough();
          const b = new PassThrough();
          const [viaQueue, viaReadFrames] = await Promise.all([
            drainQueue(a, pooled ? new FramePool({ maxPooledBytes: 1 << 20 }) : undefined, tinyLimit ? 1 : 1 << 20),
            drainReadFrames(b),
            feed(a, wire, cuts),
            feed(b, wire, cuts),
          ]);
          expect(viaQueue.frames).toEqual(viaReadFrames.frames);
          expect((viaQueue.error as Error | undefined)?.name).toBe((viaReadFrames.error as Error | undefined)?.name);
          if (viaQueue.error !== undefined) expect(WireError.isInstance(viaQueue.error)).toBe(true);
          if (tail.length === 0) {
            expect(viaQueue.error).toBeUndefined();
            expect(viaQueue.frames).toEqual(frames.map((f) => encodeFrame(f)));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('delivers the frames before a bad header, then a typed error, and destroys the socket', async () => {
    const socket = new PassThrough();
    const good = encodeFrame({ seq: 1, kind: 'JPEG', payload: new Uint8Array([1, 2, 3]) });
    const bad = encodeFrame({ seq: 2, kind: 'JPEG', payload: new Uint8Array(3) });
    bad[0] = 0x00;
    socket.write(concat([good, bad]));
    const { frames, error } = await drainQueue(socket);
    expect(frames).toEqual([good]);
    expect(error).toBeInstanceOf(BadMagicError);
    expect(socket.destroyed).toBe(true);
  });

  it('a stream ending inside a frame ends with TruncatedError (no partial frame)', async () => {
    const socket = new PassThrough();
    const frame = encodeFrame({ seq: 1, kind: 'RAW', payload: new Uint8Array(100) });
    socket.end(frame.subarray(0, 50));
    const { frames, error } = await drainQueue(socket);
    expect(frames).toEqual([]);
    expect(error).toBeInstanceOf(TruncatedError);
  });

  it('an abort throws the reason at once and destroys the socket; detach leaves a live socket paused', async () => {
    const socket = new PassThrough();
    const controller = new AbortController();
    const q = new SocketFrameQueue(socket as unknown as Socket, createFrameFramer(), { maxBufferedBytes: 1 << 20 });
    const waiting = q.wait();
    controller.abort(new Error('stop'));
    const aborted = new SocketFrameQueue(socket as unknown as Socket, createFrameFramer(), {
      maxBufferedBytes: 1 << 20,
      signal: controller.signal,
    });
    expect(() => aborted.shift()).toThrow('stop');
    expect(socket.destroyed).toBe(true);
    await waiting; // the other reader of the socket is woken by its close
    aborted.detach();
    q.detach();
    const other = new PassThrough();
    const live = new SocketFrameQueue(other as unknown as Socket, createFrameFramer(), { maxBufferedBytes: 1 << 20 });
    live.detach();
    expect(other.isPaused()).toBe(true);
  });
});
