import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage, EhomeDevice, EhomeServer, encodeMessage, response } from '@cam/ehome';
import { afterEach, describe, expect, it } from 'vitest';
import { freeUdpPort, runCam, startCam } from '../../../test-support/cli.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cam-ehome-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const lines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('cam ehome', () => {
  it('device: registers several simulated devices, raises an alarm and sends GPS (JSON lines)', async () => {
    const server = new EhomeServer({
      address: '127.0.0.1',
      port: 0,
      alarmPort: 0,
      picturePort: 0,
      dataDirectory: tempDir(),
    });
    cleanups.push(() => server.close());
    const { port } = await server.listen();
    const alarms: string[] = [];
    const gps: number[] = [];
    server.on('alarm', (e) => alarms.push(`${e.deviceId}:${e.pictures.length}`));
    server.on('gps', (e) => gps.push(e.latitude));
    const r = await runCam([
      'ehome',
      'device',
      '--server',
      `127.0.0.1:${port}`,
      '--id',
      'cli',
      '--count',
      '3',
      '--local-address',
      '127.0.0.1',
      '--alarm',
      '--gps',
      '22.5,114.1',
      '--seconds',
      '3',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(
      out
        .filter((l) => l.type === 'registered')
        .map((l) => l.deviceId)
        .sort(),
    ).toEqual(['cli-1', 'cli-2', 'cli-3']);
    expect(out.at(-1)).toEqual({ type: 'summary', devices: 3, registered: 3 });
    expect(alarms.sort()).toEqual(['cli-1:1', 'cli-2:1', 'cli-3:1']);
    // The devices logged out when the command ended.
    expect(server.devices()).toEqual([]);
    expect(gps).toEqual([22.5, 22.5, 22.5]);
  });

  it('serve: prints devices and events as JSON lines and stores pictures', async () => {
    const data = tempDir();
    const port = await freeUdpPort();
    const run = runCam(
      [
        'ehome',
        'serve',
        '--address',
        '127.0.0.1',
        '--port',
        String(port),
        '--alarm-port',
        '0',
        '--picture-port',
        '0',
        '--data',
        data,
        '--keepalive',
        '5',
        '--api-port',
        '0',
        '--seconds',
        '6',
        '--json',
        // The store is tested in ehome-store.test.ts; a first embedded store runs initdb (seconds on a loaded box).
        '--store',
        'memory',
      ],
      { timeoutMs: 20_000 },
    );
    // The device retries with backoff until the platform process is up.
    const dev = new EhomeDevice({
      server: { host: '127.0.0.1', port },
      deviceId: 'served1',
      localAddress: '127.0.0.1',
      version: '2.0',
      backoff: { initialMs: 100, maxMs: 500 },
      registerAttemptMs: 300,
    });
    cleanups.push(() => dev.close());
    await dev.start({ timeoutMs: 10_000 });
    expect(dev.registration?.keepAliveSeconds).toBe(5);
    await dev.raiseAlarm({ pictures: 1, alarmType: 'MOTION' });
    const r = await run;
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toMatchObject({ type: 'listening', address: '127.0.0.1', port });
    expect(out.find((l) => l.type === 'online')).toMatchObject({ deviceId: 'served1', reRegistered: false });
    const alarm = out.find((l) => l.type === 'alarm') as { pictures: { path: string }[]; complete: boolean };
    expect(alarm.complete).toBe(true);
    expect(alarm.pictures[0]!.path.startsWith(data)).toBe(true);
    expect(existsSync(alarm.pictures[0]!.path)).toBe(true);
    expect(out.at(-1)).toMatchObject({ type: 'summary', devices: [{ deviceId: 'served1' }] });
  });

  it('serve: human output', async () => {
    const r = await runCam([
      'ehome',
      'serve',
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--alarm-port',
      '0',
      '--picture-port',
      '0',
      '--data',
      tempDir(),
      '--api-port',
      '0',
      '--seconds',
      '1',
      '--store',
      'memory',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /EHome platform on 127\.0\.0\.1: register udp \d+, alarms udp \d+, pictures http \d+ -> .*, API http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(r.stdout).toContain('0 device(s) online at exit');
  });

  it('rejects bad arguments with a usage error', async () => {
    const r = await runCam(['ehome', 'device', '--server', 'nowhere', '--id', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/UsageError: --server "nowhere" is not IP:PORT/);
    const j = await runCam(['ehome', 'device', '--server', '127.0.0.1:1', '--id', 'x', '--count', '0', '--json']);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { name: 'UsageError' } });
  });

  it('device: shows a refused registration (wrong password) and exits 1', async () => {
    const server = new EhomeServer({
      address: '127.0.0.1',
      port: 0,
      alarmPort: false,
      picturePort: false,
      passwords: { locked: 'right' },
    });
    cleanups.push(() => server.close());
    const { port } = await server.listen();
    const r = await runCam([
      'ehome',
      'device',
      '--server',
      `127.0.0.1:${port}`,
      '--id',
      'locked',
      '--password',
      'wrong',
      '--local-address',
      '127.0.0.1',
      '--seconds',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('refused locked: 401 wrong password');
    expect(server.stats.refused).toBeGreaterThanOrEqual(1);
  });

  it('device: reports devices that never registered with exit code 1', async () => {
    const port = await freeUdpPort();
    const r = await runCam([
      'ehome',
      'device',
      '--server',
      `127.0.0.1:${port}`,
      '--id',
      'lonely',
      '--local-address',
      '127.0.0.1',
      '--seconds',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('0/1 device(s) registered');
  });
  it('device: an ALARM and a GPS the platform never answers are warnings; the device stays and heartbeats', async () => {
    // A platform like FreeEhome: answers REGISTER (1 s heartbeat) and KEEPALIVE, never ALARM or GPS.
    const platform = createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => platform.close(() => r())));
    await new Promise<void>((r) => platform.bind(0, '127.0.0.1', () => r()));
    const port = platform.address().port;
    const seen: string[] = [];
    platform.on('message', (buf, rinfo) => {
      const m = decodeMessage(buf);
      if (m.kind !== 'request') return;
      seen.push(m.command);
      let answer: Uint8Array | undefined;
      if (m.command === 'REGISTER') {
        answer = encodeMessage(
          response(m, 200, 'OK', { keepAliveSeconds: 1, alarmServerIp: '127.0.0.1', alarmServerPort: port }),
        );
      } else if (m.command === 'KEEPALIVE') answer = encodeMessage(response(m, 200, 'OK', {}));
      if (answer) platform.send(answer, rinfo.port, rinfo.address);
    });
    const r = await runCam(
      [
        'ehome',
        'device',
        '--server',
        `127.0.0.1:${port}`,
        '--id',
        'fe',
        '--local-address',
        '127.0.0.1',
        '--alarm',
        '--gps',
        '22.5,114',
        '--seconds',
        '10',
        '--json',
      ],
      { timeoutMs: 25_000 },
    );
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out.filter((l) => l.type === 'warning').map((l) => l.what)).toEqual(['alarm', 'gps']);
    expect(out.at(-1)).toMatchObject({ type: 'summary', devices: 1, registered: 1 });
    // KEEPALIVEs went on after the unanswered alarm (its 4 attempts) and GPS.
    const afterAlarm = seen.slice(seen.indexOf('ALARM'));
    expect(afterAlarm.filter((c) => c === 'GPS').length).toBeGreaterThan(0);
    expect(afterAlarm.filter((c) => c === 'KEEPALIVE').length).toBeGreaterThanOrEqual(4);
    expect(seen.filter((c) => c === 'REGISTER')).toHaveLength(1);
  }, 30_000);
  it('serve: runs the HTTP API beside the servers; it lists the devices and their alarms', async () => {
    const cam = await startCam(
      [
        'ehome',
        'serve',
        '--address',
        '127.0.0.1',
        '--port',
        '0',
        '--alarm-port',
        '0',
        '--picture-port',
        '0',
        '--api-port',
        '0',
        '--data',
        tempDir(),
        '--seconds',
        '30',
        '--json',
      ],
      // The default embedded store: its first open runs initdb, seconds on a loaded machine.
      { timeoutMs: 60_000 },
    );
    cleanups.push(() => cam.child.kill('SIGKILL'));
    const listening = JSON.parse(cam.firstLine) as { port: number; api: string };
    expect(listening.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const dev = new EhomeDevice({
      server: { host: '127.0.0.1', port: listening.port },
      deviceId: 'viaApi',
      localAddress: '127.0.0.1',
      backoff: { initialMs: 100, maxMs: 500 },
    });
    cleanups.push(() => dev.close());
    await dev.start({ timeoutMs: 10_000 });
    await dev.raiseAlarm({ pictures: 1 });
    const devices = (await (await fetch(`${listening.api}/api/devices`)).json()) as { deviceId: string }[];
    expect(devices).toMatchObject([{ deviceId: 'viaApi', online: true }]);
    await expect
      .poll(async () => {
        const page = (await (await fetch(`${listening.api}/api/events?type=alarm`)).json()) as { events: unknown[] };
        return page.events.length;
      })
      .toBe(1);
    cam.child.kill('SIGINT');
    expect(await cam.exit).toBe(130); // the exit-code contract: SIGINT after a clean stop
  }, 70_000);
});
