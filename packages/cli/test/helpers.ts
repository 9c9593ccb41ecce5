import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';

export const camSource = fileURLToPath(new URL('../src/cam.ts', import.meta.url));
export const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The argv that runs `cam` from source. */
export function camArgv(args: string[]): string[] {
  return [process.execPath, '--conditions=@cam/source', '--import', tsxLoader, camSource, ...args];
}

/** A `cam` child whose output is collected; killed after `timeoutMs` whatever happens. */
export interface CamChild {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exit: Promise<number | null>;
}

export function spawnCam(args: string[], timeoutMs = 40_000): CamChild {
  const [node, ...rest] = camArgv(args);
  const child = spawn(node!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve(code);
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Waits (bounded) until `test()` holds. */
export async function until(test: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The chunks of a PNG, by type, and its inflated scanlines. */
export function readPng(png: Uint8Array): { chunks: Map<string, Buffer>; rows: Buffer } {
  const b = Buffer.from(png);
  const chunks = new Map<string, Buffer>();
  const idat: Buffer[] = [];
  for (let o = 8; o < b.length; ) {
    const len = b.readUInt32BE(o);
    const type = b.toString('latin1', o + 4, o + 8);
    const data = b.subarray(o + 8, o + 8 + len);
    if (type === 'IDAT') idat.push(data);
    else chunks.set(type, data);
    o += 12 + len;
  }
  return { chunks, rows: inflateSync(Buffer.concat(idat)) };
}

/** What `cam ... -o - | ffprobe ...` gave: both exit codes, ffprobe's JSON and cam's stderr. */
export interface PipedProbe {
  camCode: number | null;
  probeCode: number | null;
  streams: Record<string, unknown>[];
  camStderr: string;
}

/**
 * Runs `cam <args>` (which writes media to stdout with `-o -`) piped into `ffprobe <probeArgs> -show_streams
 * -count_frames -of json -`, as a user's shell pipeline would. Both are killed after `timeoutMs`.
 */
export async function pipeCamToFfprobe(
  args: string[],
  probeArgs: string[] = [],
  timeoutMs = 40_000,
): Promise<PipedProbe> {
  const [node, ...rest] = camArgv(args);
  const cam = spawn(node!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  const probe = spawn('ffprobe', ['-v', 'error', ...probeArgs, '-show_streams', '-count_frames', '-of', 'json', '-'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  cam.stdout.pipe(probe.stdin);
  let out = '';
  let camStderr = '';
  probe.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  cam.stderr.setEncoding('utf8').on('data', (d: string) => {
    camStderr += d;
  });
  const killer = setTimeout(() => {
    cam.kill('SIGKILL');
    probe.kill('SIGKILL');
  }, timeoutMs);
  const [camCode, probeCode] = await Promise.all([
    new Promise<number | null>((r) => cam.on('close', r)),
    new Promise<number | null>((r) => probe.on('close', r)),
  ]);
  clearTimeout(killer);
  const streams = out ? ((JSON.parse(out) as { streams?: Record<string, unknown>[] }).streams ?? []) : [];
  return { camCode, probeCode, streams, camStderr };
}
