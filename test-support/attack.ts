/**
 * The attack suite (`pnpm attack`, and a short budget of it in each package's `test/attack.test.ts`).
 *
 * Discovers `packages/<pkg>/attack/scenarios.ts` (each default-exports `AttackScenario[]`, see hostile-types.ts),
 * runs every scenario on loopback, bounded by its budget and a timeout, prints the table (target, attack, survived,
 * RSS before/after, amplification, detail) and exits non-zero unless every row survived.
 *
 * Usage: `pnpm attack [-- --budget short|full] [--target TEXT] [--timeout MS]`.
 */

import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { AttackOutcome, AttackScenario } from './hostile-types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Resident set size of this process in MiB, after a collection when the process allows one (`--expose-gc`). */
export async function rssMiB(settleMs = 0): Promise<number> {
  if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round((process.memoryUsage.rss() / (1024 * 1024)) * 10) / 10;
}

/** RSS may grow by this much over an attack (allocator slack, JIT, pools) and still count as "back within bound". */
export const RSS_SLACK_MIB = 64;

/** A UDP socket on a loopback address other than the target's (127.0.0.2: an "unprivileged" host). */
export function loopbackSocket(address = '127.0.0.2'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, address, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

/** Sends `count` datagrams made by `make(i)` to `port` on 127.0.0.1, awaiting each send (no unbounded queue). */
export async function flood(
  socket: Socket,
  port: number,
  count: number,
  make: (i: number) => Uint8Array,
  signal?: AbortSignal,
  ratePerSecond = Number.POSITIVE_INFINITY,
): Promise<number> {
  let bytes = 0;
  const start = performance.now();
  for (let i = 0; i < count && !signal?.aborted; i++) {
    if (i % 100 === 0 && Number.isFinite(ratePerSecond)) {
      const ahead = start + (i / ratePerSecond) * 1000 - performance.now();
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
    const d = make(i);
    bytes += d.byteLength;
    await new Promise<void>((resolve) => socket.send(d, port, '127.0.0.1', () => resolve()));
  }
  return bytes;
}

interface FloodJob {
  floodModule: string;
  generator: string;
  port: number;
  count: number;
  address: string;
  ratePerSecond: number;
}

/**
 * Runs {@link flood} in a worker thread, so the attacker does not share the target's event loop (a real attacker is
 * another machine). `generator` names an export of `module` (a URL) with the signature `(i: number) => Uint8Array`.
 * Resolves with the bytes sent.
 */
export function floodInWorker(options: {
  module: string;
  generator: string;
  port: number;
  count: number;
  address?: string;
  /** Datagrams per second (default: as fast as the socket takes them). */
  ratePerSecond?: number;
  signal?: AbortSignal;
}): Promise<number> {
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const entry = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  const job: FloodJob = {
    floodModule: options.module,
    generator: options.generator,
    port: options.port,
    count: options.count,
    address: options.address ?? '127.0.0.2',
    ratePerSecond: options.ratePerSecond ?? Number.POSITIVE_INFINITY,
  };
  const worker = new Worker(entry, { eval: true, workerData: job, execArgv: ['--conditions=@cam/source'] });
  const onAbort = (): void => void worker.terminate();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  return new Promise<number>((resolve, reject) => {
    worker.once('message', (bytes: number) => resolve(bytes));
    worker.once('error', reject);
    worker.once('exit', () => {
      options.signal?.removeEventListener('abort', onAbort);
      resolve(0);
    });
  });
}

async function floodWorkerMain(job: FloodJob): Promise<void> {
  const mod = (await import(job.floodModule)) as Record<string, (i: number) => Uint8Array>;
  const make = mod[job.generator];
  if (typeof make !== 'function') throw new Error(`${job.floodModule} exports no ${job.generator}`);
  const socket = await loopbackSocket(job.address);
  const bytes = await flood(socket, job.port, job.count, make, undefined, job.ratePerSecond);
  await new Promise<void>((r) => socket.close(() => r()));
  parentPort!.postMessage(bytes);
}

/** A row of the table. */
export interface AttackRow extends AttackOutcome {
  target: string;
  attack: string;
  ms: number;
}

/** Runs one scenario within `timeoutMs`: a scenario that throws or overruns did not survive. */
export async function runScenario(
  scenario: AttackScenario,
  budget: 'short' | 'full',
  timeoutMs: number,
): Promise<AttackRow> {
  const controller = new AbortController();
  const t0 = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const overrun = new Promise<AttackOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ survived: false, detail: `did not end within ${timeoutMs} ms`, rssBeforeMiB: 0, rssAfterMiB: 0 });
    }, timeoutMs + 5000);
  });
  let outcome: AttackOutcome;
  try {
    outcome = await Promise.race([scenario.run({ budget, timeoutMs, signal: controller.signal }), overrun]);
  } catch (e) {
    outcome = {
      survived: false,
      detail: `scenario failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
      rssBeforeMiB: 0,
      rssAfterMiB: 0,
    };
  } finally {
    clearTimeout(timer);
  }
  return { target: scenario.target, attack: scenario.attack, ms: Date.now() - t0, ...outcome };
}

/** Every `packages/<pkg>/attack/scenarios.ts`. */
export async function discoverScenarios(): Promise<{ name: string; scenarios: AttackScenario[] }[]> {
  const out: { name: string; scenarios: AttackScenario[] }[] = [];
  const dir = join(ROOT, 'packages');
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name, 'attack', 'scenarios.ts');
    if (!existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { default: AttackScenario[] };
    out.push({ name, scenarios: mod.default });
  }
  return out;
}

export function formatTable(rows: readonly AttackRow[]): string {
  const head = ['target', 'attack', 'survived', 'RSS before', 'RSS after', 'amplification', 'detail'];
  const cells = rows.map((r) => [
    r.target,
    r.attack,
    r.survived ? 'yes' : 'NO',
    `${r.rssBeforeMiB.toFixed(1)} MiB`,
    `${r.rssAfterMiB.toFixed(1)} MiB`,
    r.amplification === undefined ? '-' : `${r.amplification.toFixed(3)}x`,
    r.detail,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]!))).join('  ');
  return `${[line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n')}\n`;
}

/** The vitest side for `packages/<pkg>/test/attack.test.ts`: every scenario on the short budget must survive. */
export function attackTests(
  scenarios: readonly AttackScenario[],
  t: {
    describe: (name: string, body: () => void) => void;
    it: (name: string, body: () => Promise<void>, timeoutMs?: number) => void;
    expect: (value: unknown, message?: string) => { toBe(v: unknown): void };
  },
  timeoutMs = 20_000,
): void {
  t.describe('attack (short budget)', () => {
    for (const s of scenarios) {
      t.it(
        `${s.target}: ${s.attack}`,
        async () => {
          const row = await runScenario(s, 'short', timeoutMs);
          t.expect(row.survived, row.detail).toBe(true);
        },
        timeoutMs + 10_000,
      );
    }
  });
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const budget = (argValue(args, '--budget') ?? 'full') as 'short' | 'full';
  if (budget !== 'short' && budget !== 'full') throw new Error(`--budget ${String(budget)} is not short or full`);
  const filter = argValue(args, '--target');
  const timeoutMs = Number(argValue(args, '--timeout') ?? 120_000);
  const rows: AttackRow[] = [];
  for (const pkg of await discoverScenarios()) {
    for (const s of pkg.scenarios) {
      if (filter !== undefined && !`${pkg.name} ${s.target} ${s.attack}`.includes(filter)) continue;
      const row = await runScenario(s, budget, timeoutMs);
      rows.push(row);
      process.stdout.write(
        `  ${row.survived ? 'survived' : 'FELL    '}  ${s.target}: ${s.attack} (${(row.ms / 1000).toFixed(1)} s)\n`,
      );
    }
  }
  if (rows.length === 0) throw new Error(`no attack scenario matches ${filter ?? '(any)'}`);
  process.stdout.write(`\n${formatTable(rows)}`);
  const fell = rows.filter((r) => !r.survived).length;
  if (fell > 0) {
    process.stdout.write(`\n${fell} of ${rows.length} attacks were not survived\n`);
    process.exitCode = 1;
  }
  // scenarios close what they start; anything left (a stray timer) must not keep the run alive
  setTimeout(() => process.exit(), 1000).unref();
}

if (!isMainThread && (workerData as FloodJob | undefined)?.floodModule !== undefined) {
  floodWorkerMain(workerData as FloodJob).catch((e: unknown) => {
    throw e;
  });
} else if (isMainThread && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`attack: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  });
}
