import { connect as netConnect, type Socket } from 'node:net';
import { GvcpStatus } from '@cam/gvcp/codec';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type DeviceStateChange,
  ErrorCode,
  mcdaValue,
  PayloadKind,
  SC_GVMP_HEADER_SIZE,
  ScGvmpDevice,
  type ScGvmpDeviceOptions,
  type ScGvmpFrame,
  ScGvmpFrameDecoder,
  ScGvmpRegisterWriteError,
  StreamState,
  testPatternJpeg,
  WriteStallError,
} from '../src/index.js';
import { closedPort, MemoryRegisterHost, plainServer, silentHost, until } from './support.js';

const R = { mcda: 0xb000, mcp: 0xb004, start: 0xb008, state: 0xb00c, err: 0xb010 };
const LOOPBACK = mcdaValue('127.0.0.1');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function makeDevice(options: ScGvmpDeviceOptions = {}): {
  device: ScGvmpDevice;
  host: MemoryRegisterHost;
  states: string[];
} {
  const device = new ScGvmpDevice({ fps: 50, ...options });
  const host = new MemoryRegisterHost();
  device.attach(host);
  const states: string[] = [];
  device.on('state', (c: DeviceStateChange) => states.push(c.state));
  cleanups.push(() => device.close());
  return { device, host, states };
}

