import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EhomeDevice, EhomeDeviceMedia, EhomeHttpApi, EhomeServer } from '@cam/ehome';
import { PortPool } from '@cam/net-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort, runCam } from '../../../test-support/cli.js';
import { describeInterop } from '../../../test-support/interop.js';
import { pipeCamToFfprobe, spawnCam, until } from './helpers.js';

// One platform (EhomeServer + its HTTP API) with two simulated devices; the CLI talks to it with --platform.
const dir = mkdtempSync(join(tmpdir(), 'cam-ehome-platform-'));
const cleanups: (() => unknown)[] = [];
let api: EhomeHttpApi;
let platform: string;
const medias = new Map<string, EhomeDeviceMedia>();

beforeAll(async () => {
  const base = 52_000 + (process.pid % 100) * 10;
  const server = new EhomeServer({
    address: '127.0.0.1',
    port: 0,
    alarmPort: 0,
    picturePort: 0,
    dataDirectory: join(dir, 'data'),
    mediaPorts: new PortPool({ min: base, max: base + 9, host: '127.0.0.1' }),
    mediaAddress: '127.0.0.1',
  });
  cleanups.push(() => server.close());
  await server.listen();
  api = new EhomeHttpApi(server, { port: 0 });
  cleanups.push(() => api.close());
  await api.listen();
  platform = api.url;
  for (const id of ['pcam1', 'pcam2']) {
    const media = new EhomeDeviceMedia({ width: 32, height: 32, fps: 25 });
    medias.set(id, media);
    cleanups.push(() => media.close());
    const dev = new EhomeDevice({
      server: { host: '127.0.0.1', port: server.addresses().port },
      deviceId: id,
      localAddress: '127.0.0.1',
      recordingDay: '2026-01-01',
      mediaHandler: media.handler,
    });
    cleanups.push(() => dev.close());
    await dev.start();
  }
});
afterAll(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
  rmSync(dir, { recursive: true, force: true });
});

