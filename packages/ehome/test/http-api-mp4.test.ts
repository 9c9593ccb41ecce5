import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortPool } from '@cam/net-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { itInterop } from '../../../test-support/interop.js';
import { EhomeDevice, EhomeDeviceMedia, EhomeHttpApi } from '../src/index.js';
import { Cleanup, startServer } from './helpers.js';

const c = new Cleanup();
afterEach(() => c.run());

let base = 52_400 + (process.pid % 100) * 20;

async function rig() {
  const mediaPorts = new PortPool({ min: base, max: base + 9, host: '127.0.0.1' });
  base += 10;
  const server = await startServer(c, { mediaPorts, mediaAddress: '127.0.0.1' });
  const api = new EhomeHttpApi(server, { port: 0 });
  c.add(() => api.close(), undefined);
  await api.listen();
  const media = new EhomeDeviceMedia();
  c.add(() => media.close(), undefined);
  const dev = new EhomeDevice({
    server: { host: '127.0.0.1', port: server.addresses().port },
    deviceId: 'cam1',
    localAddress: '127.0.0.1',
    recordingDay: '2026-01-01',
    backoff: { initialMs: 50, maxMs: 400 },
    mediaHandler: media.handler,
  });
  c.add(() => dev.close(), undefined);
  await dev.start();
  return { api };
}

/** The top-level box types of an MP4 byte string. */
function topBoxes(data: Uint8Array): string[] {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const types: string[] = [];
  for (let o = 0; o + 8 <= data.length; o += v.getUint32(o)) {
    types.push(String.fromCharCode(...data.subarray(o + 4, o + 8)));
    if (v.getUint32(o) < 8) break;
  }
  return types;
}

function probe(file: string): Record<string, unknown> {
  const out = execFileSync(
    'ffprobe',
    [
      ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
      ...['-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file],
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return (JSON.parse(out) as { streams: Record<string, unknown>[] }).streams[0]!;
}

describe('EhomeHttpApi format=mp4', () => {
  it('answers preview and playback as fragmented MP4: init segment first, then moof/mdat pairs', async () => {
    const { api } = await rig();
    const records = await fetch(`${api.url}/api/devices/cam1/records?from=2026-01-01 10:00:00&to=2026-01-01 10:59:59`);
    const [rec] = (await records.json()) as { start: string; stop: string }[];
    for (const path of [
      '/api/devices/cam1/preview?seconds=1&format=mp4',
      `/api/devices/cam1/playback?from=${rec!.start}&to=${rec!.stop}&seconds=1&format=mp4`,
    ]) {
      const res = await fetch(`${api.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('video/mp4');
      const types = topBoxes(new Uint8Array(await res.arrayBuffer()));
      expect(types.slice(0, 3)).toEqual(['ftyp', 'moov', 'moof']);
      expect(types.filter((t) => t === 'moof').length).toBe(types.filter((t) => t === 'mdat').length);
      expect(types.length).toBeGreaterThanOrEqual(4);
    }
  });

  itInterop('ffprobe reads what the API sends as mp4: h264, the picture size, frames', ['ffprobe'], async () => {
    const { api } = await rig();
    const dir = mkdtempSync(join(tmpdir(), 'cam-api-mp4-'));
    try {
      const res = await fetch(`${api.url}/api/devices/cam1/preview?seconds=2&format=mp4`);
      const file = join(dir, 'preview.mp4');
      writeFileSync(file, new Uint8Array(await res.arrayBuffer()));
      const s = probe(file);
      expect(s).toMatchObject({ codec_name: 'h264' });
      expect(Number(s.width)).toBeGreaterThan(0);
      expect(Number(s.nb_read_frames)).toBeGreaterThan(10);
      const errors = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], {
        encoding: 'utf8',
        timeout: 20_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(errors).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
