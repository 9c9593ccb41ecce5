import { connect } from 'node:net';
import { PortPool, PortPoolExhaustedError, TimeoutError, TruncatedError } from '@cam/net-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AccessUnitSource,
  H264TestPatternGenerator,
  MediaPusher,
  MediaSink,
  MediaStreamEncoder,
} from '../src/index.js';

function clip(frames: number): { source: AccessUnitSource; sent: Uint8Array[] } {
  const gen = new H264TestPatternGenerator({ width: 32, height: 32, gop: 5 });
  const sent: Uint8Array[] = [];
  let n = 0;
  return {
    sent,
    source: {
      next() {
        if (n++ >= frames) return undefined;
        const au = gen.next();
        sent.push(au.data);
        return au;
      },
    },
  };
}

// A high range unlikely to be used; each test gets its own slice so a port in TIME_WAIT never matters.
let nextBase = 41_000 + (process.pid % 200) * 20;
function pool(size = 4): PortPool {
  const p = new PortPool({ min: nextBase, max: nextBase + size - 1, host: '127.0.0.1' });
  nextBase += size;
  return p;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('MediaSink and MediaPusher on loopback', () => {
  it('preview: the elementary stream arrives byte-exact, in both framings, and the port goes back to the pool', async () => {
    for (const framing of ['rtp-interleaved', 'private-header'] as const) {
      const p = pool();
      const sink = await MediaSink.open({ pool: p, expectedAddress: '127.0.0.1' });
      cleanups.push(() => sink.close());
      expect(p.inUse).toBe(1);
      const { source, sent } = clip(12);
      const pusher = new MediaPusher({
        host: '127.0.0.1',
        port: sink.port,
        source,
        fps: 500,
        framing,
        strayByte: framing === 'private-header',
      });
      await pusher.start();
      const got: Uint8Array[] = [];
      for await (const au of sink.accessUnits()) got.push(au.data);
      expect(got.map((g) => Buffer.from(g).toString('hex'))).toEqual(sent.map((s) => Buffer.from(s).toString('hex')));
      expect(sink.decoder.framing).toBe(framing);
      expect(sink.stats.lostPackets).toBe(0);
      await pusher.finished;
      expect(p.inUse).toBe(0);
    }
  });

  it('reuseBuffers recycles access-unit memory and still delivers every unit intact', async () => {
    const sink = await MediaSink.open({ pool: pool(), expectedAddress: '127.0.0.1' });
    cleanups.push(() => sink.close());
    const { source, sent } = clip(20);
    const pusher = new MediaPusher({ host: '127.0.0.1', port: sink.port, source, fps: 500 });
    await pusher.start();
    const got: string[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for await (const au of sink.accessUnits({ reuseBuffers: true })) {
      got.push(Buffer.from(au.data).toString('hex'));
      buffers.add(au.data.buffer);
    }
    expect(got).toEqual(sent.map((s) => Buffer.from(s).toString('hex')));
    expect(buffers.size).toBeLessThan(sent.length); // memory was reused
  });

  it('refuses a connection from another address, then accepts the device', async () => {
    const sink = await MediaSink.open({ pool: pool(), expectedAddress: '127.0.0.1' });
    cleanups.push(() => sink.close());
    const rejected = new Promise((resolve) => sink.once('rejected', resolve));
    const intruder = connect({ host: '127.0.0.1', port: sink.port, localAddress: '127.0.0.2' });
    intruder.on('error', () => undefined);
    expect(await rejected).toMatchObject({ address: '127.0.0.2' });
    intruder.destroy();
    expect(sink.connected).toBe(false);
    const { source, sent } = clip(3);
    const pusher = new MediaPusher({ host: '127.0.0.1', port: sink.port, source, fps: 500 });
    await pusher.start();
    let count = 0;
    for await (const _ of sink.accessUnits()) count++;
    expect(count).toBe(sent.length);
    expect(sink.rejectedConnections).toBe(1);
  });

  it('port pool exhaustion is a clear error and leaks nothing', async () => {
    const p = pool(1);
    const first = await MediaSink.open({ pool: p, expectedAddress: '127.0.0.1' });
    await expect(MediaSink.open({ pool: p, expectedAddress: '127.0.0.1' })).rejects.toBeInstanceOf(
      PortPoolExhaustedError,
    );
    await first.close();
    expect(p.inUse).toBe(0);
    const again = await MediaSink.open({ pool: p, expectedAddress: '127.0.0.1' });
    expect(again.port).toBe(first.port);
    await again.close();
  });

  it('a stream torn down mid-packet ends the iteration with a typed error and frees the port', async () => {
    const p = pool();
    const sink = await MediaSink.open({ pool: p, expectedAddress: '127.0.0.1' });
    const enc = new MediaStreamEncoder({ framing: 'rtp-interleaved' });
    const gen = new H264TestPatternGenerator({ width: 32, height: 32 });
    const bytes = enc.encode(gen.next());
    const s = connect({ host: '127.0.0.1', port: sink.port });
    await new Promise((r) => s.once('connect', r));
    s.end(bytes.subarray(0, bytes.length - 7));
    const consume = async (): Promise<number> => {
      let n = 0;
      for await (const _ of sink) n++;
      return n;
    };
    await expect(consume()).rejects.toBeInstanceOf(TruncatedError);
    expect(p.inUse).toBe(0);
  });

  it('gives up with a TimeoutError when the device never connects', async () => {
    const p = pool();
    const sink = await MediaSink.open({ pool: p, expectedAddress: '127.0.0.1', acceptTimeoutMs: 50 });
    const consume = async (): Promise<void> => {
      for await (const _ of sink) {
        /* nothing arrives */
      }
    };
    await expect(consume()).rejects.toBeInstanceOf(TimeoutError);
    expect(p.inUse).toBe(0);
  });

  it('pause, resume and speed control the pusher', async () => {
    const sink = await MediaSink.open({ pool: pool(), expectedAddress: '127.0.0.1' });
    cleanups.push(() => sink.close());
    const { source } = clip(1000);
    const pusher = new MediaPusher({ host: '127.0.0.1', port: sink.port, source, fps: 200 });
    cleanups.push(() => pusher.stop());
    await pusher.start();
    const it = sink.accessUnits()[Symbol.asyncIterator]();
    await it.next();
    pusher.pause();
    expect(pusher.isPaused).toBe(true);
    const sentWhilePaused = pusher.sent;
    await new Promise((r) => setTimeout(r, 60));
    expect(pusher.sent).toBe(sentWhilePaused);
    pusher.setSpeed(4);
    expect(pusher.speed).toBe(4);
    expect(() => pusher.setSpeed(100)).toThrow(/speed/);
    pusher.resume();
    await it.next();
    await it.next();
    expect(pusher.sent).toBeGreaterThan(sentWhilePaused);
    pusher.stop();
    await pusher.finished;
  });
});
