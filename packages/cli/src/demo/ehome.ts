import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EhomeDevice, type EhomeEvent, EhomeServer } from '@cam/ehome';
import { sleep } from '@cam/net-utils';
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
  title: 'EHome: device registers, heartbeats, raises an alarm with pictures, answers a capture',
  timeoutMs: 15_000,
  async run(ctx) {
    const server = new EhomeServer({
      address: '127.0.0.1',
      port: 0,
      alarmPort: 0,
      picturePort: 0,
      keepAliveSeconds: 1,
      dataDirectory: join(ctx.out, 'platform-data'),
    });
    ctx.defer(() => server.close());
    await server.listen();
    const a = server.addresses();
    ctx.progress(`platform: signalling 127.0.0.1:${a.port}, alarms :${a.alarmPort}, pictures http :${a.picturePort}`);

    const device = new EhomeDevice({
      server: { host: '127.0.0.1', port: a.port },
      deviceId: 'demo-ipc-01',
      localAddress: '127.0.0.1',
      version: '4.0',
      firmwareVersion: 'V5.6.0 demo',
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
  },
};
