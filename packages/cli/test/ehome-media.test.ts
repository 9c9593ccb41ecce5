import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EhomeDevice, EhomeDeviceMedia, PsDemuxer } from '@cam/ehome';
import { afterAll, describe, expect, it } from 'vitest';
import { freeUdpPort, runCam } from '../../../test-support/cli.js';
import { requireTool } from '../../../test-support/interop.js';

const dir = mkdtempSync(join(tmpdir(), 'cam-ehome-media-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withDevice<T>(port: number, id: string, run: (media: EhomeDeviceMedia) => Promise<T>): Promise<T> {
  const media = new EhomeDeviceMedia({ width: 64, height: 48, fps: 25, downloadSeconds: 1 });
  const device = new EhomeDevice({
    server: { host: '127.0.0.1', port },
    deviceId: id,
    localAddress: '127.0.0.1',
    backoff: { initialMs: 100, maxMs: 300 },
    mediaHandler: media.handler,
    recordingDay: '2026-03-01',
  });
  const started = device.start().catch(() => undefined);
  try {
    return await run(media);
  } finally {
    media.close();
    await started;
    await device.close();
  }
}

let ports = 44_500 + (process.pid % 100) * 10;
/** A fresh media port range for one test. */
function mediaPorts(): string {
  const range = `${ports}-${ports + 5}`;
  ports += 6;
  return range;
}

describe('cam ehome preview / download', () => {
  it('preview waits for the device, writes an .h264 file and reports it as JSON', async () => {
    const port = await freeUdpPort();
    const out = join(dir, 'preview.h264');
    const r = await withDevice(port, 'cli-cam', () =>
      runCam(
        [
          'ehome',
          'preview',
          '--embedded',
          '--server',
          `127.0.0.1:${port}`,
          '--id',
          'cli-cam',
          '--seconds',
          '1',
          '-o',
          out,
          '--media-ports',
          mediaPorts(),
          '--wait',
          '10',
          '--json',
        ],
        { timeoutMs: 30_000 },
      ),
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; frames: number; keyframes: number; bytes: number };
    expect(doc.ok).toBe(true);
    expect(doc.frames).toBeGreaterThan(5);
    expect(doc.keyframes).toBeGreaterThanOrEqual(1);
    expect(readFileSync(out).length).toBe(doc.bytes);
    if (requireTool('ffprobe', 'ffprobe reads the preview')) {
      const probe = execFileSync(
        'ffprobe',
        ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', out],
        {
          encoding: 'utf8',
          timeout: 20_000,
        },
      );
      expect(JSON.parse(probe).streams[0]).toMatchObject({ codec_name: 'h264', width: 64, height: 48 });
    }
  });

  it('playback queries the range and records it at the asked speed', async () => {
    const port = await freeUdpPort();
    const out = join(dir, 'playback.h264');
    let received: EhomeDeviceMedia['received'] = [];
    const r = await withDevice(port, 'cli-cam3', (media) => {
      received = media.received;
      return runCam(
        [
          'ehome',
          'playback',
          '--embedded',
          '--server',
          `127.0.0.1:${port}`,
          '--id',
          'cli-cam3',
          '--start',
          '2026-03-01 01:00:00',
          '--end',
          '2026-03-01 01:30:00',
          '--speed',
          '4',
          '--seconds',
          '1',
          '-o',
          out,
          '--media-ports',
          mediaPorts(),
          '--wait',
          '10',
          '--json',
        ],
        { timeoutMs: 30_000 },
      );
    });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { frames: number; recordings: { name: string }[]; bytes: number };
    expect(doc.recordings.length).toBeGreaterThan(0);
    expect(doc.frames).toBeGreaterThan(0);
    expect(received.find((c) => c.command === 'PLAYBACK')).toMatchObject({
      // Recordings last 10..60 s from a time of the hour derived from the date: playback starts inside the range.
      params: { speed: 4, fileName: doc.recordings[0]!.name, startTime: expect.stringMatching(/^2026-03-01 01:[0-2]/) },
    });
    expect(readFileSync(out).length).toBe(doc.bytes);
  });

  it('download writes the recording, a demuxable program stream', async () => {
    const port = await freeUdpPort();
    const out = join(dir, 'rec.ps');
    const r = await withDevice(port, 'cli-cam2', () =>
      runCam(
        [
          'ehome',
          'download',
          '--embedded',
          '--server',
          `127.0.0.1:${port}`,
          '--id',
          'cli-cam2',
          '-o',
          out,
          '--media-ports',
          mediaPorts(),
          '--wait',
          '10',
          '--json',
        ],
        { timeoutMs: 30_000 },
      ),
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { bytes: number; fileSize: number; file: string };
    expect(doc.bytes).toBe(doc.fileSize);
    const d = new PsDemuxer();
    const aus = [...d.push(readFileSync(out)), ...d.end()];
    expect(aus).toHaveLength(25);
    expect(aus[0]!.keyframe).toBe(true);
  });

  it('says clearly when the device never registers', async () => {
    const port = await freeUdpPort();
    const r = await runCam([
      'ehome',
      'preview',
      '--embedded',
      '--server',
      `127.0.0.1:${port}`,
      '--id',
      'nobody',
      '--wait',
      '1',
      '--media-ports',
      mediaPorts(),
    ]);
    expect(r.code).toBe(1); // exits by itself with a runtime failure (the exit-code contract), not killed
    expect(r.stderr).toMatch(/nobody did not register within 1 s/);
  });
});