function refusal(fn: () => void): ScGvmpRegisterWriteError {
  try {
    fn();
  } catch (error) {
    if (ScGvmpRegisterWriteError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected the write to be refused');
}

/** A host that decodes what it receives. */
async function receivingHost() {
  const frames: ScGvmpFrame[] = [];
  const errors: Error[] = [];
  const srv = await plainServer((s) => {
    const d = new ScGvmpFrameDecoder();
    s.on('data', (chunk: Buffer) => {
      try {
        for (const f of d.push(chunk)) frames.push({ ...f, payload: f.payload.slice() });
      } catch (error) {
        errors.push(error as Error);
        s.destroy();
      }
    });
  });
  cleanups.push(() => srv.close());
  return { ...srv, frames, errors };
}

function configure(host: MemoryRegisterHost, port: number): void {
  host.write(R.mcda, LOOPBACK);
  host.write(R.mcp, port);
}

describe('ScGvmpDevice registers', () => {
  it('starts Idle with zeroed registers and caches MCDA/MCP without connecting', () => {
    const { device, host } = makeDevice();
    expect([R.mcda, R.mcp, R.start, R.state, R.err].map((a) => host.read(a))).toEqual([0, 0, 0, 0, 0]);
    configure(host, 1234);
    expect(host.read(R.mcda)).toBe(0x7f000001);
    expect(host.read(R.mcp)).toBe(1234);
    expect(device.state).toBe('Idle');
    expect(device.stats.connectAttempts).toBe(0);
  });

  it('refuses bad values, read-only writes and unknown addresses with GVCP statuses', () => {
    const { device } = makeDevice();
    expect(refusal(() => device.writeRegister(R.mcp, 0x10000)).gvcpStatus).toBe(GvcpStatus.INVALID_PARAMETER);
    expect(refusal(() => device.writeRegister(R.start, 2)).gvcpStatus).toBe(GvcpStatus.INVALID_PARAMETER);
    expect(refusal(() => device.writeRegister(R.state, 0)).gvcpStatus).toBe(GvcpStatus.WRITE_PROTECT);
    expect(refusal(() => device.writeRegister(R.err, 0)).gvcpStatus).toBe(GvcpStatus.WRITE_PROTECT);
    expect(refusal(() => device.writeRegister(0xb014, 0)).gvcpStatus).toBe(GvcpStatus.INVALID_ADDRESS);
    expect(device.errCode).toBe(ErrorCode.ERR_NONE);
  });

  it('serves a configured register map', () => {
    const device = new ScGvmpDevice({ registers: { mcda: 0xc000, mcp: 0xc004 } });
    cleanups.push(() => device.close());
    const host = new MemoryRegisterHost();
    const detach = device.attach(host);
    expect([...host.handlers.keys()].sort()).toEqual([0xb008, 0xb00c, 0xb010, 0xc000, 0xc004]);
    detach();
    expect(host.handlers.size).toBe(0);
  });
});

describe('ScGvmpDevice state machine', () => {
  it('STREAM_START=1 without MCDA and MCP -> refused, ERR_PARAM_INCOMPLETE, stays Idle', () => {
    const { device, host, states } = makeDevice();
    const e = refusal(() => device.writeRegister(R.start, 1));
    expect(e.gvcpStatus).toBe(GvcpStatus.WRONG_CONFIG);
    expect(e.errCode).toBe(ErrorCode.ERR_PARAM_INCOMPLETE);
    expect(host.read(R.err)).toBe(ErrorCode.ERR_PARAM_INCOMPLETE);
    expect(host.read(R.state)).toBe(StreamState.Idle);
    expect(host.read(R.start)).toBe(0);
    // MCDA alone, MCP alone, and an invalid MCDA (0.0.0.0, broadcast, multicast) are incomplete too.
    host.write(R.mcda, LOOPBACK);
    expect(refusal(() => device.writeRegister(R.start, 1)).errCode).toBe(ErrorCode.ERR_PARAM_INCOMPLETE);
    host.write(R.mcda, 0);
    host.write(R.mcp, 5000);
    expect(refusal(() => device.writeRegister(R.start, 1)).errCode).toBe(ErrorCode.ERR_PARAM_INCOMPLETE);
    for (const bad of [0xffffffff, mcdaValue('239.1.2.3')]) {
      host.write(R.mcda, bad);
      expect(refusal(() => device.writeRegister(R.start, 1)).errCode).toBe(ErrorCode.ERR_PARAM_INCOMPLETE);
    }
    expect(states).toEqual([]);
    expect(device.stats.connectAttempts).toBe(0);
  });

  it('Idle -> Connecting -> Streaming, frames with increasing Seq, then STREAM_START=0 -> Idle closing at once', async () => {
    const rx = await receivingHost();
    const { device, host, states } = makeDevice({ fps: 100 });
    configure(host, rx.port);
    host.write(R.start, 1);
    expect(states).toEqual(['Connecting']);
    expect(host.read(R.state)).toBe(StreamState.Connecting);
    await until(() => device.state === 'Streaming', 3000, 'Streaming');
    await until(() => rx.frames.length >= 5, 3000, 'frames');
    expect(states).toEqual(['Connecting', 'Streaming']);
    const seqs = rx.frames.map((f) => f.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(rx.frames[0]!.kind).toBe(PayloadKind.JPEG);
    expect(Buffer.from(rx.frames[2]!.payload).equals(Buffer.from(testPatternJpeg(2)))).toBe(true);
    const peer = rx.sockets[0]!;
    const closed = new Promise((r) => peer.once('close', r));
    host.write(R.start, 0);
    expect(host.read(R.state)).toBe(StreamState.Idle);
    expect(states).toEqual(['Connecting', 'Streaming', 'Idle']);
    await closed;
    expect(rx.errors).toEqual([]);
  });

  it('Connecting -> Error with ERR_CONNECT_FAIL when the host port is closed', async () => {
    const port = await closedPort();
    const { device, host, states } = makeDevice();
    configure(host, port);
    host.write(R.start, 1);
    await until(() => device.state === 'Error', 3000, 'Error');
    expect(host.read(R.err)).toBe(ErrorCode.ERR_CONNECT_FAIL);
    expect(host.read(R.state)).toBe(StreamState.Error);
    expect(states).toEqual(['Connecting', 'Error']);
    // Error -> Idle on STREAM_START=0 (and no reconnect afterwards).
    host.write(R.start, 0);
    expect(device.state).toBe('Idle');
  });

  it('Connecting -> Error with ERR_CONNECT_TIMEOUT when the host does not answer', async () => {
    const silent = await silentHost();
    cleanups.push(() => silent.close());
    const { device, host } = makeDevice({ connectTimeoutMs: 300 });
    configure(host, silent.port);
    host.write(R.start, 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(device.state).toBe('Connecting');
    await until(() => device.state === 'Error', 3000, 'Error');
    expect(device.errCode).toBe(ErrorCode.ERR_CONNECT_TIMEOUT);
  });

  it('stop during Connecting -> Idle, the attempt abandoned (no later Error)', async () => {
    const silent = await silentHost();
    cleanups.push(() => silent.close());
    const { device, host, states } = makeDevice({ connectTimeoutMs: 200 });
    configure(host, silent.port);
    host.write(R.start, 1);
    expect(device.state).toBe('Connecting');
    host.write(R.start, 0);
    expect(device.state).toBe('Idle');
    await new Promise((r) => setTimeout(r, 400));
    expect(states).toEqual(['Connecting', 'Idle']);
    expect(device.errCode).toBe(ErrorCode.ERR_NONE);
  });

  it('double start -> ERR_STREAM_BUSY while Connecting and while Streaming; the stream goes on', async () => {
    const rx = await receivingHost();
    const { device, host } = makeDevice({ fps: 100 });
    configure(host, rx.port);
    host.write(R.start, 1);
    const busy1 = refusal(() => device.writeRegister(R.start, 1));
    expect([busy1.gvcpStatus, busy1.errCode]).toEqual([GvcpStatus.BUSY, ErrorCode.ERR_STREAM_BUSY]);
    await until(() => device.state === 'Streaming', 3000, 'Streaming');
    const busy2 = refusal(() => device.writeRegister(R.start, 1));
    expect(busy2.errCode).toBe(ErrorCode.ERR_STREAM_BUSY);
    // Nor may the destination of the running session be changed.
    expect(refusal(() => device.writeRegister(R.mcp, 9)).gvcpStatus).toBe(GvcpStatus.BUSY);
    expect(refusal(() => device.writeRegister(R.mcda, 1)).errCode).toBe(ErrorCode.ERR_STREAM_BUSY);
    expect([host.read(R.mcda), host.read(R.mcp)]).toEqual([LOOPBACK, rx.port]);
    expect(host.read(R.err)).toBe(ErrorCode.ERR_STREAM_BUSY);
    const n = rx.frames.length;
    await until(() => rx.frames.length > n + 2, 3000, 'more frames');
    expect(device.state).toBe('Streaming');
    expect(device.stats.connections).toBe(1);
  });

  it('Streaming -> Error with ERR_TCP_RESET when the host resets mid-frame', async () => {
    let seen = 0;
    const srv = await plainServer((s) => {
      s.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        // Reset once part of the first 1 MB frame has arrived: the device is mid-frame.
        if (seen > 100_000 && !s.destroyed) s.resetAndDestroy();
      });
    });
    cleanups.push(() => srv.close());
    const big = new Uint8Array(1 << 20);
    const { device, host, states } = makeDevice({
      fps: 0,
      source: () => ({ kind: 'RAW', payload: big }),
      maxReconnects: 0,
    });
    configure(host, srv.port);
    host.write(R.start, 1);
    await until(() => device.state === 'Error', 5000, 'Error');
    expect(device.errCode).toBe(ErrorCode.ERR_TCP_RESET);
    expect(states).toEqual(['Connecting', 'Streaming', 'Error']);
    // Streaming -> Idle is covered above; Error -> Connecting on a new STREAM_START=1.
    host.write(R.start, 1);
    expect(device.state).toBe('Connecting');
    expect(device.errCode).toBe(ErrorCode.ERR_NONE);
    host.write(R.start, 0);
  });

  it('Streaming -> Error with ERR_TCP_RESET when the host closes, then reconnects with continuing Seq', async () => {
    const rx = await receivingHost();
    const { device, host } = makeDevice({ fps: 100, backoff: { initialMs: 50, maxMs: 200 } });
    configure(host, rx.port);
    host.write(R.start, 1);
    await until(() => rx.frames.length >= 3, 3000, 'frames');
    rx.sockets[0]!.destroy();
    await until(() => device.errCode === ErrorCode.ERR_TCP_RESET, 3000, 'reset noticed');
    await until(() => device.stats.connections === 2 && device.state === 'Streaming', 3000, 'reconnected');
    const before = rx.frames.length;
    await until(() => rx.frames.length >= before + 3, 3000, 'frames after reconnect');
    const seqs = rx.frames.map((f) => f.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    // Frames captured while the channel was down were dropped: a gap shows in Seq.
    expect(device.stats.framesDropped).toBeGreaterThan(0);
    expect(seqs.at(-1)! + 1).toBeGreaterThan(seqs.length);
  });

  it('recovers when the host comes back on its port', async () => {
    const port = await closedPort();
    const { device, host } = makeDevice({ fps: 50, backoff: { initialMs: 100, factor: 2, maxMs: 400 } });
    configure(host, port);
    host.write(R.start, 1);
    await until(() => device.stats.connectAttempts >= 2, 3000, 'retries');
    expect(device.state === 'Error' || device.state === 'Connecting').toBe(true);
    expect(device.errCode).toBe(ErrorCode.ERR_CONNECT_FAIL);
    const frames: number[] = [];
    const { createServer } = await import('node:net');
    const server = createServer((s) => {
      const d = new ScGvmpFrameDecoder();
      s.on('data', (c: Buffer) => frames.push(...d.push(c).map((f) => f.seq)));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    cleanups.push(() => device.writeRegister(R.start, 0));
    await until(() => device.state === 'Streaming', 5000, 'Streaming');
    await until(() => frames.length >= 2, 3000, 'frames');
  });

  it('retries on the backoff schedule 1 s -> 2 s -> 4 s -> 4 s (fake timers)', async () => {
    const port = await closedPort();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const attempts: number[] = [];
    const delays: number[] = [];
    const { device, host, states } = makeDevice({
      fps: 0,
      connect: (t) => {
        attempts.push(Date.now());
        return netConnect(t);
      },
    });
    device.on('retry', (r) => delays.push(r.delayMs));
    // Fake timers drive the schedule; the refusals themselves arrive through real I/O, so wait on events.
    const nextRetry = () => new Promise((r) => device.once('retry', r));
    configure(host, port);
    const t0 = Date.now();
    let retry = nextRetry();
    host.write(R.start, 1);
    for (let i = 1; i <= 5; i++) {
      await retry;
      expect(device.state).toBe('Error');
      const delay = delays[i - 1]!;
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(attempts.length).toBe(i);
      retry = nextRetry();
      await vi.advanceTimersByTimeAsync(1);
      expect(attempts.length).toBe(i + 1);
    }
    await retry;
    expect(states).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 'Connecting' : 'Error')));
    expect(delays).toEqual([1000, 2000, 4000, 4000, 4000, 4000]);
    expect(attempts.map((t) => t - t0)).toEqual([0, 1000, 3000, 7000, 11000, 15000]);
    host.write(R.start, 0);
  });

  it('stops reconnecting after maxReconnects, staying in Error', async () => {
    const port = await closedPort();
    const warnings: Error[] = [];
    const { device, host } = makeDevice({ backoff: { initialMs: 10 }, maxReconnects: 2 });
    device.on('warning', (w) => warnings.push(w));
    configure(host, port);
    host.write(R.start, 1);
    await until(() => warnings.length === 1, 3000, 'give up');
    expect(device.stats.connectAttempts).toBe(3);
    expect(device.state).toBe('Error');
  });

  it('requireSession: STREAM_START from a client without the control channel -> ERR_NO_SESSION', async () => {
    const rx = await receivingHost();
    const { device, host } = makeDevice({ requireSession: true });
    configure(host, rx.port);
    const e = refusal(() => device.writeRegister(R.start, 1, { fromControlHolder: false }));
    expect([e.gvcpStatus, e.errCode]).toEqual([GvcpStatus.ACCESS_DENIED, ErrorCode.ERR_NO_SESSION]);
    expect(device.state).toBe('Idle');
    host.write(R.start, 1, { fromControlHolder: true });
    await until(() => device.state === 'Streaming', 3000, 'Streaming');
    expect(refusal(() => device.writeRegister(R.start, 0, { fromControlHolder: false })).errCode).toBe(
      ErrorCode.ERR_NO_SESSION,
    );
    expect(device.state).toBe('Streaming');
    host.write(R.start, 0);
    // Without the option any client may start.
    const other = makeDevice();
    configure(other.host, rx.port);
    other.host.write(R.start, 1, { fromControlHolder: false });
    expect(other.device.state).toBe('Connecting');
  });

  it('SO_KEEPALIVE is off by default and set when asked', async () => {
    const rx = await receivingHost();
    for (const keepAlive of [undefined, { initialDelayMs: 5000 }] as const) {
      const calls: unknown[][] = [];
      const opts: ScGvmpDeviceOptions = {
        connect: (t) => {
          const s: Socket = netConnect(t);
          const orig = s.setKeepAlive.bind(s);
          s.setKeepAlive = (...args: Parameters<Socket['setKeepAlive']>) => {
            calls.push(args);
            return orig(...args);
          };
          return s;
        },
      };
      if (keepAlive) opts.keepAlive = keepAlive;
      const { device, host } = makeDevice(opts);
      configure(host, rx.port);
      host.write(R.start, 1);
      await until(() => device.state === 'Streaming', 3000, 'Streaming');
      expect(calls).toEqual(keepAlive ? [[true, 5000]] : []);
      host.write(R.start, 0);
    }
  });

  it('sends header and payload in one writev without copying the payload', async () => {
    const rx = await receivingHost();
    const payload = new Uint8Array(5000).fill(9);
    const written: unknown[] = [];
    const { device, host } = makeDevice({
      fps: 0,
      source: (i) => (i === 0 ? { kind: 'YUV', payload } : undefined),
      connect: (t) => {
        const s = netConnect(t);
        const write = s.write.bind(s) as (chunk: unknown) => boolean;
        s.write = ((chunk: unknown) => {
          written.push(chunk);
          return write(chunk);
        }) as Socket['write'];
        return s;
      },
    });
    configure(host, rx.port);
    host.write(R.start, 1);
    await until(() => rx.frames.length === 1, 3000, 'frame');
    expect(written.length).toBe(2);
    expect((written[0] as Uint8Array).length).toBe(SC_GVMP_HEADER_SIZE);
    expect(written[1]).toBe(payload);
    expect(rx.frames[0]).toMatchObject({ seq: 0, kind: PayloadKind.YUV });
    expect(device.stats.framesSent).toBe(1);
  });

  it('fps 0 with tiny synchronous frames still lets STREAM_START=0 and timers run', async () => {
    const rx = await receivingHost();
    const tiny = Uint8Array.of(1, 2, 3);
    const { device, host } = makeDevice({ fps: 0, source: () => ({ kind: 'RAW', payload: tiny }) });
    configure(host, rx.port);
    host.write(R.start, 1);
    await until(() => device.stats.framesSent > 1000, 5000, 'many frames');
    host.write(R.start, 0);
    expect(device.state).toBe('Idle');
    const sent = device.stats.framesSent;
    await new Promise((r) => setTimeout(r, 50));
    expect(device.stats.framesSent).toBe(sent);
  });

  it('fps 0 sends user-supplied frames back to back with Seq 0..n-1 and stays connected when they end', async () => {
    const rx = await receivingHost();
    const payloads = [1, 2, 3, 4].map((n) => new Uint8Array(n * 1000).fill(n));
    const { device, host } = makeDevice({
      fps: 0,
      source: (i) => (i < payloads.length ? { kind: 'H264', payload: payloads[i]!, keyFrame: i === 0 } : undefined),
    });
    configure(host, rx.port);
    host.write(R.start, 1);
    await until(() => rx.frames.length === 4, 3000, 'frames');
    expect(rx.frames.map((f) => [f.seq, f.kind, f.keyFrame, f.payload.length])).toEqual([
      [0, PayloadKind.H264, true, 1000],
      [1, PayloadKind.H264, false, 2000],
      [2, PayloadKind.H264, false, 3000],
      [3, PayloadKind.H264, false, 4000],
    ]);
    expect(device.stats.bytesSent).toBe(10_000 + 4 * SC_GVMP_HEADER_SIZE);
    await new Promise((r) => setTimeout(r, 50));
    expect(device.state).toBe('Streaming');
  });
});

describe('a host that stops reading (issue #22)', () => {
  for (const fps of [0, 50]) {
    it(`fps ${fps}: the device closes the stalled connection (WriteStallError) and then serves a new host`, async () => {
      // the stalled host: accepts, never reads; the kernel's buffers fill and then nothing moves
      const stalled = await plainServer((s) => s.pause());
      cleanups.push(() => stalled.close());
      const { device, host } = makeDevice({
        fps,
        source: 'raw',
        testPattern: { width: 512, height: 512 },
        maxSendQueueBytes: 1024 * 1024,
        writeStallTimeoutMs: 300,
        // no reconnect to the stalled host during the test
        backoff: { initialMs: 60_000, maxMs: 60_000 },
      });
      const warnings: Error[] = [];
      device.on('warning', (e) => warnings.push(e));
      configure(host, stalled.port);
      host.write(R.start, 1);
      await until(() => device.state === 'Streaming', 3000, 'Streaming');
      await until(() => stalled.sockets.length === 1, 3000, 'accepted');
      // before the fix: at fps 0 the device waited for 'drain' forever; at fps > 0 it dropped frames forever,
      // and the connection was never given up
      await until(() => device.stats.writeStalls === 1, 20_000, 'the stalled connection closed');
      // the stalled host sees the end once it reads again
      const peer = stalled.sockets[0]!;
      const freed = new Promise((r) => peer.once('close', r));
      peer.resume();
      await freed;
      expect(device.state).toBe('Error');
      expect(device.errCode).toBe(ErrorCode.ERR_TCP_RESET);
      expect(warnings.some((w) => WriteStallError.isInstance(w))).toBe(true);
      if (fps > 0) expect(device.stats.framesDropped).toBeGreaterThan(0);
      // a legitimate host afterwards
      const rx = await receivingHost();
      host.write(R.start, 0);
      configure(host, rx.port);
      host.write(R.start, 1);
      await until(() => rx.frames.length >= 3, 10_000, 'frames at the new host');
      expect(rx.errors).toEqual([]);
      expect(device.state).toBe('Streaming');
    }, 40_000);
  }
});
