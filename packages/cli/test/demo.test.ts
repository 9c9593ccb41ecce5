import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
    };
    expect(summary.ok).toBe(true);
    expect(new Set(summary.checks.map((c) => c.part))).toEqual(new Set(['gige', 'scgvmp', 'ehome', 'sdk']));
    expect(summary.checks.filter((c) => !c.ok)).toEqual([]);
    const files = summary.checks.flatMap((c) => c.files ?? []);
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) expect(existsSync(f)).toBe(true);
    const png = files.find((f) => f.endsWith('.png'))!;
    expect([...readFileSync(png).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it('a part that cannot run is reported, and the exit code says so', async () => {
    const r = await runCam(['demo', '--only', 'nothing'], { timeoutMs: 20_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no demo part named nothing/);
  });
});
