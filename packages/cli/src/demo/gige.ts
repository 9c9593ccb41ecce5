import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectCamera, discover, GvcpDevice } from '@cam/gvcp';
import { attachGvspStreaming, openStream } from '@cam/gvsp';
import { toDisplayImage } from '../image/convert.js';
import { encodePng } from '../image/encode.js';
import type { DemoPart } from './runner.js';

const FRAMES = 5;

/** GigE Vision: a simulated camera (GVCP + GVSP) driven by our client, node map and receiver. */
export const gigePart: DemoPart = {
  name: 'gige',
  title: 'GigE Vision: discover, identify, configure through GenICam, grab frames',
  timeoutMs: 20_000,
  async run(ctx) {
    const device = await GvcpDevice.start({
      address: '127.0.0.1',
      port: 0,
      serialNumber: 'CAMDEMO001',
      userDefinedName: 'demo',
      width: 640,
      height: 480,
      pixelFormat: 'Mono8',
    });
    ctx.defer(() => device.close());
    const streaming = await attachGvspStreaming(device, { bindAddress: '127.0.0.1', forceFps: 30 });
    ctx.defer(() => streaming.close());
    const port = device.address().port;
    ctx.progress(`simulated camera listening on 127.0.0.1:${port} (GVCP), streaming from its own GVSP socket`);

    const found = await discover({ address: '127.0.0.1', port, timeoutMs: 1000, signal: ctx.signal });
    const me = found.find((d) => d.serialNumber === 'CAMDEMO001');
    if (
      !ctx.check(
        'discovery (unicast)',
        me !== undefined,
        me
          ? `${me.manufacturerName} ${me.modelName} ${me.serialNumber} at ${me.address}, MAC ${me.mac}`
          : `found ${found.length} devices`,
      )
    )
      return;

    // One call: connect, take control (heartbeat), download the GenICam XML, build the node map.
    const camera = await connectCamera('127.0.0.1', { port, signal: ctx.signal });
    ctx.defer(() => camera.close());
    const { client, nodeMap: map, genicam } = camera;
    const ccp = client.controlPrivilege;
    ctx.check(
      'control privilege',
      ccp !== undefined,
      `CCP = 0x${(ccp ?? 0).toString(16)} (control access), heartbeat running`,
    );
    await writeFile(join(ctx.out, 'genicam.xml'), genicam.xml);
    ctx.check(
      'GenICam XML',
      map.features().length > 0,
      `${genicam.url} (${genicam.xml.length} bytes, ${map.features().length} features)`,
      [join(ctx.out, 'genicam.xml')],
    );
    const identity = `${String(await map.get('DeviceVendorName'))} / ${String(await map.get('DeviceModelName'))}`;
    ctx.check('features through the node map', identity.length > 3, `DeviceVendorName / DeviceModelName = ${identity}`);

    await map.set('Width', 320);
    await map.set('Height', 240);
    await map.set('PixelFormat', 'Mono8');
    const size = `${String(await map.get('Width'))}x${String(await map.get('Height'))} ${String(await map.get('PixelFormat'))}`;
    ctx.check('configure', size === '320x240 Mono8', `set Width=320 Height=240 PixelFormat=Mono8, read back ${size}`);

    const stream = await openStream(client, {
      deviceAddress: '127.0.0.1',
      gvcpPort: port,
      hostAddress: '127.0.0.1',
      nodeMap: map,
      signal: ctx.signal,
    });
    ctx.defer(() => stream.close());
    ctx.progress(
      `stream channel 0 -> 127.0.0.1:${stream.port}, packet size ${stream.packetSize}${stream.packetSizeVerified ? ' (verified by test packet)' : ''}`,
    );
    const files: string[] = [];
    const statuses: string[] = [];
    for (let i = 0; i < FRAMES; i++) {
      const frame = await stream.nextFrame({ timeoutMs: 3000, signal: ctx.signal });
      if (!frame) break;
      statuses.push(frame.status);
      if (frame.status === 'complete') {
        const file = join(ctx.out, `frame-${String(i).padStart(2, '0')}.png`);
        await writeFile(
          file,
          encodePng(
            toDisplayImage({
              width: frame.width,
              height: frame.height,
              pixelFormat: frame.pixelFormatName,
              data: frame.image,
              paddingX: frame.paddingX,
            }),
          ),
        );
        files.push(file);
        ctx.progress(
          `frame ${frame.blockId}: ${frame.width}x${frame.height} ${frame.pixelFormatName}, ${frame.packets.received} packets`,
        );
      }
      frame.release();
    }
    const complete = statuses.filter((s) => s === 'complete').length;
    ctx.check('grab', complete === FRAMES, `${complete}/${FRAMES} frames complete, written as PNG`, files);
    const s = stream.stats();
    ctx.check(
      'stream statistics',
      s.failures === 0,
      `${s.completedFrames} completed, ${s.failures} failed, ${s.receivedPackets} packets, ${s.missingPackets} missing, ${s.resentPackets} resent`,
    );
    await stream.close();
  },
};