describe('cam ehome against a running platform (--platform)', () => {
  it('devices, capture -o, ptz, config, records, events', async () => {
    const devices = await runCam(['ehome', 'devices', '--platform', platform, '--json']);
    expect(devices.code).toBe(0);
    expect(JSON.parse(devices.stdout)).toMatchObject([
      { deviceId: 'pcam1', online: true },
      { deviceId: 'pcam2', online: true },
    ]);
    const pic = join(dir, 'pic.jpg');
    const cap = await runCam(['ehome', 'capture', '--platform', platform, '--id', 'pcam1', '-o', pic, '--json']);
    expect(cap.code).toBe(0);
    expect([...readFileSync(pic).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const ptz = await runCam(['ehome', 'ptz', '--platform', platform, '--id', 'pcam1', '--command', 'UP']);
    expect(ptz.code).toBe(0);
    const cfg = await runCam([
      'ehome',
      'config',
      '--platform',
      platform,
      '--id',
      'pcam2',
      '--name',
      'GetServerInfo',
      '--json',
    ]);
    expect(JSON.parse(cfg.stdout)).toMatchObject({ SERVERINFO: { ChannelNumber: '1' } });
    const rec = await runCam([
      'ehome',
      'records',
      '--platform',
      platform,
      '--id',
      'pcam1',
      '--from',
      '2026-01-01 00:00:00',
      '--to',
      '2026-01-01 23:59:59',
      '--json',
    ]);
    expect(JSON.parse(rec.stdout).length).toBeGreaterThan(0);
    const ev = await runCam(['ehome', 'events', '--platform', platform, '--type', 'online', '--json']);
    expect(
      JSON.parse(ev.stdout)
        .events.map((e: { deviceId: string }) => e.deviceId)
        .sort(),
    ).toEqual(['pcam1', 'pcam2']);
  }, 90_000);

  it('previews two devices at once to files and to stdout; a failure exits non-zero and leaves no file', async () => {
    const a = join(dir, 'a.h264');
    const [ra, rb] = await Promise.all([
      runCam(['ehome', 'preview', '--platform', platform, '--id', 'pcam1', '--seconds', '2', '-o', a, '--json']),
      runCam(['ehome', 'preview', '--platform', platform, '--id', 'pcam2', '--seconds', '2', '-o', '-'], {
        timeoutMs: 30_000,
      }),
    ]);
    expect(ra.code).toBe(0);
    expect(JSON.parse(ra.stdout)).toMatchObject({ ok: true, frames: expect.any(Number) });
    expect(JSON.parse(ra.stdout).frames).toBeGreaterThan(10);
    expect(readFileSync(a).length).toBe(JSON.parse(ra.stdout).bytes);
    expect(rb.code).toBe(0);
    // -o -: the H.264 itself on stdout (starts with a start code and the SPS).
    expect(Buffer.from(rb.stdout, 'latin1').subarray(0, 5).toString('hex')).toBe('0000000167');

    const none = join(dir, 'none.h264');
    const bad = await runCam(['ehome', 'preview', '--platform', platform, '--id', 'ghost', '-o', none]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/DEVICE_NOT_FOUND/);
    expect(existsSync(none)).toBe(false);
    expect(readdirSync(dir).some((f) => f.endsWith('.part'))).toBe(false);
    const down = await runCam(['ehome', 'devices', '--platform', 'http://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach the platform/);
  }, 90_000);

  it('downloads a recording as MPEG-PS through the platform', async () => {
    const out = join(dir, 'rec.ps');
    const r = await runCam([
      'ehome',
      'download',
      '--platform',
      platform,
      '--id',
      'pcam1',
      '--start',
      '2026-01-01 00:00:00',
      '--end',
      '2026-01-01 23:59:59',
      '-o',
      out,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const ps = readFileSync(out);
    expect(ps.subarray(0, 4).toString('hex')).toBe('000001ba');
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, bytes: ps.length });
  }, 90_000);
});

describeInterop('cam ehome preview -o - | ffprobe -', ['ffprobe'], () => {
  it('pipes an H.264 stream that ffprobe reads, with progress kept off stdout', async () => {
    const r = await pipeCamToFfprobe(
      ['ehome', 'preview', '--platform', platform, '--id', 'pcam1', '--seconds', '2', '-o', '-'],
      ['-f', 'h264'],
    );
    expect(r.camCode, r.camStderr).toBe(0);
    expect(r.probeCode).toBe(0);
    expect(r.streams[0]).toMatchObject({ codec_name: 'h264', width: 32, height: 32 });
    expect(Number(r.streams[0]!.nb_read_frames)).toBeGreaterThan(10);
    // not a terminal: the progress is a plain line on stderr, never mixed into the video
    expect(r.camStderr).toMatch(/^preview pcam1: .*B\/s$/m);
  }, 60_000);
});

describe('Ctrl-C during a preview', () => {
  it.each([['through the platform', false] as const, ['embedded', true] as const])(
    '%s: keeps the frames so far, prints the summary, exits 130, and the device gets BYESTREAM',
    async (_, embedded) => {
      const file = join(dir, `interrupted-${embedded ? 'embedded' : 'platform'}.h264`);
      const media = embedded ? new EhomeDeviceMedia({ width: 32, height: 32, fps: 25 }) : medias.get('pcam2')!;
      const id = embedded ? 'pcam-embedded' : 'pcam2';
      const before = media.received.filter((c) => c.command === 'BYESTREAM').length;
      let device: EhomeDevice | undefined;
      const registerPort = await freeUdpPort();
      const args = embedded
        ? ['--embedded', '--server', `127.0.0.1:${registerPort}`, '--media-ports', '53500-53509', '--wait', '20']
        : ['--platform', platform];
      const cam = spawnCam(['ehome', 'preview', ...args, '--id', id, '--seconds', '60', '-o', file, '--json'], 60_000);
      try {
        if (embedded) {
          // the device retries its REGISTER until the embedded platform is up
          device = new EhomeDevice({
            server: { host: '127.0.0.1', port: registerPort },
            backoff: { initialMs: 100, maxMs: 300 },
            deviceId: id,
            localAddress: '127.0.0.1',
            mediaHandler: media.handler,
          });
          void device.start().catch(() => undefined);
        }
        await until(() => existsSync(`${file}.part`) && statSync(`${file}.part`).size > 2000, 'frames to arrive');
        cam.child.kill('SIGINT');
        expect(await cam.exit).toBe(130);
        const doc = JSON.parse(cam.stdout()) as { ok: boolean; frames: number; bytes: number };
        expect(doc.ok).toBe(true);
        expect(doc.frames).toBeGreaterThan(0);
        expect(readFileSync(file).length).toBe(doc.bytes);
        await until(
          () => media.received.filter((c) => c.command === 'BYESTREAM').length > before,
          'BYESTREAM at the device',
        );
      } finally {
        cam.child.kill('SIGKILL');
        await device?.close();
        if (embedded) media.close();
      }
    },
    90_000,
  );
});
