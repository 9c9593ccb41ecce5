import { NodeMap, portFromRegisterAccess } from '@cam/genicam';
import { fetchGenicamXml, GvcpClient, GvcpDevice } from '@cam/gvcp';
import { afterEach, describe, expect, it } from 'vitest';
import { attachGvspStreaming, type GvspFrame, type GvspStream, openStream } from '../src/index.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

/** Our simulated camera, streamed by our host side, driven through the GenICam node map as an application would. */
async function camera() {
  const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width: 64, height: 48, pixelFormat: 'Mono8' });
  cleanup.push(() => dev.close());
  const streaming = await attachGvspStreaming(dev, { bindAddress: '127.0.0.1' });
  cleanup.push(() => streaming.close());
  const port = dev.address().port;
  const client = await GvcpClient.connect('127.0.0.1', { port, tryTimeoutMs: 300 });
  cleanup.push(() => client.close());
  await client.takeControl();
  const map = await NodeMap.load((await fetchGenicamXml(client)).xml, portFromRegisterAccess(client));
  const open = async (): Promise<GvspStream> => {
    const stream = await openStream(client, {
      nodeMap: map,
      deviceAddress: '127.0.0.1',
      gvcpPort: port,
      hostAddress: '127.0.0.1',
      packetSize: 1500,
    });
    cleanup.push(() => stream.close());
    return stream;
  };
  return { dev, streaming, map, open };
}

/** The next frame within `ms`, or undefined when none came. */
async function frameWithin(stream: GvspStream, ms: number): Promise<GvspFrame | undefined> {
  try {
    return await stream.nextFrame({ timeoutMs: ms });
  } catch (e) {
    if ((e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError') return undefined;
    throw e;
  }
}

describe('simulated camera: trigger and acquisition modes on the stream', () => {
  it('with TriggerMode On sends nothing until TriggerSoftware, then exactly one frame per trigger', async () => {
    const { map, open, streaming } = await camera();
    await map.set('AcquisitionFrameRate', 100);
    await map.set('TriggerSelector', 'FrameStart');
    await map.set('TriggerMode', 'On');
    await map.set('TriggerSource', 'Software');
    const stream = await open();
    // free-running at 100 Hz this would be ~30 frames
    expect(await frameWithin(stream, 300)).toBeUndefined();
    const ids: bigint[] = [];
    for (let i = 0; i < 4; i++) {
      await map.execute('TriggerSoftware');
      const f = await frameWithin(stream, 3000);
      expect(f?.status).toBe('complete');
      ids.push(f!.blockId);
      f!.release();
      // and no second frame for the same trigger
      expect(await frameWithin(stream, 150)).toBeUndefined();
    }
    expect(new Set(ids).size).toBe(4);
    expect(streaming.framesSent).toBe(4);
    // back to free-running: frames come without triggers
    await map.set('TriggerMode', 'Off');
    const free = await frameWithin(stream, 3000);
    expect(free?.status).toBe('complete');
    free?.release();
  });

  it('SingleFrame sends one frame and ends the acquisition; MultiFrame sends AcquisitionFrameCount', async () => {
    const { map, open, streaming } = await camera();
    await map.set('AcquisitionFrameRate', 100);
    await map.set('AcquisitionMode', 'SingleFrame');
    let stream = await open();
    const one = await frameWithin(stream, 3000);
    expect(one?.status).toBe('complete');
    one?.release();
    expect(await frameWithin(stream, 300)).toBeUndefined();
    expect(await map.get('AcquisitionStatus')).toBe(false);
    expect(streaming.framesSent).toBe(1);
    await stream.close();

    await map.set('AcquisitionMode', 'MultiFrame');
    await map.set('AcquisitionFrameCount', 3);
    stream = await open();
    let got = 0;
    for (let f = await frameWithin(stream, 3000); f; f = await frameWithin(stream, 400)) {
      expect(f.status).toBe('complete');
      f.release();
      got++;
    }
    expect(got).toBe(3);
    expect(streaming.framesSent).toBe(4);
    expect(await map.get('AcquisitionStatus')).toBe(false);
  });

  it('MultiFrame with a software trigger: one frame per trigger until the count is reached', async () => {
    const { map, open, dev } = await camera();
    await map.set('AcquisitionMode', 'MultiFrame');
    await map.set('AcquisitionFrameCount', 2);
    await map.set('TriggerMode', 'On');
    const stream = await open();
    for (let i = 0; i < 2; i++) {
      await map.execute('TriggerSoftware');
      const f = await frameWithin(stream, 3000);
      expect(f?.status).toBe('complete');
      f?.release();
    }
    // the acquisition ended with the second frame: a third trigger is ignored
    await map.execute('TriggerSoftware');
    expect(await frameWithin(stream, 300)).toBeUndefined();
    expect(dev.triggerStats).toMatchObject({ triggersAccepted: 2, triggersIgnored: 1, framesAcquired: 2 });
  });

  it('the picture follows ExposureTime, Gain, ReverseX and the region of the sensor set through the node map', async () => {
    const { map, open } = await camera();
    await map.set('TriggerMode', 'On');
    // a window on the grey ramp of the scene (below the colour bars, right of the text)
    await map.set('OffsetX', 300);
    await map.set('OffsetY', 500);
    const stream = await open();
    const grab = async (): Promise<Uint8Array> => {
      await map.execute('TriggerSoftware');
      const f = await frameWithin(stream, 3000);
      expect(f?.status).toBe('complete');
      const data = f!.data.slice();
      f!.release();
      return data;
    };
    const mean = (b: Uint8Array): number => b.reduce((a, v) => a + v, 0) / b.length;
    const normal = mean(await grab());
    await map.set('ExposureTime', 2500);
    const short = mean(await grab());
    await map.set('ExposureTime', 10_000);
    await map.set('Gain', 12);
    const gained = mean(await grab());
    expect(short).toBeLessThan(normal * 0.5);
    expect(gained).toBeGreaterThan(normal * 1.5);
    await map.set('Gain', 0);
    await map.set('BlackLevel', 10);
    const lifted = await grab();
    expect(Math.min(...lifted)).toBeGreaterThanOrEqual(25);
    await map.set('BlackLevel', 0);
    // the region: bounded by the sensor through the node map's pMax (SwissKnife) and by the device itself
    expect(await map.get('SensorWidth')).toBe(1024);
    await stream.close();
    await expect(map.set('OffsetX', 961)).rejects.toThrow(/allowed \[0, 960\]/);
    await map.set('OffsetX', 960);
    expect(await map.describe('Width')).toMatchObject({ max: 64 });
    await expect(map.set('Width', 65)).rejects.toThrow(/allowed \[1, 64\]/);
    await map.set('ReverseX', true);
    expect(await map.get('ReverseX')).toBe(true);
  });
});
