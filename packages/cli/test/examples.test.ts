import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CamRun, runSource } from '../../../test-support/cli.js';

const examplesDir = fileURLToPath(new URL('../examples/', import.meta.url));

/** What each example must print: one line that shows it did its task. */
const expected: Record<string, RegExp> = {
  'find-cameras.ts': /^DeviceVendorName = \S.*, Width = \d+$/m,
  'grab-frames.ts': /^stats: [1-9]\d* complete, 0 failed/m,
  'smart-camera-stream.ts': /^stopped, device state Idle$/m,
  'ehome-platform.ts': /^preview: [1-9]\d* access units/m,
  'huidu-controller.ts': /^uploaded \d+ bytes, MD5 [0-9a-f]{32}$/m,
};

/** The example must exit by itself (every socket and timer closed); killed after 30 s so the test never hangs. */
function runExample(file: string): Promise<CamRun> {
  return runSource(file, [], { cwd: examplesDir, timeoutMs: 30_000 });
}

describe('examples', () => {
  const files = readdirSync(examplesDir).filter((f) => f.endsWith('.ts'));

  it('every example has an expected output line', () => {
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });

  for (const file of Object.keys(expected)) {
    it(`${file} runs on loopback, does its task and exits 0`, { timeout: 35_000 }, async () => {
      const r = await runExample(`${examplesDir}${file}`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(expected[file]!);
    });
  }
});
