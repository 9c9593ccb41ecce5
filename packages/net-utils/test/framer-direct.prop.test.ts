import { createServer, connect as netConnect, type Socket } from 'node:net';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { LengthFramer, readIntoUserBuffer } from '../src/index.js';
import { concat, configAndFrames } from './framer-helpers.js';

/**
 * Plays a reader that reads into the framer's pending body when there is one and into ONE reused scratch buffer
 * otherwise (what an `onread` reader does), with read sizes drawn at random.
 */
function readDirect(framer: LengthFramer, stream: Uint8Array, reads: number[], scratchSize: number): Uint8Array[] {
  const scratch = new Uint8Array(scratchSize);
  const out: Uint8Array[] = [];
  let pos = 0;
  for (let i = 0; pos < stream.byteLength && i < 100_000; i++) {
    const target = framer.pendingBody() ?? scratch;
    const n = Math.min(target.byteLength, stream.byteLength - pos, Math.max(1, reads[i % reads.length] ?? 1));
    target.set(stream.subarray(pos, pos + n));
    pos += n;
    if (target === scratch) {
      framer.pushTo(scratch.subarray(0, n), out);
      scratch.fill(0xee); // the next read overwrites it: nothing handed out may alias it
    } else framer.commitBody(n, out);
  }
  return out;
}

describe('LengthFramer direct body reads (pendingBody / commitBody, copyWholeFrames)', () => {
  test.prop([
    configAndFrames,
    fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 30 }),
    fc.integer({ min: 1, max: 900 }),
  ])('give the same frames as push, none aliasing the reused scratch buffer', ({ o, frames }, reads, scratchSize) => {
    const stream = concat(frames);
    const expected = new LengthFramer(o).push(stream).map((f) => Uint8Array.from(f));
    const got = readDirect(new LengthFramer({ ...o, copyWholeFrames: true }), stream, reads, scratchSize);
    expect(got.map((f) => Uint8Array.from(f))).toEqual(expected);
  });

  it('pendingBody is null between frames; commitBody refuses more than is missing', () => {
    const f = new LengthFramer({
      headerSize: 2,
      lengthFieldOffset: 0,
      lengthFieldSize: 2,
      lengthIncludesHeader: true,
      maxFrameSize: 100,
    });
    expect(f.pendingBody()).toBeNull();
    expect(() => f.commitBody(1, [])).toThrow(RangeError);
    const out: Uint8Array[] = [];
    f.pushTo(Uint8Array.of(0, 10, 1, 2), out);
    expect(f.pendingBody()?.byteLength).toBe(6);
    expect(() => f.commitBody(7, out)).toThrow(RangeError);
    f.pendingBody()!.set([3, 4, 5, 6, 7, 8]);
    f.commitBody(6, out);
    expect(out).toEqual([Uint8Array.of(0, 10, 1, 2, 3, 4, 5, 6, 7, 8)]);
    expect(f.pendingBody()).toBeNull();
  });
});

describe('readIntoUserBuffer', () => {
  it('reads an accepted connection into caller memory, byte-exact, with pause and resume', async () => {
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const data = new Uint8Array(3_000_000).map((_, i) => (i * 7) & 0xff);
    const accepted = new Promise<Socket>((r) => server.once('connection', r));
    const client = netConnect({ host: '127.0.0.1', port });
    const a = await accepted;
    const received = new Uint8Array(data.byteLength);
    let fill = 0;
    let pauses = 0;
    let reader: Socket | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const buffer = new Uint8Array(4096);
      reader = readIntoUserBuffer(a, {
        buffer,
        callback: (n, buf) => {
          expect(buf).toBe(buffer);
          received.set(buf.subarray(0, n), fill);
          fill += n;
          if (fill > 1_000_000 && pauses === 0) {
            pauses++;
            setTimeout(() => reader?.resume(), 20);
            return false;
          }
          return true;
        },
      });
      if (!reader) return reject(new Error('not adopted'));
      reader.on('error', reject);
      reader.on('end', () => resolve());
      reader.resume();
    });
    expect(a.destroyed).toBe(true);
    client.end(data);
    await done;
    expect(fill).toBe(data.byteLength);
    expect(Buffer.compare(received, data)).toBe(0);
    expect(pauses).toBe(1);
    expect(reader!.remoteAddress).toBe('127.0.0.1');
    reader!.destroy();
    client.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('leaves a socket that is already flowing untouched', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise<Socket>((r) => server.once('connection', r));
    const client = netConnect({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
    const a = await accepted;
    a.on('data', () => {});
    expect(readIntoUserBuffer(a, { buffer: new Uint8Array(16), callback: () => true })).toBeUndefined();
    expect(a.destroyed).toBe(false);
    a.destroy();
    client.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
