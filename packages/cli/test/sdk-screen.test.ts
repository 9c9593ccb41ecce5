import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCam, type StartedCam, startCam } from '../../../test-support/cli.js';
import { countPixels, pngPixels, solidPng } from '../../sdk-tcp/test/png.js';

/**
 * Done-when of issue #19: a program with two areas (scrolling text and a picture) sent by `cam sdk program send`
 * shows up in the simulator's rendered PNG (`cam sdk snapshot`) where it was placed. Also screen, luminance, time
 * and files against `cam sdk simulate`.
 */

let sim: StartedCam;
let port = 0;
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cam-sdk-screen-'));
  sim = await startCam(
    [
      'sdk',
      'simulate',
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--dir',
      join(work, 'sim'),
      '--screen',
      '128x64',
      '--exit-after',
      '120000',
    ],
    { timeoutMs: 150_000 },
  );
  const m = /on 127\.0\.0\.1:(\d+) .*128x64 screen/.exec(sim.firstLine);
  if (!m) throw new Error(`unexpected first line: ${sim.firstLine}`);
  port = Number(m[1]);
}, 60_000);
afterAll(async () => {
  sim?.child.kill('SIGINT');
  await sim?.exit;
  await rm(work, { recursive: true, force: true });
});

const P = () => ['--port', String(port)];
const red = (r: number, g: number, b: number) => r > 150 && g < 90 && b < 90;
const green = (r: number, g: number, b: number) => g > 150 && r < 90 && b < 90;

describe('cam sdk program/screen/luminance/time/files/snapshot', { timeout: 90_000 }, () => {
  it('program send: scrolling text and a picture appear in the snapshot where they were placed', async () => {
    await writeFile(join(work, 'green.png'), solidPng(24, 24, '#00ff00'));
    await writeFile(
      join(work, 'program.json'),
      JSON.stringify({
        name: 'lobby',
        areas: [
          {
            x: 0,
            y: 0,
            width: 80,
            height: 32,
            items: [{ type: 'text', text: 'WELCOME', size: 18, color: '#ff0000', effect: 'leftScrollLoop', speed: 4 }],
          },
          { x: 96, y: 32, width: 24, height: 24, items: [{ type: 'image', file: 'green.png' }] },
        ],
      }),
    );
    const sent = await runCam(['sdk', 'program', 'send', '127.0.0.1', join(work, 'program.json'), ...P(), '--json']);
    expect(sent.stderr).toContain('upload green.png 100%');
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ ok: true, areas: 2, media: ['green.png'] });

    const out = join(work, 'shot.png');
    const shot = await runCam(['sdk', 'snapshot', '127.0.0.1', ...P(), '--out', out, '--at-ms', '0']);
    expect(shot.code).toBe(0);
    expect(shot.stdout).toContain(`128x64 -> ${out}`);
    const px = pngPixels(await readFile(out), 128, 64);
    expect(countPixels(px, 128, { x: 96, y: 32, width: 24, height: 24 }, green)).toBe(24 * 24);
    expect(countPixels(px, 128, { x: 0, y: 0, width: 128, height: 64 }, green)).toBe(24 * 24);
    expect(countPixels(px, 128, { x: 0, y: 0, width: 80, height: 32 }, red)).toBeGreaterThan(40);
    expect(countPixels(px, 128, { x: 0, y: 32, width: 128, height: 32 }, red)).toBe(0);
    expect(countPixels(px, 128, { x: 80, y: 0, width: 48, height: 64 }, red)).toBe(0);
    // The text scrolls: two seconds later it stands elsewhere (still inside its area).
    const later = join(work, 'later.png');
    expect((await runCam(['sdk', 'snapshot', '127.0.0.1', ...P(), '--out', later, '--at-ms', '2000'])).code).toBe(0);
    const px2 = pngPixels(await readFile(later), 128, 64);
    expect(countPixels(px2, 128, { x: 0, y: 32, width: 128, height: 32 }, red)).toBe(0);
    expect(Buffer.compare(Buffer.from(px), Buffer.from(px2))).not.toBe(0);
  });

  it('a program outside the screen is refused with the controller reason', async () => {
    await writeFile(
      join(work, 'bad.json'),
      JSON.stringify({ areas: [{ x: 100, y: 0, width: 64, height: 16, items: [{ type: 'text', text: 'x' }] }] }),
    );
    const r = await runCam(['sdk', 'program', 'send', '127.0.0.1', join(work, 'bad.json'), ...P()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('AddProgram answered kInvalidParam: area 0 (100,0 64x16) is outside the 128x64 screen');
  });

  it('screen off|on, luminance, time, files', async () => {
    expect((await runCam(['sdk', 'screen', '127.0.0.1', 'off', ...P()])).stdout).toBe('screen off\n');
    const dark = join(work, 'dark.png');
    await runCam(['sdk', 'snapshot', '127.0.0.1', ...P(), '--out', dark]);
    const lit = (r: number, g: number, b: number) => r + g + b > 0;
    expect(
      countPixels(pngPixels(await readFile(dark), 128, 64), 128, { x: 0, y: 0, width: 128, height: 64 }, lit),
    ).toBe(0);
    expect((await runCam(['sdk', 'screen', '127.0.0.1', 'on', ...P()])).stdout).toBe('screen on\n');

    expect((await runCam(['sdk', 'luminance', '127.0.0.1', '35', ...P()])).stdout).toBe('luminance default: 35%\n');
    const sched = await runCam(['sdk', 'luminance', '127.0.0.1', ...P(), '--schedule', '07:00:00=90,20:00:00=30']);
    expect(sched.stdout).toBe('luminance ploys: 100%; schedule 07:00:00=90%, 20:00:00=30%\n');

    const t = await runCam([
      'sdk',
      'time',
      '127.0.0.1',
      ...P(),
      '--set',
      '2026-03-04 05:06:07',
      '--timezone',
      '(UTC+01:00)Paris',
    ]);
    expect(t.stdout).toMatch(/^2026-03-04 05:06:0\d \(UTC\+01:00\)Paris \(sync none\)\n$/);

    const files = await runCam(['sdk', 'files', '127.0.0.1', ...P(), '--json']);
    expect(JSON.parse(files.stdout).files).toEqual([expect.objectContaining({ name: 'green.png', type: 'image' })]);
    const bad = await runCam(['sdk', 'screen', '127.0.0.1', 'dim', ...P()]);
    expect(bad.code).not.toBe(0);
  });
});
