import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EhomeDevice, EhomeDeviceMedia, EhomeHttpApi, EhomeServer } from '@cam/ehome';
import { PortPool } from '@cam/net-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCam } from '../../../test-support/cli.js';
import { describeInterop } from '../../../test-support/interop.js';
import { camArgv } from './helpers.js';

// One platform (EhomeServer + its HTTP API) with two simulated devices; the CLI talks to it with --platform.
const dir = mkdtempSync(join(tmpdir(), 'cam-ehome-platform-'));
const cleanups: (() => unknown)[] = [];
let api: EhomeHttpApi;
let platform: string;

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
    const [node, ...rest] = camArgv([
      'ehome',
      'preview',
      '--platform',
      platform,
      '--id',
      'pcam1',
      '--seconds',
      '2',
      '-o',
      '-',
    ]);
    const cam = spawn(node!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    const probe = spawn(
      'ffprobe',
      ['-v', 'error', '-f', 'h264', '-show_streams', '-count_frames', '-of', 'json', '-'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    cam.stdout.pipe(probe.stdin);
    let out = '';
    let camErr = '';
    probe.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    cam.stderr.setEncoding('utf8').on('data', (d: string) => {
      camErr += d;
    });
    const killer = setTimeout(() => {
      cam.kill('SIGKILL');
      probe.kill('SIGKILL');
    }, 40_000);
    const [camCode, probeCode] = await Promise.all([
      new Promise((r) => cam.on('close', r)),
      new Promise((r) => probe.on('close', r)),
    ]);
    clearTimeout(killer);
    expect(camCode, camErr).toBe(0);
    expect(probeCode).toBe(0);
    const stream = (JSON.parse(out) as { streams: Record<string, unknown>[] }).streams[0]!;
    expect(stream).toMatchObject({ codec_name: 'h264', width: 32, height: 32 });
    expect(Number(stream.nb_read_frames)).toBeGreaterThan(10);
    // not a terminal: the progress is a plain line on stderr, never mixed into the video
    expect(camErr).toMatch(/^preview pcam1: .*B\/s$/m);
  }, 60_000);
});
