import { GvcpClient, GvcpDevice, GvcpStatus, GvcpStatusError } from '@cam/gvcp';
import { afterEach, describe, expect, it } from 'vitest';
import {
  attachToGvcpDevice,
  DEFAULT_REGISTER_MAP,
  ErrorCode,
  type ReceivedFrame,
  ScGvmpDevice,
  ScGvmpDeviceError,
  type ScGvmpDeviceOptions,
  type ScGvmpStream,
  startStream,
  testPatternJpeg,
} from '../src/index.js';
import { until } from './support.js';

// End to end over real GVCP on 127.0.0.1: our GvcpDevice (port 0) with ScGvmpDevice plugged in as register
// handlers, our GvcpClient, and the SC_GVMP TCP channel.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(options: ScGvmpDeviceOptions = {}) {
  const gvcp = await GvcpDevice.start({ address: '127.0.0.1', port: 0, heartbeatTimeoutMs: 3000 });
  cleanups.push(() => gvcp.close());
  const sc = new ScGvmpDevice({ fps: 100, testPattern: { width: 64, height: 48 }, ...options });
  cleanups.push(() => sc.close());
  attachToGvcpDevice(sc, gvcp);
  const client = await GvcpClient.connect('127.0.0.1', { port: gvcp.address().port });
  cleanups.push(() => client.close());
  return { gvcp, sc, client };
}

async function take(stream: ScGvmpStream, n: number): Promise<ReceivedFrame[]> {
  const out: ReceivedFrame[] = [];
  for await (const f of stream) {
    out.push({ ...f, payload: f.payload.slice() });
    if (out.length === n) break;
  }
  return out;
}

describe('SC_GVMP over real GVCP on loopback', () => {
  it('start, N frames in order with the right payloads, stop, Idle, restart', async () => {
    const { sc, client } = await rig();
    await client.takeControl();
    const stream = await startStream(client, { pollIntervalMs: 50 });
    cleanups.push(() => stream.close());
    expect(await client.readRegister(DEFAULT_REGISTER_MAP.mcda)).toBe(0x7f000001);
    expect(await client.readRegister(DEFAULT_REGISTER_MAP.mcp)).toBe(stream.port);
    expect(await client.readRegister(DEFAULT_REGISTER_MAP.streamState)).toBe(2);
    const frames = await take(stream, 8);
    expect(frames.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const f of frames) {
      expect(f.kind).toBe(1);
      expect(f.keyFrame).toBe(true);
      expect(Buffer.from(f.payload).equals(Buffer.from(testPatternJpeg(f.seq, { width: 64, height: 48 })))).toBe(true);
    }
    await stream.stop();
    expect(sc.state).toBe('Idle');
    expect(await client.readRegister(DEFAULT_REGISTER_MAP.streamState)).toBe(0);
    const again = await startStream(client, { pollIntervalMs: 50 });
    cleanups.push(() => again.close());
    expect((await take(again, 3)).map((f) => f.seq)).toEqual([0, 1, 2]);
    await again.stop();
    expect(sc.state).toBe('Idle');
  });

  it('GVCP itself refuses STREAM_START from a client without control (ACCESS_DENIED)', async () => {
    const { sc, client } = await rig({ requireSession: true });
    const error = await startStream(client).catch((e: unknown) => e);
    expect(GvcpStatusError.isInstance(error)).toBe(true);
    expect((error as GvcpStatusError).code).toBe(GvcpStatus.ACCESS_DENIED);
    expect(sc.state).toBe('Idle');
  });

  it('a second start through GVCP is refused with ERR_STREAM_BUSY', async () => {
    const { client } = await rig();
    await client.takeControl();
    const stream = await startStream(client);
    cleanups.push(() => stream.close());
    const error = await startStream(client).catch((e: unknown) => e);
    expect(ScGvmpDeviceError.isInstance(error)).toBe(true);
    expect((error as ScGvmpDeviceError).errCode).toBe(ErrorCode.ERR_STREAM_BUSY);
    expect((error as Error).cause).toMatchObject({ name: 'GvcpStatusError', code: GvcpStatus.BUSY });
    expect((await take(stream, 2)).length).toBe(2);
  });

  it('requireSession: the stream ends with ERR_NO_SESSION when the control holder releases control', async () => {
    const { sc, client } = await rig({ requireSession: true });
    await client.takeControl();
    const stream = await startStream(client, { autoRestart: false, pollIntervalMs: 50 });
    cleanups.push(() => stream.close());
    await take(stream, 2);
    await client.releaseControl();
    await until(() => sc.state === 'Idle', 3000, 'Idle');
    expect(sc.errCode).toBe(ErrorCode.ERR_NO_SESSION);
    expect(await client.readRegister(DEFAULT_REGISTER_MAP.errCode)).toBe(ErrorCode.ERR_NO_SESSION);
    // The host notices and ends its iteration with the device's reason.
    await expect(take(stream, 100)).rejects.toMatchObject({
      name: 'ScGvmpDeviceError',
      errCode: ErrorCode.ERR_NO_SESSION,
    });
    expect(stream.closed).toBe(true);
  });

  it('STREAM_STATE and ERR_CODE are read-only over GVCP', async () => {
    const { client } = await rig();
    await client.takeControl();
    const error = await client.writeRegister(DEFAULT_REGISTER_MAP.streamState, 2).catch((e: unknown) => e);
    expect((error as GvcpStatusError).code).toBe(GvcpStatus.WRITE_PROTECT);
  });
});
