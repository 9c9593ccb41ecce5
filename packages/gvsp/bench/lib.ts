/**
 * The package under benchmark: the build (dist/) when it exists, else the sources. Running the receiver from
 * TypeScript sources through tsx inflates the old-generation heap (transpiled modules, source maps) so that the
 * external-memory churn of 9000-byte datagrams triggers full GCs dozens of times a second: a cost of the dev
 * loader, not of the package. `pnpm --filter @cam/gvsp build` first; BENCH_SOURCE=1 forces the sources.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Gvsp = typeof import('../src/index.js');

// BENCH_GVSP_DIST=/path/to/dist/index.js measures another build (an older commit's) with this harness
const dist = process.env.BENCH_GVSP_DIST
  ? pathToFileURL(process.env.BENCH_GVSP_DIST)
  : new URL('../dist/index.js', import.meta.url);
export const usingBuild = !process.env.BENCH_SOURCE && existsSync(fileURLToPath(dist));
export const gvsp: Gvsp = usingBuild ? ((await import(dist.href)) as Gvsp) : await import('../src/index.js');

/** A Mono8 image block of `width` x `height` with `data` (timestamp 0), as `packetiseBlock` takes it. */
export function mono8Block(width: number, height: number, data: Uint8Array): Parameters<Gvsp['packetiseBlock']>[0] {
  return gvsp.imageBlock({ pixelFormat: gvsp.PixelFormat.Mono8, width, height, data, timestamp: 0n });
}

/** Busy CPU time of the whole machine in seconds (all cores), from /proc/stat; 0 where it does not exist. */
export function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return (total - (f[3] ?? 0) - (f[4] ?? 0)) / 100; // USER_HZ
  } catch {
    return 0;
  }
}

/** Time all cores spent in softirq (field 7 of /proc/stat's cpu line: on loopback, the receive path) in seconds. */
export function machineSoftirqSeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return (f[6] ?? 0) / 100; // USER_HZ
  } catch {
    return 0;
  }
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return 0;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};
