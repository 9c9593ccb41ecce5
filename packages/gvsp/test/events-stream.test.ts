import { NodeMap, portFromRegisterAccess } from '@cam/genicam';
import { fetchGenicamXml, GvcpClient, GvcpDevice, type MessageChannelEvent, openMessageChannel } from '@cam/gvcp';
import { afterEach, describe, expect, it } from 'vitest';
import { attachGvspStreaming, openStream } from '../src/index.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

describe('simulated camera frame events on the message channel (event adapter)', () => {
  it('sends FrameStart and ExposureEnd only when their EventNotification is On; the node map reads their data', async () => {
    const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width: 64, height: 48, pixelFormat: 'Mono8' });
    cleanup.push(() => dev.close());
    const streaming = await attachGvspStreaming(dev, { bindAddress: '127.0.0.1' });
    cleanup.push(() => streaming.close());
    const port = dev.address().port;
    const client = await GvcpClient.connect('127.0.0.1', { port, tryTimeoutMs: 300 });
    cleanup.push(() => client.close());
    await client.takeControl();
    const map = await NodeMap.load((await fetchGenicamXml(client)).xml, portFromRegisterAccess(client));
    const channel = await openMessageChannel(client);
    cleanup.push(() => channel.close());
    const events = channel[Symbol.asyncIterator]();
    const nextEvent = async (ms: number): Promise<MessageChannelEvent | undefined> => {
      const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), ms));
      const r = await Promise.race([events.next(), timeout]);
      return r && !r.done ? r.value : undefined;
    };
    expect(await map.get('EventExposureEnd')).toBe(0x9001);
    await map.set('EventSelector', 'ExposureEnd');
    await map.set('EventNotification', 'On');
    await map.set('EventSelector', 'FrameStart');
    expect(await map.get('EventNotification')).toBe('Off');
    await map.set('EventNotification', 'On');
    await map.set('ExposureTime', 1500);
    await map.set('TriggerMode', 'On');
    const stream = await openStream(client, {
      nodeMap: map,
      deviceAddress: '127.0.0.1',
      gvcpPort: port,
      hostAddress: '127.0.0.1',
    });
    cleanup.push(() => stream.close());
    await map.execute('TriggerSoftware');
    const f = await stream.nextFrame({ timeoutMs: 3000 });
    expect(f?.status).toBe('complete');
    const got: MessageChannelEvent[] = [];
    for (let i = 0; i < 2; i++) {
      const e = await nextEvent(3000);
      if (e) got.push(e);
    }
    expect(got.map((e) => e.type)).toEqual(['eventdata', 'eventdata']);
    const [start, end] = got as [
      MessageChannelEvent & { type: 'eventdata' },
      MessageChannelEvent & { type: 'eventdata' },
    ];
    expect([start.event.eventId, end.event.eventId]).toEqual([0x9002, 0x9001]);
    expect(start.event.blockId).toBe(f!.blockId);
    expect(start.event.timestamp).toBe(f!.timestamp);
    expect(end.event.timestamp).toBe(f!.timestamp + 1_500_000n);
    // the event adapter: the data of each event read through the node map
    for (const e of [start, end]) map.attachEventData(e.event.eventId, e.data);
    expect(await map.getInteger('EventFrameStartFrameID')).toBe(f!.blockId);
    expect(await map.getInteger('EventFrameStartTimestamp')).toBe(f!.timestamp);
    expect(await map.getInteger('EventExposureEndTimestamp')).toBe(f!.timestamp + 1_500_000n);
    f!.release();
    // notifications off: the next frame comes without events
    for (const e of ['ExposureEnd', 'FrameStart']) {
      await map.set('EventSelector', e);
      await map.set('EventNotification', 'Off');
    }
    await map.execute('TriggerSoftware');
    const g = await stream.nextFrame({ timeoutMs: 3000 });
    expect(g?.status).toBe('complete');
    g?.release();
    expect(await nextEvent(300)).toBeUndefined();
  });
});
