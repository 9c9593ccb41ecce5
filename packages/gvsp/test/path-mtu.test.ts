import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FeatureRegister as F, GvcpClient, GvcpDevice } from '@cam/gvcp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeInterop, hasPythonAravis } from '../../../test-support/interop.js';
import {
  acquireExclusive,
  GVCP_PORT_LOCK,
  LOCKED_HOOK_TIMEOUT_MS,
  type Release,
} from '../../../test-support/port-lock.js';
import { attachGvspStreaming, type GvspStreaming, openStream } from '../src/index.js';

const run = promisify(execFile);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

describe('emulated path MTU and DoNotFragment', () => {
  it('our client negotiates down to the 1500-byte path when it asks for 8996', async () => {
    const dev = await GvcpDevice.start({
      address: '127.0.0.1',
      port: 0,
      width: 320,
      height: 240,
      pixelFormat: 'Mono8',
    });
    cleanup.push(() => dev.close());
    const streaming = await attachGvspStreaming(dev, { bindAddress: '127.0.0.1', pathMtu: 1500, forceFps: 50 });
    cleanup.push(() => streaming.close());
    const port = dev.address().port;
    const client = await GvcpClient.connect('127.0.0.1', { port, tryTimeoutMs: 300 });
    cleanup.push(() => client.close());
    await client.takeControl();
    const stream = await openStream(client, {
      deviceAddress: '127.0.0.1',
      gvcpPort: port,
      hostAddress: '127.0.0.1',
      packetSize: 8996,
      payloadSize: 320 * 240,
      startAcquisition: () => client.writeRegister(F.AcquisitionStart, 1),
      stopAcquisition: () => client.writeRegister(F.AcquisitionStop, 1),
    });
    cleanup.push(() => stream.close());
    expect(stream.packetSizeVerified).toBe(true);
    expect(stream.packetSize).toBeLessThanOrEqual(1500);
    expect(stream.packetSize).toBeGreaterThan(1500 - 32);
    expect(streaming.stats().testPacketsNotDelivered).toBeGreaterThan(0);
    const f = await stream.nextFrame({ timeoutMs: 3000 });
    expect(f?.status).toBe('complete');
    f?.release();
    expect(streaming.stats().framesNotDelivered).toBe(0);
  });

  it('a stream set larger than the path with DoNotFragment never arrives; without it, it does', async () => {
    const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width: 64, height: 48, pixelFormat: 'Mono8' });
    cleanup.push(() => dev.close());
    const streaming = await attachGvspStreaming(dev, { bindAddress: '127.0.0.1', pathMtu: 1500, forceFps: 50 });
    cleanup.push(() => streaming.close());
    const port = dev.address().port;
    const client = await GvcpClient.connect('127.0.0.1', { port, tryTimeoutMs: 300 });
    cleanup.push(() => client.close());
    await client.takeControl();
    const stream = await openStream(client, {
      deviceAddress: '127.0.0.1',
      gvcpPort: port,
      hostAddress: '127.0.0.1',
      packetSize: 3000,
      negotiatePacketSize: false,
      payloadSize: 64 * 48,
      startAcquisition: () => client.writeRegister(F.AcquisitionStart, 1),
      stopAcquisition: () => client.writeRegister(F.AcquisitionStop, 1),
    });
    cleanup.push(() => stream.close());
    // openStream set 3000 without DoNotFragment: fragments get through
    const f = await stream.nextFrame({ timeoutMs: 3000 });
    expect(f?.status).toBe('complete');
    f?.release();
    await client.writeRegister(0x0d04, (0x4000_0000 | 3000) >>> 0); // SCPS0 with DoNotFragment
    const before = streaming.stats().framesNotDelivered;
    await new Promise((r) => setTimeout(r, 300));
    expect(streaming.stats().framesNotDelivered).toBeGreaterThan(before);
  });
});

describeInterop(
  'python Aravis auto packet size over the emulated 1500 path',
  { 'python3 Aravis': hasPythonAravis() },
  () => {
    let device: GvcpDevice | undefined;
    let streaming: GvspStreaming | undefined;
    let release: Release | undefined;
    beforeAll(async () => {
      release = await acquireExclusive(GVCP_PORT_LOCK);
      const deadline = Date.now() + 20_000;
      for (;;) {
        try {
          device = await GvcpDevice.start({ address: '127.0.0.1', port: 3956, serialNumber: 'MTUARV' });
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      streaming = await attachGvspStreaming(device, { bindAddress: '127.0.0.1', pathMtu: 1500 });
    }, LOCKED_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      try {
        await streaming?.close();
        await device?.close();
      } finally {
        release?.();
      }
    });

    it('gv_auto_packet_size() settles at or below 1500', async () => {
      const script = [
        'import gi',
        "gi.require_version('Aravis', '0.8')",
        'from gi.repository import Aravis',
        "cam = Aravis.Camera.new('127.0.0.1')",
        'cam.gv_set_packet_size(8996)',
        'print(cam.gv_auto_packet_size())',
      ].join('\n');
      const { stdout } = await run('/usr/bin/python3', ['-c', script], { timeout: 60_000 });
      const size = Number(stdout.trim());
      expect(size).toBeLessThanOrEqual(1500);
      expect(size).toBeGreaterThanOrEqual(576);
      expect(streaming!.stats().testPacketsNotDelivered).toBeGreaterThan(0);
    }, 90_000);
  },
);
