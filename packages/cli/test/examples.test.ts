import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const examplesDir = fileURLToPath(new URL('../examples/', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** What each example must print: one line that shows it did its task. */
const expected: Record<string, RegExp> = {
  'find-cameras.ts': /^DeviceVendorName = \S.*, Width = \d+$/m,
  'grab-frames.ts': /^stats: [1-9]\d* complete, 0 failed/m,
  'smart-camera-stream.ts': /^stopped, device state Idle$/m,
  'ehome-platform.ts': /^preview: [1-9]\d* access units/m,
  'huidu-controller.ts': /^uploaded \d+ bytes, MD5 [0-9a-f]{32}$/m,
};

function runExample(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@cam/source', '--import', tsxLoader, file], {
      cwd: examplesDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    // The example must exit by itself (every socket and timer closed); killed after 30 s so the test never hangs.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
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
