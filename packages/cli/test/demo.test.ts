import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCam } from '../../../test-support/cli.js';

const out = mkdtempSync(join(tmpdir(), 'cam-demo-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('cam demo', () => {
  it('runs every part on loopback, writes its files and exits 0 by itself', async () => {
    const r = await runCam(['demo', '--json', '--out', out], { timeoutMs: 60_000, cwd: tmpdir() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as {
      ok: boolean;
      out: string;
      checks: { part: string; check: string; ok: boolean; detail: string; files?: string[] }[];
      written: string[];
    };
    expect(summary.ok).toBe(true);
    expect(new Set(summary.checks.map((c) => c.part))).toEqual(new Set(['gige', 'scgvmp', 'ehome', 'sdk']));
    expect(summary.checks.filter((c) => !c.ok)).toEqual([]);
    const files = summary.checks.flatMap((c) => c.files ?? []);
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) expect(existsSync(f)).toBe(true);
    // `written` is every file on disk below the output directory, named by a check or not.
    const onDisk = readdirSync(out, { recursive: true, encoding: 'utf8' })
      .map((name) => join(out, name))
      .filter((path) => statSync(path).isFile())
      .sort();
    expect(summary.written).toEqual(onDisk);
    for (const f of files) expect(summary.written).toContain(f);
    const png = files.find((f) => f.endsWith('.png'))!;
    expect([...readFileSync(png).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it('the human summary counts every file written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cam-demo-human-'));
    try {
      const r = await runCam(['demo', '--only', 'sdk', '--out', dir], { timeoutMs: 60_000, cwd: tmpdir() });
      expect(r.code, r.stderr).toBe(0);
      const onDisk = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) =>
        statSync(join(dir, name)).isFile(),
      ).length;
      expect(onDisk).toBeGreaterThan(0);
      expect(r.stdout).toContain(`(${onDisk} files)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a part that cannot run is reported, and the exit code says so', async () => {
    const r = await runCam(['demo', '--only', 'nothing'], { timeoutMs: 20_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no demo part named nothing/);
  });
});
