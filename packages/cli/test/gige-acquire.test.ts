import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeatureRegister, GvcpDevice } from '@cam/gvcp';
import { attachGvspStreaming } from '@cam/gvsp';
import { afterEach, describe, expect, it } from 'vitest';
import { runCam } from '../../../test-support/cli.js';
import { describeInterop } from '../../../test-support/interop.js';
import { pipeCamToFfprobe, readPng, spawnCam, until } from './helpers.js';

const CCP = 0x0a00;
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

async function camera(pixelFormat: 'Mono8' | 'Mono12' | 'BayerRG8', width = 64, height = 32, fps = 50) {
  const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width, height, pixelFormat });
  cleanup.push(() => dev.close());
  // the moving diagonal ramp (TestPattern GreyDiagonalRamp) instead of the scene, so pixel values can be predicted
  dev.registers.set(FeatureRegister.TestPattern, 5);
  const s = await attachGvspStreaming(dev, { bindAddress: '127.0.0.1', forceFps: fps });
  cleanup.push(() => s.close());
  return { dev, port: String(dev.address().port) };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cam-acq-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('cam gige grab: images through the conversion module', () => {
  it('a Mono12 grab opens as a visible 16-bit PNG: sensor values scaled up, sBIT 12; raw keeps a JSON sidecar', async () => {
    const { port } = await camera('Mono12');
    const dir = tempDir();
    const r = await runCam(['gige', 'grab', '127.0.0.1', '--port', port, '--out', dir, '--json'], {
      timeoutMs: 30_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const [name] = readdirSync(dir);
    const doc = JSON.parse(r.stdout) as { frames: { blockId: string; file: string }[] };
    expect(name).toBe(`frame-${doc.frames[0]!.blockId.padStart(6, '0')}.png`);
    const { chunks, rows } = readPng(readFileSync(join(dir, name!)));
    const ihdr = chunks.get('IHDR')!;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9]]).toEqual([64, 32, 16, 0]);
    expect([...chunks.get('sBIT')!]).toEqual([12]);
    // the simulator's Mono12 ramp: v = ((x + y + shift) * 37) & 0xfff; every sample is v << 4 | v >> 8
    const samples: number[] = [];
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 64; x++) samples.push(rows.readUInt16BE(y * (64 * 2 + 1) + 1 + 2 * x));
    const sensor = samples.map((s) => s >> 4);
    for (const [i, s] of samples.entries()) expect(s).toBe((sensor[i]! << 4) | (sensor[i]! >> 8));
    const shift = findShift(sensor[0]!);
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 64; x += 7) expect(sensor[y * 64 + x]).toBe(((x + y + shift) * 37) & 0xfff);
    // visible: the samples spread over the 16-bit range (a 0..4095 PNG would stay below 1/16 of it and look black)
    expect(Math.max(...samples)).toBeGreaterThan(0xc000);
    expect(samples.reduce((a, b) => a + b, 0) / samples.length).toBeGreaterThan(0x4000);

    const raw = await runCam(['gige', 'grab', '127.0.0.1', '--port', port, '--out', dir, '--format', 'raw'], {
      timeoutMs: 30_000,
    });
    expect(raw.code, raw.stderr).toBe(0);
    const side = readdirSync(dir).find((f) => f.endsWith('.json'))!;
    const meta = JSON.parse(readFileSync(join(dir, side), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({ width: 64, height: 32, pixelFormat: 'Mono12', bytes: 64 * 32 * 2 });
    expect(meta.timestamp).toMatch(/^\d+$/);
    expect(readFileSync(join(dir, side.replace('.json', '.raw'))).byteLength).toBe(64 * 32 * 2);
  }, 60_000);

  it('a Bayer grab is demosaiced to an RGB PNG', async () => {
    const { port } = await camera('BayerRG8');
    const dir = tempDir();
    const r = await runCam(['gige', 'grab', '127.0.0.1', '--port', port, '--out', dir], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    const { chunks } = readPng(readFileSync(join(dir, readdirSync(dir)[0]!)));
    expect(chunks.get('IHDR')![9]).toBe(2); // colour type RGB, not a grey mosaic
  }, 60_000);

  it('--set writes features before acquisition; a bad --set writes nothing and exits 1', async () => {
    const { dev, port } = await camera('Mono8');
    const r = await runCam(
      [
        'gige',
        'grab',
        '127.0.0.1',
        '--port',
        port,
        '--out',
        tempDir(),
        '--set',
        'Width=32',
        '--set',
        'Height=16',
        '--json',
      ],
      { timeoutMs: 30_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { frames: { width: number; height: number }[] };
    expect(doc.frames[0]).toMatchObject({ width: 32, height: 16 });
    const bad = await runCam(
      ['gige', 'grab', '127.0.0.1', '--port', port, '--set', 'Width=48', '--set', 'Heigth=8', '--json'],
      { timeoutMs: 30_000 },
    );
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      ok: false,
      error: { name: 'UnknownFeatureNameError', message: expect.stringMatching(/did you mean Height/) },
    });
    expect(dev.imageFormat().width).toBe(32); // Width=48 was not written
    expect(dev.registers.get(CCP)).toBe(0); // control given back
  }, 60_000);

  it('--trigger software sets TriggerMode On for the grab and back to Off after', async () => {
    const { dev, port } = await camera('Mono8');
    const r = await runCam(
      [
        'gige',
        'grab',
        '127.0.0.1',
        '--port',
        port,
        '--frames',
        '2',
        '--out',
        tempDir(),
        '--trigger',
        'software',
        '--json',
      ],
      { timeoutMs: 30_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { frames: unknown[] }).frames).toHaveLength(2);
    const mode = await runCam(['gige', 'read', '127.0.0.1', 'TriggerMode', '--port', port]);
    expect(mode.stdout).toBe('TriggerMode = Off\n');
    expect(dev.registers.get(CCP)).toBe(0);
    const badRate = await runCam(['gige', 'grab', '127.0.0.1', '--port', port, '--trigger', 'hardware']);
    expect(badRate.code).toBe(2);
  }, 60_000);
});

