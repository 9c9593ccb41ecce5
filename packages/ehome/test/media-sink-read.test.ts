import { connect, type Socket } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { PortPool, TruncatedError } from '@cam/net-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { H264TestPatternGenerator, MediaSink, MediaStreamEncoder } from '../src/index.js';

// MediaSink reads the device's connection into one reused buffer (onread) unless told not to or emitPs is on.
// Both read paths must deliver the same access units, byte-exact, also with a slow consumer (backpressure).

let nextBase = 43_000 + (process.pid % 200) * 10;
function pool(): PortPool {
  const p = new PortPool({ min: nextBase, max: nextBase + 3, host: '127.0.0.1' });
  nextBase += 4;
  return p;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A few MB of muxed stream (many 64 KiB reads), and the access units in it. */
function stream(frames: number): { bytes: Buffer; sent: string[] } {
  const gen = new H264TestPatternGenerator({ width: 160, height: 96, gop: 5 });
  const enc = new MediaStreamEncoder({ framing: 'rtp-interleaved', initialSequence: 0, ssrc: 7 });
  const parts: Uint8Array[] = [];
  const sent: string[] = [];
  for (let i = 0; i < frames; i++) {
    const au = gen.next();
    sent.push(Buffer.from(au.data).toString('hex'));
    parts.push(enc.encode(au));
  }
  return { bytes: Buffer.concat(parts), sent };
}

/** Writes `bytes` (or its first `cut` bytes) in pieces of odd sizes, then ends. */
function push(port: number, bytes: Buffer, cut?: number): Socket {
  const s = connect({ host: '127.0.0.1', port }, () => {
    const end = cut ?? bytes.length;
    let o = 0;
    let size = 1;
    while (o < end) {
      const n = Math.min(end - o, size);
      s.write(bytes.subarray(o, o + n));
      o += n;
      size = (size * 7 + 13) % 100_003;
    }
    s.end();
  });
  s.on('error', () => undefined);
  cleanups.push(() => void s.destroy());
  return s;
}

describe('MediaSink read paths', () => {
  const { bytes, sent } = stream(60);

  for (const variant of [
    { name: 'reused read buffer (default)', options: {} },
    { name: 'a Buffer per read (reuseReadBuffer: false)', options: { reuseReadBuffer: false } },
    { name: 'emitPs (a Buffer per read)', options: { emitPs: true } },
  ]) {
    it(`${variant.name}: every access unit byte-exact with a slow consumer, the port back in the pool`, async () => {
      const p = pool();
      cleanups.push(() => p.close());
      const sink = await MediaSink.open({
        pool: p,
        expectedAddress: '127.0.0.1',
        highWaterMark: 2,
        ...variant.options,
      });
      cleanups.push(() => sink.close());
      expect(bytes.length).toBeGreaterThan(20 * 65_536);
      push(sink.port, bytes);
      const got: string[] = [];
      const ps: Uint8Array[] = [];
      let n = 0;
      for await (const e of sink) {
        if (e.type === 'ps') ps.push(e.bytes.slice());
        if (e.type !== 'access-unit') continue;
        got.push(Buffer.from(e.accessUnit.data).toString('hex'));
        if (n++ % 3 === 0) await tick(); // slower than the socket: the sink pauses and resumes it
      }
      expect(got).toEqual(sent);
      expect(sink.stats.bytes).toBe(bytes.length);
      expect(sink.stats.lostPackets).toBe(0);
      if (variant.options.emitPs) expect(Buffer.concat(ps).length).toBeGreaterThan(0);
      else expect(ps).toEqual([]);
      expect(p.inUse).toBe(0);
    });
  }

  it('reused read buffer: a connection cut mid-frame ends in a TruncatedError and frees the port', async () => {
    const p = pool();
    cleanups.push(() => p.close());
    const sink = await MediaSink.open({ pool: p, expectedAddress: '127.0.0.1' });
    cleanups.push(() => sink.close());
    push(sink.port, bytes, 3 * 65_536 + 777);
    let count = 0;
    const run = (async () => {
      for await (const _ of sink.accessUnits({ reuseBuffers: true })) count++;
    })();
    await expect(run).rejects.toBeInstanceOf(TruncatedError);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(sent.length);
    expect(p.inUse).toBe(0);
  });

  it('reused read buffer: a connection reset mid-stream ends the iteration with an error, not a hang', async () => {
    const p = pool();
    cleanups.push(() => p.close());
    const sink = await MediaSink.open({ pool: p, expectedAddress: '127.0.0.1' });
    cleanups.push(() => sink.close());
    const s = connect({ host: '127.0.0.1', port: sink.port }, () => {
      s.write(bytes.subarray(0, 200_001), () => setTimeout(() => s.resetAndDestroy(), 20));
    });
    s.on('error', () => undefined);
    cleanups.push(() => void s.destroy());
    const run = (async () => {
      for await (const _ of sink.accessUnits()) {
        // drain
      }
    })();
    await expect(run).rejects.toBeInstanceOf(Error);
    expect(p.inUse).toBe(0);
  });

  it('close() while the device is still sending ends the iteration and frees the port', async () => {
    const p = pool();
    cleanups.push(() => p.close());
    const sink = await MediaSink.open({ pool: p, expectedAddress: '127.0.0.1', highWaterMark: 1 });
    push(sink.port, Buffer.concat([bytes, bytes]));
    let count = 0;
    for await (const _ of sink.accessUnits()) if (++count === 5) await sink.close();
    expect(count).toBeGreaterThanOrEqual(5);
    expect(p.inUse).toBe(0);
  });
});
