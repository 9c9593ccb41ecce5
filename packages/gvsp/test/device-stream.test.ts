import { FeatureRegister as F, GvcpClient, GvcpDevice } from '@cam/gvcp';
import { afterEach, describe, expect, it } from 'vitest';
import { attachGvspStreaming, openStream, PixelFormat, TestPatternRenderer } from '../src/index.js';
import { nativeBinding } from './engines.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

/** Our simulated camera (GvcpDevice + attachGvspStreaming) streamed by our host side (GvcpClient + openStream). */
async function camera(loss?: { drop?: number; reorder?: number; duplicate?: number; seed?: number }) {
  const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width: 320, height: 240, pixelFormat: 'Mono8' });
  cleanup.push(() => dev.close());
  // the moving diagonal ramp (TestPattern GreyDiagonalRamp), so frames can be compared with TestPattern.render
  dev.registers.set(F.TestPattern, 5);
  const streaming = await attachGvspStreaming(dev, {
    bindAddress: '127.0.0.1',
    forceFps: 50,
    ...(loss ? { loss } : {}),
  });
  cleanup.push(() => streaming.close());
  const port = dev.address().port;
  const client = await GvcpClient.connect('127.0.0.1', { port, tryTimeoutMs: 300 });
  cleanup.push(() => client.close());
  await client.takeControl();
  return { dev, streaming, client, port };
}

describe('openStream against our simulated camera', () => {
  it('negotiates the packet size with a test packet and receives the moving test pattern', async () => {
    const { client, port, streaming } = await camera();
    const stream = await openStream(client, {
      deviceAddress: '127.0.0.1',
      gvcpPort: port,
      hostAddress: '127.0.0.1',
      packetSize: 1400,
      payloadSize: 320 * 240,
      startAcquisition: () => client.writeRegister(F.AcquisitionStart, 1),
      stopAcquisition: () => client.writeRegister(F.AcquisitionStop, 1),
    });
    cleanup.push(() => stream.close());
    // engine 'auto' (the default): native when @cam/gvsp-native loads, with the packet ring when root
    expect(stream.engine.name).toBe(nativeBinding ? 'native' : 'js');
    if (nativeBinding) {
      expect(stream.engine.capture).toBe(process.getuid?.() === 0 ? 'packet-ring' : 'recvmmsg');
      expect(stream.engine.reason).toMatch(/@cam\/gvsp-native loaded/);
    }
    expect(stream.packetSizeVerified).toBe(true);
    expect(stream.packetSize).toBe(1400);
    const pattern = new TestPatternRenderer({ width: 320, height: 240, pixelFormat: PixelFormat.Mono8 });
    const frames = [];
    for (let i = 0; i < 5; i++) {
      const f = await stream.nextFrame({ timeoutMs: 3000 });
      expect(f).toBeDefined();
      frames.push({ status: f!.status, w: f!.width, h: f!.height, data: f!.data.slice() });
      f!.release();
    }
    expect(frames.map((f) => f.status)).toEqual(Array(5).fill('complete'));
    expect(frames[0]).toMatchObject({ w: 320, h: 240 });
    // the pattern moves one step per frame: each frame equals some rendered frame n
    const first = frames[0]!.data;
    let n = -1;
    for (let k = 0; k < 256 && n < 0; k++) if (Buffer.compare(pattern.render(k), first) === 0) n = k;
    expect(n).toBeGreaterThanOrEqual(0);
    await stream.close();
    expect(streaming.streaming).toBe(false);
  });

  it('streams with the receive loop in a worker (options carrying functions stay on this thread)', async () => {
    const { client, port } = await camera({ drop: 0.02, seed: 4 });
    const stream = await openStream(client, {
      deviceAddress: '127.0.0.1',
      gvcpPort: port,
      hostAddress: '127.0.0.1',
      packetSize: 1500,
      payloadSize: 320 * 240,
      worker: true,
      startAcquisition: () => client.writeRegister(F.AcquisitionStart, 1),
      stopAcquisition: () => client.writeRegister(F.AcquisitionStop, 1),
    });
    cleanup.push(() => stream.close());
    expect(stream.engine).toMatchObject({ name: 'js', capture: 'dgram-worker' });
    expect(stream.engine.reason).toMatch(/worker/);
    expect(stream.packetSizeVerified).toBe(true);
    const statuses: string[] = [];
    for (let i = 0; i < 6; i++) {
      const f = await stream.nextFrame({ timeoutMs: 3000 });
      statuses.push(f!.status);
      expect(f!.width).toBe(320);
      f!.release();
    }
    expect(statuses).toEqual(Array(6).fill('complete'));
    expect(stream.stats().resentPackets).toBeGreaterThan(0);
  });

  it('recovers packets the simulated camera drops through PACKETRESEND to its GVCP port', async () => {
    const { client, port, streaming } = await camera({ drop: 0.03, reorder: 0.01, seed: 11 });
    const stream = await openStream(client, {
      deviceAddress: '127.0.0.1',
      gvcpPort: port,
      hostAddress: '127.0.0.1',
      packetSize: 1500,
      negotiatePacketSize: false,
      payloadSize: 320 * 240,
      engine: 'native',
      capture: 'recvmmsg',
      startAcquisition: () => client.writeRegister(F.AcquisitionStart, 1),
      stopAcquisition: () => client.writeRegister(F.AcquisitionStop, 1),
    });
    cleanup.push(() => stream.close());
    const statuses: string[] = [];
    for (let i = 0; i < 10; i++) {
      const f = await stream.nextFrame({ timeoutMs: 3000 });
      statuses.push(f!.status);
      f!.release();
    }
    expect(statuses).toEqual(Array(10).fill('complete'));
    expect(stream.stats().resentPackets).toBeGreaterThan(0);
    expect(streaming.stats().resentPackets).toBeGreaterThan(0);
  });
});
