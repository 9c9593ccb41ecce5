import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const camSource = fileURLToPath(new URL('../packages/cli/src/cam.ts', import.meta.url));
// Absolute, so the CLI can run with any working directory.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
// lets packages run from source start their workers (see source-worker.ts); after tsx, which loads it
const sourceWorker = new URL('./source-worker.ts', import.meta.url).href;

/** Result of one `cam` run. */
export interface CamRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /**
   * Peak resident set size of the process in MiB (Linux `VmHWM`, sampled every 50 ms while it runs: a lower bound
   * close to the true peak, as the high-water mark only grows); undefined where /proc is not available.
   */
  maxRssMiB?: number;
}

/** The peak RSS (`VmHWM`) of a running process in MiB, or undefined when it cannot be read (gone, not Linux). */
function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a TypeScript file from source with Node (tsx, sibling packages from source through the `@cam/source`
 * condition) and collects its output. Killed after `timeoutMs` (default 20 s) so a test can never hang.
 */
export function runSource(
  file: string,
  args: string[] = [],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CamRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@cam/source', '--import', tsxLoader, '--import', sourceWorker, file, ...args],
      {
        cwd: options.cwd ?? process.cwd(),
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    let maxRssMiB: number | undefined;
    const sampler = setInterval(() => {
      maxRssMiB = Math.max(maxRssMiB ?? 0, peakRssMiB(child.pid) ?? 0) || undefined;
    }, 50);
    child.on('error', reject);
    child.on('exit', () => clearInterval(sampler));
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(sampler);
      resolve(maxRssMiB === undefined ? { code, stdout, stderr } : { code, stdout, stderr, maxRssMiB });
    });
  });
}

/** Runs the `cam` CLI from source (see {@link runSource}), so CLI tests need no build. */
export function runCam(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CamRun> {
  return runSource(camSource, args, options);
}

/** A `cam` process started by {@link startCam}. */
export interface StartedCam {
  child: ChildProcess;
  /** The first line it printed on stdout (long-running commands print where they listen). */
  firstLine: string;
  /** Everything printed so far. */
  output(): { stdout: string; stderr: string };
  /** Its exit code (null when killed). */
  exit: Promise<number | null>;
}

/**
 * Starts a long-running `cam` command from source and resolves once it printed its first stdout line; rejects if it
 * exits before. Killed after `timeoutMs` (default 25 s) whatever happens, so a test can never hang.
 */
export function startCam(args: string[], options: { timeoutMs?: number } = {}): Promise<StartedCam> {
  return startProcess(
    process.execPath,
    ['--conditions=@cam/source', '--import', tsxLoader, '--import', sourceWorker, camSource, ...args],
    options,
  );
}

/**
 * Starts any long-running command (an installed `cam`, say) and resolves once it printed its first stdout line, as
 * {@link startCam} does.
 */
export function startProcess(
  command: string,
  args: string[],
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<StartedCam> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd ?? process.cwd() });
    let stdout = '';
    let stderr = '';
    let resolved = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 25_000);
    const exit = new Promise<number | null>((r) =>
      child.on('exit', (code) => {
        clearTimeout(killer);
        r(code);
      }),
    );
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (!resolved && nl >= 0) {
        resolved = true;
        resolve({ child, firstLine: stdout.slice(0, nl), output: () => ({ stdout, stderr }), exit });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    void exit.then((code) => {
      if (!resolved) reject(new Error(`${command} exited with ${code} before printing: ${stderr}`));
    });
  });
}

/** A UDP port free right now on 127.0.0.1, for a child process that must be told its port up front. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
