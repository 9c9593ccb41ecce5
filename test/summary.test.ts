import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countTasks } from '../test-support/summary-reporter.js';

const vitestBin = createRequire(import.meta.url).resolve('vitest/vitest.mjs');
const config = fileURLToPath(new URL('./fixtures/summary/vitest.config.ts', import.meta.url));

describe('the closing summary line', () => {
  it('counts tests by state, and a suite that failed with no failing test as one failure', () => {
    const counts = countTasks(
      [
        {
          type: 'suite',
          filepath: 'a.test.ts',
          result: { state: 'fail' },
          tasks: [
            { type: 'test', result: { state: 'pass' } },
            { type: 'test', result: { state: 'fail' } },
            { type: 'test', mode: 'skip' },
          ],
        },
        { type: 'suite', filepath: 'broken.test.ts', result: { state: 'fail' }, tasks: [] },
        {
          type: 'suite',
          filepath: 'hook.test.ts',
          result: { state: 'fail' },
          tasks: [{ type: 'suite', name: 'inner', result: { state: 'fail' }, tasks: [{ type: 'test', mode: 'skip' }] }],
        },
      ],
      1,
    );
    expect(counts).toEqual({ passed: 1, failed: 4, skipped: 2, brokenSuites: ['broken.test.ts', 'inner'] });
  });

  it('a real vitest run with a suite that fails to load and a failing hook exits non-zero and counts both', async () => {
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [vitestBin, 'run', '--config', config],
        { timeout: 60_000, env: { ...process.env, CI: '1', NO_COLOR: '1' } },
        (error, stdout) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }),
      );
    });
    expect(result.code).not.toBe(0);
    const lines = result.stdout.trim().split('\n');
    // passing.fixture.ts: 2 passed, 1 failed, 1 skipped; does-not-load: 1 failed; hook-fails: 1 failed (its test
    // is reported skipped, and the suite counts once).
    expect(lines.at(-1)).toBe('tests: 2 passed, 3 failed, 2 skipped');
    expect(result.stdout).toContain('does-not-load.fixture.ts');
  });
});
