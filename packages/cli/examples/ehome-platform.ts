// Run an EHome platform: devices register, raise alarms, and stream a live preview.
// Self-contained: a simulated EHome camera runs in this process against the platform on 127.0.0.1.
// Run: node --conditions=@cam/source --import tsx packages/cli/examples/ehome-platform.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EhomeDevice, EhomeDeviceMedia, type EhomeEvent, EhomeServer } from '@cam/ehome';

const dataDirectory = await mkdtemp(join(tmpdir(), 'cam-ehome-example-'));
const server = new EhomeServer({ address: '127.0.0.1', port: 0, alarmPort: 0, picturePort: 0, dataDirectory });
server.on('event', (e: EhomeEvent) => {
  if (e.type === 'online') console.log(`online: ${e.session.deviceId} from ${e.session.address}`);
  if (e.type === 'alarm') console.log(`alarm: ${e.alarm.alarmType} with ${e.pictures.length} pictures`);
});
await server.listen();

// The simulated device: registers with the platform, answers INVITESTREAM with H.264 in RTP/PS.
const media = new EhomeDeviceMedia();
const device = new EhomeDevice({
  server: { host: '127.0.0.1', port: server.addresses().port },
  deviceId: 'example-ipc',
  localAddress: '127.0.0.1',
  mediaHandler: media.handler,
});
try {
  const alarmSeen = new Promise<void>((resolve) =>
    server.on('event', (e: EhomeEvent) => {
      if (e.type === 'alarm') resolve();
    }),
  );
  await device.start();
  await device.raiseAlarm({ pictures: 1, alarmType: 'MOTION' });
  await alarmSeen;

  const stream = await server.device('example-ipc').preview({ channel: 1, stream: 'main' });
  let units = 0;
  const stopAfter = setTimeout(() => void stream.stop(), 1000);
  for await (const au of stream) {
    units++;
    if (units === 1) console.log(`preview: first H.264 access unit, ${au.data.length} bytes, keyframe ${au.keyframe}`);
  }
  clearTimeout(stopAfter);
  console.log(`preview: ${units} access units in 1 s`);
} finally {
  await device.close();
  media.close();
  await server.close();
  await rm(dataDirectory, { recursive: true, force: true });
}
