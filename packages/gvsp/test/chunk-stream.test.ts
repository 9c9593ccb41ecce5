import { NodeMap, portFromRegisterAccess } from '@cam/genicam';
import { fetchGenicamXml, GvcpClient, GvcpDevice } from '@cam/gvcp';
import { afterEach, describe, expect, it } from 'vitest';
import { attachGvspStreaming, openStream } from '../src/index.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

describe('simulated camera chunk data read through the node map (chunk adapter)', () => {
  it('ChunkTimestamp, ChunkFrameID, ChunkExposureTime and ChunkGain read what the frame carried', async () => {
    const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width: 64, height: 48, pixelFormat: 'Mono8' });
    cleanup.push(() => dev.close());
    const streaming = await attachGvspStreaming(dev, { bindAddress: '127.0.0.1' });
    cleanup.push(() => streaming.close());
    const port = dev.address().port;
    const client = await GvcpClient.connect('127.0.0.1', { port, tryTimeoutMs: 300 });
    cleanup.push(() => client.close());
    await client.takeControl();
    const map = await NodeMap.load((await fetchGenicamXml(client)).xml, portFromRegisterAccess(client));
    const imageBytes = 64 * 48;
    expect(await map.get('PayloadSize')).toBe(imageBytes);
    await map.set('ChunkModeActive', true);
    for (const chunk of ['Timestamp', 'FrameID', 'ExposureTime']) {
      await map.set('ChunkSelector', chunk);
      await map.set('ChunkEnable', true);
    }
    // selector semantics: Gain stays off, the others read back on (caching on)
    await map.set('ChunkSelector', 'Gain');
    expect(await map.get('ChunkEnable')).toBe(false);
    await map.set('ChunkSelector', 'FrameID');
    expect(await map.get('ChunkEnable')).toBe(true);
    // the image chunk's tag plus three chunks of 8 bytes, each with its tag
    expect(await map.get('PayloadSize')).toBe(imageBytes + 8 + 3 * 16);
    await map.set('ExposureTime', 4321);
    await map.set('TriggerMode', 'On');
    // before any frame there is no chunk data to read
    await expect(map.get('ChunkTimestamp')).rejects.toThrow(/not available/);
    const stream = await openStream(client, {
      nodeMap: map,
      deviceAddress: '127.0.0.1',
      gvcpPort: port,
      hostAddress: '127.0.0.1',
    });
    cleanup.push(() => stream.close());
    for (let i = 0; i < 3; i++) {
      await map.execute('TriggerSoftware');
      const f = await stream.nextFrame({ timeoutMs: 3000 });
      expect(f?.status).toBe('complete');
      expect(f!.chunksAppended).toBe(true);
      expect(f!.image.byteLength).toBe(imageBytes);
      const ids = map.attachChunkData(f!.chunkData!);
      expect(ids).toEqual([0x1, 0x101, 0x102, 0x103]);
      expect(await map.getInteger('ChunkTimestamp')).toBe(f!.timestamp);
      expect(await map.getInteger('ChunkFrameID')).toBe(f!.blockId);
      expect(await map.get('ChunkExposureTime')).toBe(4321);
      // a chunk the frame does not carry is not available
      await expect(map.get('ChunkGain')).rejects.toThrow(/not available/);
      f!.release();
    }
  });
});
