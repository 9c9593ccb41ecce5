import { getEventListeners, once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, FrameTooLargeError, LengthFramer, readFrames, TruncatedError } from '../src/index.js';

// 4-byte big-endian body length, then the body.
const framing = { headerSize: 4, lengthFieldOffset: 0, lengthFieldSize: 4, lengthIncludesHeader: false } as const;

function frame(size: number, seed: number): Uint8Array {
  const f = new Uint8Array(4 + size);
  new DataView(f.buffer).setUint32(0, size);
  for (let i = 0; i < size; i++) f[4 + i] = (seed * 7 + i) & 0xff;
  return f;
}

interface Pair {
  /** The side readFrames reads from. */
  client: Socket;
  /** The peer that writes frames. */
  peer: Socket;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tcpPair(): Promise<Pair> {
  const server: Server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(address.port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = await accepted;
  cleanups.push(async () => {
    client.destroy();
    peer.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { client, peer };
}

describe('readFrames over TCP on 127.0.0.1', () => {
  it('delivers every frame intact however the peer writes them, and ends with the stream', async () => {
    const { client, peer } = await tcpPair();
    const frames = Array.from({ length: 200 }, (_, i) => frame((i * 997) % 5000, i));
    const all = Buffer.concat(frames);
    // Write in odd-sized pieces so frames straddle TCP segments.
    (async () => {
      for (let at = 0; at < all.length; ) {
        const n = 1 + ((at * 13) % 3001);
        if (!peer.write(all.subarray(at, at + n))) await once(peer, 'drain');
        at += n;
      }
      peer.end();
    })();
    const got: Uint8Array[] = [];
    for await (const f of readFrames(client, new LengthFramer({ ...framing, maxFrameSize: 8192 }))) got.push(f);
    expect(got.length).toBe(frames.length);
    for (let i = 0; i < frames.length; i++) expect(Buffer.compare(got[i]!, frames[i]!)).toBe(0);
    // Listeners are removed once the iteration ends.
    expect(client.listenerCount('data')).toBe(0);
  });

  it('pauses the socket for a slow consumer, bounds what it holds, and loses nothing', async () => {
    const { client, peer } = await tcpPair();
    // 8 MiB: more than the kernel buffers of both sides can hold while the reader is paused.
    const frames = Array.from({ length: 512 }, (_, i) => frame(16 * 1024 - 4, i));
    let written = 0;
    let peerBlocked = false;
    (async () => {
      for (const f of frames) {
        written++;
        if (!peer.write(f)) {
          peerBlocked = true;
          await once(peer, 'drain');
        }
      }
      peer.end();
    })();
    const maxBufferedBytes = 64 * 1024;
    const framer = new LengthFramer({ ...framing, maxFrameSize: 16 * 1024 });
    let consumed = 0;
    let sawPaused = false;
    let maxHeld = 0;
    let i = 0;
    for await (const f of readFrames(client, framer, { maxBufferedBytes })) {
      expect(Buffer.compare(f, frames[i]!)).toBe(0);
      i++;
      consumed += f.byteLength;
      if (i <= 20) {
        await delay(15); // slow at first: data piles up
        sawPaused ||= client.isPaused();
        // Bytes read from the kernel but not yet handed over: the frame queue (<= limit + one 64 KiB read), one
        // partial frame, and the socket's own readable buffer (<= its high-water mark + one read).
        maxHeld = Math.max(maxHeld, client.bytesRead - consumed);
      }
    }
    expect(i).toBe(frames.length);
    expect(written).toBe(frames.length);
    expect(sawPaused).toBe(true);
    expect(peerBlocked).toBe(true);
    expect(maxHeld).toBeLessThanOrEqual(
      maxBufferedBytes + 64 * 1024 + 16 * 1024 + client.readableHighWaterMark + 64 * 1024,
    );
    expect(maxHeld).toBeLessThan(1024 * 1024); // far below the 8 MiB the peer wanted to send
  });

  it('a bad frame destroys the socket and the iterator throws the typed error after the good frames', async () => {
    const { client, peer } = await tcpPair();
    const tooBig = new Uint8Array(4);
    new DataView(tooBig.buffer).setUint32(0, 1_000_000);
    peer.write(Buffer.concat([frame(3, 1), frame(5, 2), tooBig, new Uint8Array(100)]));
    const got: Uint8Array[] = [];
    let error: unknown;
    try {
      for await (const f of readFrames(client, new LengthFramer({ ...framing, maxFrameSize: 1024 }))) got.push(f);
    } catch (e) {
      error = e;
    }
    expect(got.map((f) => f.byteLength)).toEqual([7, 9]);
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect(client.destroyed).toBe(true);
    await once(peer, 'close');
  });

  it('a connection reset is thrown from the iterator after the frames before it', async () => {
    const { client, peer } = await tcpPair();
    peer.write(frame(4, 1));
    const got: Uint8Array[] = [];
    let error: unknown;
    try {
      for await (const f of readFrames(client, new LengthFramer({ ...framing, maxFrameSize: 64 }))) {
        got.push(f);
        peer.resetAndDestroy();
      }
    } catch (e) {
      error = e;
    }
    expect(got.length).toBe(1);
    expect(error).toMatchObject({ code: 'ECONNRESET' });
  });

  it('a stream that ends mid-frame throws TruncatedError', async () => {
    const { client, peer } = await tcpPair();
    peer.end(frame(10, 1).subarray(0, 8));
    let error: unknown;
    try {
      for await (const _ of readFrames(client, new LengthFramer({ ...framing, maxFrameSize: 1024 }))) {
        // no frame expected
      }
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TruncatedError);
    expect(error).toMatchObject({ offset: 0, needed: 14, available: 8 });
  });

  it('aborts through the signal: throws the reason, destroys the socket, removes its listener', async () => {
    const { client, peer } = await tcpPair();
    const controller = new AbortController();
    peer.write(frame(2, 1));
    const got: Uint8Array[] = [];
    let error: unknown;
    try {
      for await (const f of readFrames(client, new LengthFramer({ ...framing, maxFrameSize: 64 }), {
        signal: controller.signal,
      })) {
        got.push(f);
        setTimeout(() => controller.abort(new AbortError('stop reading')), 5);
      }
    } catch (e) {
      error = e;
    }
    expect(got.length).toBe(1);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as Error).message).toBe('stop reading');
    expect(client.destroyed).toBe(true);
    expect(getEventListeners(controller.signal, 'abort').length).toBe(0);
  });

  it('an already aborted signal throws before reading', async () => {
    const { client } = await tcpPair();
    const iterator = readFrames(client, new LengthFramer({ ...framing, maxFrameSize: 64 }), {
      signal: AbortSignal.abort(),
    });
    await expect(iterator.next()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('leaving the loop early keeps the socket and a later reader continues', async () => {
    const { client, peer } = await tcpPair();
    const framer = new LengthFramer({ ...framing, maxFrameSize: 64 });
    peer.write(frame(1, 1));
    for await (const f of readFrames(client, framer)) {
      expect(f.byteLength).toBe(5);
      break;
    }
    expect(client.destroyed).toBe(false);
    expect(client.isPaused()).toBe(true);
    // Sent while nobody listens: must wait in the socket, not be dropped.
    peer.write(frame(2, 2).subarray(0, 3));
    await delay(20);
    peer.end(frame(2, 2).subarray(3));
    const rest: number[] = [];
    for await (const f of readFrames(client, framer)) rest.push(f.byteLength);
    expect(rest).toEqual([6]);
  });

  it('a socket that has already ended or been destroyed ends the iteration at once', async () => {
    const { client, peer } = await tcpPair();
    peer.end();
    client.resume();
    await once(client, 'end');
    const frames: Uint8Array[] = [];
    for await (const f of readFrames(client, new LengthFramer({ ...framing, maxFrameSize: 64 }))) frames.push(f);
    expect(frames).toEqual([]);
    client.destroy();
    await once(client, 'close');
    for await (const f of readFrames(client, new LengthFramer({ ...framing, maxFrameSize: 64 }))) frames.push(f);
    expect(frames).toEqual([]);
  });
});