function findShift(first: number): number {
  // first sample is ((0 + 0 + shift) * 37) & 0xfff: find shift in 0..0xffff
  for (let s = 0; s <= 0xffff; s++) if (((s * 37) & 0xfff) === first) return s;
  throw new Error('no shift');
}

describe('SIGINT stops acquisition cleanly: summary, device released, exit 130', () => {
  for (const command of ['stream', 'grab'] as const) {
    it(`cam gige ${command}`, async () => {
      const { dev, port } = await camera('Mono8', 64, 32, 20);
      const args =
        command === 'stream'
          ? ['gige', 'stream', '127.0.0.1', '--port', port, '--seconds', '0']
          : ['gige', 'grab', '127.0.0.1', '--port', port, '--frames', '100000', '--out', tempDir()];
      const cam = spawnCam(args);
      await until(() => dev.acquiring, 'acquisition to start');
      await new Promise((r) => setTimeout(r, 500));
      cam.child.kill('SIGINT');
      const code = await cam.exit;
      expect(code, cam.stderr()).toBe(130);
      expect(cam.stdout()).toMatch(/^frames: \d+ complete/m); // the same summary a normal end prints
      expect(dev.acquiring).toBe(false); // AcquisitionStop
      expect(dev.streamChannel(0).hostPort).toBe(0); // stream channel closed
      expect(dev.registers.get(CCP)).toBe(0); // control released
    }, 60_000);
  }
});

describeInterop('cam gige stream -o - | ffprobe -', ['ffprobe'], () => {
  it('pipes a YUV4MPEG2 stream that ffprobe reads (mono and Bayer as colour)', async () => {
    for (const [format, pixFmt] of [
      ['Mono8', 'gray'],
      ['BayerRG8', 'yuv444p'],
    ] as const) {
      const { port } = await camera(format, 64, 32, 30);
      const r = await pipeCamToFfprobe(['gige', 'stream', '127.0.0.1', '--port', port, '--seconds', '2', '-o', '-']);
      expect(r.camCode, r.camStderr).toBe(0);
      expect(r.probeCode).toBe(0);
      const stream = r.streams[0]!;
      expect(stream).toMatchObject({ codec_name: 'rawvideo', width: 64, height: 32, pix_fmt: pixFmt });
      expect(Number(stream.nb_read_frames)).toBeGreaterThan(5);
    }
  }, 90_000);

  it('cam gige grab -o FILE --format raw writes the frames back to back', async () => {
    const { port } = await camera('Mono8');
    const file = join(tempDir(), 'frames.raw');
    const r = await runCam(
      ['gige', 'grab', '127.0.0.1', '--port', port, '--frames', '3', '-o', file, '--format', 'raw'],
      {
        timeoutMs: 30_000,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(file).byteLength).toBe(3 * 64 * 32);
  }, 60_000);
});
