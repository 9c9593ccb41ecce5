import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const camSource = fileURLToPath(new URL('../packages/cli/src/cam.ts', import.meta.url));
// Absolute, so the CLI can run with any working directory.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Result of one `cam` run. */
export interface CamRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the `cam` CLI from source (tsx, sibling packages from source through the `@cam/source` condition), so
 * CLI tests need no build. Killed after `timeoutMs` (default 20 s) so a test can never hang.
 */
export function runCam(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CamRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@cam/source', '--import', tsxLoader, camSource, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...process.env, ...options.env },
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
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
