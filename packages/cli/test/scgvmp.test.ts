import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GvcpDevice } from '@cam/gvcp';
import { attachToGvcpDevice, ScGvmpDevice, testPatternJpeg, testPatternRaw } from '@cam/sc-gvmp';
import { afterEach, describe, expect, it } from 'vitest';
import { runCam, startCam } from '../../../test-support/cli.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('cam scgvmp', () => {
  it('grab --json receives frames from an in-process smart camera and writes them to --out', async () => {
    const gvcp = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    cleanups.push(() => gvcp.close());
    const sc = new ScGvmpDevice({ fps: 50, source: 'raw', testPattern: { width: 16, height: 8 } });
    cleanups.push(() => sc.close());
    attachToGvcpDevice(sc, gvcp);
    const dir = await mkdtemp(join(tmpdir(), 'cam-scgvmp-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const r = await runCam([
      'scgvmp',
      'grab',
      '127.0.0.1',
      '--port',
      String(gvcp.address().port),
      '--frames',
      '3',
      '--out',
      dir,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.frames.map((f: { seq: number }) => f.seq)).toEqual([0, 1, 2]);
    expect(doc.frames[0]).toMatchObject({ kind: 'RAW', keyFrame: true, bytes: 128, missing: 0 });
    expect(doc.state).toBe('Idle');
    expect((await readdir(dir)).sort()).toEqual(['frame-0.raw', 'frame-1.raw', 'frame-2.raw']);
    expect(
      Buffer.from(await readFile(join(dir, 'frame-2.raw'))).equals(
        Buffer.from(testPatternRaw(2, { width: 16, height: 8 })),
      ),
    ).toBe(true);
    expect(sc.state).toBe('Idle');
  });

  it('simulate --json runs a camera that grab streams JPEG frames from (human output)', async () => {
    const sim = await startCam([
      'scgvmp',
      'simulate',
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--fps',
      '50',
      '--width',
      '32',
      '--height',
      '16',
      '--json',
    ]);
    cleanups.push(async () => {
      sim.child.kill('SIGTERM');
      await sim.exit;
    });
    const info = JSON.parse(sim.firstLine);
    expect(info).toMatchObject({
      ok: true,
      address: '127.0.0.1',
      payload: 'JPEG',
      fps: 50,
      registers: { mcda: 0xb000 },
    });
    const dir = await mkdtemp(join(tmpdir(), 'cam-scgvmp-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const r = await runCam(['scgvmp', 'grab', '127.0.0.1', '--port', String(info.port), '--frames', '2', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/frame 0: JPEG key, \d+ bytes/);
    expect(r.stdout).toMatch(/received 2 frames/);
    const jpeg = await readFile(join(dir, 'frame-1.jpg'));
    expect(Buffer.from(jpeg).equals(Buffer.from(testPatternJpeg(1, { width: 32, height: 16 })))).toBe(true);
    sim.child.kill('SIGTERM');
    expect(await sim.exit).toBe(0);
  });

  it('grab reports a camera that does not answer as one JSON error document', async () => {
    const r = await runCam([
      'scgvmp',
      'grab',
      '127.0.0.1',
      '--port',
      '9',
      '--frames',
      '1',
      '--timeout',
      '3000',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.error.name).toMatch(/Timeout|Gvcp/);
  });

  it('refuses bad options with exit code 2', async () => {
    const bad = await runCam(['scgvmp', 'simulate', '--payload', 'bmp', '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.message).toMatch(/jpeg or raw/);
    const ip = await runCam(['scgvmp', 'grab', 'camera.local']);
    expect(ip.code).toBe(2);
    expect(ip.stderr).toMatch(/not an IPv4 address/);
  });
});
