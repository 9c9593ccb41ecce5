import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EhomeDevice, EhomeDeviceMedia, type EhomeEvent, EhomeServer } from '@cam/ehome';
import { PortPool, sleep } from '@cam/net-utils';
import type { DemoContext, DemoPart } from './runner.js';

/** Resolves with the next server event of a type (or rejects when the part is aborted). */
function nextEvent<T extends EhomeEvent['type']>(
  server: EhomeServer,
  type: T,
  ctx: DemoContext,
  predicate: (e: Extract<EhomeEvent, { type: T }>) => boolean = () => true,
): Promise<Extract<EhomeEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const on = (e: EhomeEvent): void => {
      if (e.type === type && predicate(e as Extract<EhomeEvent, { type: T }>)) {
        server.off('event', on);
        resolve(e as Extract<EhomeEvent, { type: T }>);
      }
    };
    server.on('event', on);
    ctx.signal.addEventListener('abort', () => {
      server.off('event', on);
      reject(ctx.signal.reason);
    });
  });
}

/** EHome: platform (signalling, alarm server, picture server) and a simulated device on loopback. */
export const ehomePart: DemoPart = {
  name: 'ehome',
  title: 'EHome: device registers, heartbeats, raises an alarm with pictures, answers a capture, streams a preview',
  timeoutMs: 15_000,
  async run(ctx) {
    const server = new EhomeServer({
      address: '127.0.0.1',
      port: 0,
      alarmPort: 0,
      picturePort: 0,
      keepAliveSeconds: 1,
      dataDirectory: join(ctx.out, 'platform-data'),
      mediaPorts: new PortPool({ min: 47_000, max: 47_099, host: '127.0.0.1' }),
      mediaAddress: '127.0.0.1',
    });
    ctx.defer(() => server.close());
    await server.listen();
    const a = server.addresses();
    ctx.progress(`platform: signalling 127.0.0.1:${a.port}, alarms :${a.alarmPort}, pictures http :${a.picturePort}`);

    const media = new EhomeDeviceMedia();
    ctx.defer(() => media.close());
    const device = new EhomeDevice({
      server: { host: '127.0.0.1', port: a.port },
      deviceId: 'demo-ipc-01',
      localAddress: '127.0.0.1',
      version: '4.0',
      firmwareVersion: 'V5.6.0 demo',
      mediaHandler: media.handler,
    });
    ctx.defer(() => device.close());
    const online = nextEvent(server, 'online', ctx);
    await device.start({ signal: ctx.signal });
    const o = await online;
    ctx.check(
      'register',
      true,
      `${o.session.deviceId} online from ${o.session.address}:${o.session.port}, EHome ${o.session.version}, keepalive ${device.registration?.keepAliveSeconds ?? '?'} s`,
    );

    const before = server.stats.keepalives;
    // The platform set a 1 s interval: wait (bounded) for the first KEEPALIVE.
    for (let i = 0; i < 40 && server.stats.keepalives === before; i++) await sleep(50, ctx.signal);
    ctx.check('heartbeat', server.stats.keepalives > before, `${server.stats.keepalives - before} KEEPALIVE answered`);

    const alarm = nextEvent(server, 'alarm', ctx);
    const raised = await device.raiseAlarm({ pictures: 2, order: 'after', alarmType: 'MOTION' });
    const e = await alarm;
    const alarmFiles: string[] = [];
    for (const p of e.pictures) {
      const dest = join(ctx.out, `alarm-${p.id}.jpg`);
      await copyFile(p.path, dest);
      alarmFiles.push(dest);
    }
    ctx.check(
      'alarm with pictures',
      e.complete && e.pictures.length === raised.picIds.length,
      `${e.alarm.alarmType} alarm linked to ${e.pictures.length} pictures by PicID (uploaded after the alarm)`,
      alarmFiles,
    );

    const capture = await server.device('demo-ipc-01').capturePicture({ channel: 1, signal: ctx.signal });
    const captureFiles: string[] = [];
    if (capture.media) {
      const dest = join(ctx.out, `capture-${capture.picId}.jpg`);
      await copyFile(capture.media.path, dest);
      captureFiles.push(dest);
    }
    ctx.check(
      'capture picture',
      capture.media !== undefined,
      `CAPTUREPICTURE -> ${capture.response.picSize} byte JPEG uploaded over HTTP and linked`,
      captureFiles,
    );

    const stream = await server.device('demo-ipc-01').preview({ channel: 1, stream: 'main', signal: ctx.signal });
    ctx.defer(() => stream.stop());
    ctx.progress(
      `preview: INVITESTREAM to 127.0.0.1:${stream.port} (port from the media pool), session ${stream.session}`,
    );
    const chunks: Uint8Array[] = [];
    let keyframes = 0;
    const until = setTimeout(() => void stream.stop(), 2000);
    for await (const au of stream) {
      chunks.push(au.data);
      if (au.keyframe) keyframes++;
    }
    clearTimeout(until);
    const file = join(ctx.out, 'preview.h264');
    await writeFile(file, Buffer.concat(chunks));
    ctx.check(
      'preview',
      chunks.length > 0 && keyframes > 0,
      `${chunks.length} H.264 access units (${keyframes} key frames) over ${stream.framing ?? '?'} RTP/PS in 2 s, ${stream.stats.lostPackets} RTP packets lost`,
      [file],
    );
  },
};
