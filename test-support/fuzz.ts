/**
 * The fuzz suite (`pnpm fuzz`, and a short budget of it in each package's `test/fuzz.test.ts`).
 *
 * Discovers `packages/<pkg>/fuzz/targets.ts` (each default-exports `FuzzTarget[]`, see hostile-types.ts), feeds every
 * target random and mutated inputs built from its seeds (bit flips, boundary values written over bytes and length
 * fields, truncation, splicing, repetition, insertion, deletion, pure random) split at random cut points, and reports a
 * finding for any exception the target's `isExpectedError` rejects, any call that takes over a second (measured again
 * before it counts: a loaded machine is not a slow decoder), any growth of heap plus external memory beyond the
 * target's `maxAllocationBytes`, and a hang (`pnpm fuzz` runs each target in a worker under a watchdog). A finding's
 * input is saved as `packages/<pkg>/fuzz/regressions/<target>/<sha1>.bin` (its cut points beside it in
 * `<sha1>.cuts.json`) and replayed by the package's vitest file forever after.
 *
 * Usage: `pnpm fuzz [-- --runs N] [--target NAME] [--seed S]`: NAME is a target's exact name (that target alone), or
 * matches target names or a package (substring).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { FuzzTarget } from './hostile-types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_MAX_INPUT = 64 * 1024;
const DEFAULT_MAX_ALLOCATION = 16 * 1024 * 1024;
/** A call slower than this is a finding (after it was slow twice more on its own). */
export const SLOW_CALL_MS = 1000;
/** `pnpm fuzz`: a worker that makes no progress for this long is hung; its current input is the finding. */
const HANG_MS = 10_000;
/** Longest time a worker may take to load its target before the first input. */
const STARTUP_MS = 120_000;

/** What one target's run found. */
export interface FuzzReport {
  target: string;
  runs: number;
  typedErrors: number;
  accepted: number;
  findings: number;
  slowestMs: number;
  /** One line per finding: what happened and where the input was saved. */
  details: string[];
}

/** A small, fast, seedable generator (mulberry32): runs are reproducible from `--seed`. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BOUNDARY_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

/** Values a length or count field is most likely mishandled at, for a field of `bytes` bytes. */
function boundaryValues(bytes: 1 | 2 | 4, inputLength: number): number[] {
  const max = bytes === 4 ? 0xffffffff : bytes === 2 ? 0xffff : 0xff;
  const half = Math.floor(max / 2);
  return [0, 1, 2, 3, 4, 7, 8, half, half + 1, max - 1, max, inputLength - 1, inputLength, inputLength + 1, 64 * 1024]
    .filter((v) => v >= 0 && v <= max)
    .map((v) => v >>> 0);
}

function writeUint(out: Uint8Array, at: number, bytes: 1 | 2 | 4, value: number, littleEndian: boolean): void {
  for (let i = 0; i < bytes; i++) {
    const shift = 8 * (littleEndian ? i : bytes - 1 - i);
    out[at + i] = Math.floor(value / 2 ** shift) & 0xff;
  }
}

/**
 * Builds one input from the seeds: a seed (or random bytes) with 1..4 stacked mutations, at most `maxBytes` long.
 * Exported for the tests of the runner itself.
 */
export function mutate(seeds: readonly Uint8Array[], random: () => number, maxBytes: number): Uint8Array {
  const pick = (n: number): number => Math.floor(random() * n);
  if (seeds.length === 0 || random() < 0.05) {
    const out = new Uint8Array(pick(Math.min(maxBytes, 1024) + 1));
    for (let i = 0; i < out.length; i++) out[i] = pick(256);
    return out;
  }
  let data = seeds[pick(seeds.length)]!.slice(0, maxBytes);
  const steps = 1 + pick(4);
  for (let s = 0; s < steps; s++) {
    const n = data.byteLength;
    switch (pick(9)) {
      case 0: {
        // bit flips
        if (n === 0) break;
        const flips = 1 + pick(8);
        for (let i = 0; i < flips; i++) data[pick(n)]! ^= 1 << pick(8);
        break;
      }
      case 1: {
        // a boundary byte
        if (n === 0) break;
        data[pick(n)] = BOUNDARY_BYTES[pick(BOUNDARY_BYTES.length)]!;
        break;
      }
      case 2: {
        // a length or count field rewritten with a boundary value, big- or little-endian
        const width = ([1, 2, 4] as const)[pick(3)]!;
        if (n < width) break;
        const values = boundaryValues(width, n);
        writeUint(data, pick(n - width + 1), width, values[pick(values.length)]!, random() < 0.5);
        break;
      }
      case 3: {
        // truncation
        data = data.slice(0, pick(n + 1));
        break;
      }
      case 4: {
        // splice: the head of this input and the tail of another seed
        const other = seeds[pick(seeds.length)]!;
        const head = data.subarray(0, pick(n + 1));
        const tail = other.subarray(pick(other.byteLength + 1));
        const out = new Uint8Array(Math.min(maxBytes, head.byteLength + tail.byteLength));
        out.set(head.subarray(0, out.byteLength));
        if (out.byteLength > head.byteLength)
          out.set(tail.subarray(0, out.byteLength - head.byteLength), head.byteLength);
        data = out;
        break;
      }
      case 5: {
        // repetition of a slice (a stream of many messages, a repeated tag, ...)
        if (n === 0) break;
        const from = pick(n);
        const len = 1 + pick(Math.min(n - from, 256));
        const times = 1 + pick(64);
        const total = Math.min(maxBytes, n + len * times);
        const out = new Uint8Array(total);
        out.set(data.subarray(0, Math.min(from + len, total)));
        let at = from + len;
        for (let t = 0; t < times && at < total; t++) {
          const k = Math.min(len, total - at);
          out.set(data.subarray(from, from + k), at);
          at += k;
        }
        if (at < total) out.set(data.subarray(from + len, from + len + (total - at)), at);
        data = out;
        break;
      }
      case 6: {
        // random bytes inserted
        const k = 1 + pick(16);
        const at = pick(n + 1);
        const total = Math.min(maxBytes, n + k);
        const out = new Uint8Array(total);
        out.set(data.subarray(0, Math.min(at, total)));
        for (let i = at; i < Math.min(at + k, total); i++) out[i] = pick(256);
        if (at + k < total) out.set(data.subarray(at, at + (total - at - k)), at + k);
        data = out;
        break;
      }
      case 7: {
        // bytes deleted
        if (n === 0) break;
        const at = pick(n);
        const k = 1 + pick(Math.min(16, n - at));
        const out = new Uint8Array(n - k);
        out.set(data.subarray(0, at));
        out.set(data.subarray(at + k), at);
        data = out;
        break;
      }
      default: {
        // a run of random bytes overwritten
        if (n === 0) break;
        const at = pick(n);
        const k = 1 + pick(Math.min(32, n - at));
        for (let i = at; i < at + k; i++) data[i] = pick(256);
      }
    }
  }
  return data;
}

/** 0..3 ascending cut points strictly inside the input (a streaming decoder gets the input in those pieces). */
export function cutPoints(length: number, random: () => number): number[] {
  if (length < 2) return [];
  const count = Math.floor(random() * 4);
  const cuts = new Set<number>();
  for (let i = 0; i < count; i++) cuts.add(1 + Math.floor(random() * (length - 1)));
  return [...cuts].sort((a, b) => a - b);
}

/** The directory a target's findings are saved in. */
export function regressionDir(packageDir: string, target: FuzzTarget): string {
  return join(packageDir, 'fuzz', 'regressions', target.name.replace(/[^A-Za-z0-9._-]+/g, '-'));
}

/** Saves a finding's input (and its cut points); returns the file name. */
export function saveFinding(
  packageDir: string,
  target: FuzzTarget,
  input: Uint8Array,
  cuts: readonly number[],
): string {
  const dir = regressionDir(packageDir, target);
  mkdirSync(dir, { recursive: true });
  const sha = createHash('sha1').update(input).digest('hex');
  const file = join(dir, `${sha}.bin`);
  writeFileSync(file, input);
  if (cuts.length > 0) writeFileSync(join(dir, `${sha}.cuts.json`), `${JSON.stringify(cuts)}\n`);
  return file;
}

/** The saved findings of a target: input and cut points. */
export function savedFindings(
  packageDir: string,
  target: FuzzTarget,
): { file: string; input: Uint8Array; cuts: number[] }[] {
  const dir = regressionDir(packageDir, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => {
      const cutsFile = join(dir, f.replace(/\.bin$/, '.cuts.json'));
      const cuts = existsSync(cutsFile) ? (JSON.parse(readFileSync(cutsFile, 'utf8')) as number[]) : [];
      return { file: join(dir, f), input: new Uint8Array(readFileSync(join(dir, f))), cuts };
    });
}

/** The outcome of one call. */
export interface CallOutcome {
  kind: 'accepted' | 'typed-error' | 'finding';
  ms: number;
  /** For a finding: what was wrong. */
  why?: string;
}

function memoryInUse(): number {
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}

function describeError(e: unknown): string {
  if (e instanceof Error)
    return `${e.name}: ${e.message.slice(0, 300)}${e.stack ? ` @ ${e.stack.split('\n')[1]?.trim() ?? ''}` : ''}`;
  return `non-Error thrown: ${String(e).slice(0, 200)}`;
}

/** Runs one input through a target and judges it (exception type, allocation; the caller judges time). */
export async function runOne(target: FuzzTarget, input: Uint8Array, cuts: readonly number[]): Promise<CallOutcome> {
  const maxAlloc = target.maxAllocationBytes ?? DEFAULT_MAX_ALLOCATION;
  const before = memoryInUse();
  const t0 = performance.now();
  let kind: CallOutcome['kind'] = 'accepted';
  let why: string | undefined;
  try {
    const r = target.run(input, cuts);
    if (r !== undefined) await r;
  } catch (e) {
    if (target.isExpectedError(e)) kind = 'typed-error';
    else {
      kind = 'finding';
      why = `unexpected exception ${describeError(e)}`;
    }
  }
  const ms = performance.now() - t0;
  const grown = memoryInUse() - before;
  if (kind !== 'finding' && grown > maxAlloc) {
    kind = 'finding';
    why = `memory grew by ${grown} bytes in one call (limit ${maxAlloc})`;
  }
  return why === undefined ? { kind, ms } : { kind, ms, why };
}

/** A call measured slow: slow twice more on its own before it counts (a busy machine is not a slow decoder). */
async function confirmSlow(target: FuzzTarget, input: Uint8Array, cuts: readonly number[]): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 2; i++) best = Math.min(best, (await runOne(target, input, cuts)).ms);
  return best;
}

/** Progress hook: the worker publishes the input in flight so the watchdog can save it when the call hangs. */
export type InFlight = (input: Uint8Array, cuts: readonly number[], run: number) => void;

/**
 * Fuzzes one target for `runs` inputs (or until `timeBudgetMs` passes). Saves each finding's input under the
 * package's `fuzz/regressions/` when `save` is true.
 */
export async function fuzzTarget(
  packageDir: string,
  target: FuzzTarget,
  options: { runs: number; seed?: number; timeBudgetMs?: number; save?: boolean; inFlight?: InFlight },
): Promise<FuzzReport> {
  const random = rng(options.seed ?? 1);
  const seeds = target.seeds();
  const maxBytes = target.maxInputBytes ?? DEFAULT_MAX_INPUT;
  const report: FuzzReport = {
    target: target.name,
    runs: 0,
    typedErrors: 0,
    accepted: 0,
    findings: 0,
    slowestMs: 0,
    details: [],
  };
  const end = options.timeBudgetMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeBudgetMs;
  const seen = new Set<string>();
  for (let i = 0; i < options.runs; i++) {
    // the seeds themselves first: they must decode
    const input = i < seeds.length ? seeds[i]!.slice() : mutate(seeds, random, maxBytes);
    const cuts = cutPoints(input.byteLength, random);
    options.inFlight?.(input, cuts, i);
    const out = await runOne(target, input, cuts);
    report.runs++;
    let why = out.why;
    let ms = out.ms;
    if (why === undefined && ms > SLOW_CALL_MS) {
      ms = await confirmSlow(target, input, cuts);
      if (ms > SLOW_CALL_MS) why = `call took ${ms.toFixed(0)} ms (limit ${SLOW_CALL_MS})`;
    }
    report.slowestMs = Math.max(report.slowestMs, ms);
    if (why !== undefined) {
      report.findings++;
      // one saved input per kind of failure and place, not a thousand copies of one bug
      const key = why.replace(/\d+/g, 'N').slice(0, 160);
      if (!seen.has(key)) {
        seen.add(key);
        const file = options.save === false ? '(not saved)' : saveFinding(packageDir, target, input, cuts);
        report.details.push(`${why} -> ${file.startsWith(ROOT) ? file.slice(ROOT.length) : file}`);
      }
    } else if (out.kind === 'typed-error') report.typedErrors++;
    else report.accepted++;
    if ((i & 63) === 63 && Date.now() > end) break;
  }
  return report;
}

/** A package directory with its targets. */
export interface TargetPackage {
  name: string;
  dir: string;
  targets: FuzzTarget[];
}

/** Every `packages/<pkg>/fuzz/targets.ts` in the repository. */
export async function discoverTargets(): Promise<TargetPackage[]> {
  const out: TargetPackage[] = [];
  const packagesDir = join(ROOT, 'packages');
  for (const name of readdirSync(packagesDir).sort()) {
    const file = join(packagesDir, name, 'fuzz', 'targets.ts');
    if (!existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { default: FuzzTarget[] };
    out.push({ name, dir: join(packagesDir, name), targets: mod.default });
  }
  return out;
}

/** Prints the table of a run. */
export function formatTable(reports: readonly FuzzReport[]): string {
  const head = ['target', 'runs', 'typed errors', 'accepted', 'findings', 'slowest call'];
  const rows = reports.map((r) => [
    r.target,
    String(r.runs),
    String(r.typedErrors),
    String(r.accepted),
    String(r.findings),
    `${r.slowestMs.toFixed(1)} ms`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  for (const r of reports) for (const d of r.details) lines.push(`  ${r.target}: ${d}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The vitest side, for `packages/<pkg>/test/fuzz.test.ts`: replays every saved finding of every target (they must
 * now pass) and runs a short budget of fresh inputs per target. `describe`/`it`/`expect` come from the caller so this
 * file does not import vitest (it also runs under plain Node as `pnpm fuzz`).
 */
export function fuzzTests(
  packageDir: URL,
  targets: readonly FuzzTarget[],
  t: {
    describe: (name: string, body: () => void) => void;
    it: (name: string, body: () => Promise<void>, timeoutMs?: number) => void;
    expect: (value: unknown, message?: string) => { toEqual(v: unknown): void };
  },
  options: { runs?: number; timeBudgetMs?: number; seed?: number } = {},
): void {
  const dir = fileURLToPath(packageDir);
  const runs = Number(process.env.CAM_FUZZ_RUNS ?? options.runs ?? 2000);
  t.describe('fuzz', () => {
    for (const target of targets) {
      t.it(`${target.name}: saved findings replay cleanly`, async () => {
        const failures: string[] = [];
        for (const f of savedFindings(dir, target)) {
          let out = await runOne(target, f.input, f.cuts);
          if (out.why === undefined && out.ms > SLOW_CALL_MS) {
            const ms = await confirmSlow(target, f.input, f.cuts);
            if (ms > SLOW_CALL_MS) out = { ...out, why: `call took ${ms.toFixed(0)} ms` };
          }
          if (out.why !== undefined) failures.push(`${f.file}: ${out.why}`);
        }
        t.expect(failures).toEqual([]);
      });
      t.it(
        `${target.name}: ${runs} random and mutated inputs give only typed errors`,
        async () => {
          // a fresh seed per day keeps CI exploring; the seed is printed with any finding
          const seed = options.seed ?? Number(process.env.CAM_FUZZ_SEED ?? Math.floor(Date.now() / 86_400_000));
          const report = await fuzzTarget(dir, target, {
            runs,
            seed,
            timeBudgetMs: options.timeBudgetMs ?? 4000,
            save: process.env.CAM_FUZZ_SAVE === '1',
          });
          t.expect(report.details.map((d) => `seed ${seed}: ${d}`)).toEqual([]);
        },
        60_000,
      );
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// `pnpm fuzz`: each target in a worker under a watchdog.

interface WorkerJob {
  packageDir: string;
  packageName: string;
  target: string;
  runs: number;
  seed: number;
  progress: SharedArrayBuffer;
  current: SharedArrayBuffer;
}

/** Shared progress layout: [0] run counter, [1] input length, [2..5] cut points (-1 none). */
const PROGRESS_SLOTS = 6;

async function workerMain(job: WorkerJob): Promise<void> {
  const packages = await discoverTargets();
  const target = packages.find((p) => p.name === job.packageName)?.targets.find((t) => t.name === job.target);
  if (!target) throw new Error(`target ${job.target} not found`);
  const progress = new Int32Array(job.progress);
  const current = new Uint8Array(job.current);
  const report = await fuzzTarget(job.packageDir, target, {
    runs: job.runs,
    seed: job.seed,
    inFlight: (input, cuts, run) => {
      const n = Math.min(input.byteLength, current.byteLength);
      current.set(input.subarray(0, n));
      progress[1] = n;
      for (let i = 0; i < 4; i++) progress[2 + i] = cuts[i] ?? -1;
      Atomics.store(progress, 0, run + 1);
    },
  });
  parentPort!.postMessage(report);
}

function runInWorker(pkg: TargetPackage, target: FuzzTarget, runs: number, seed: number): Promise<FuzzReport> {
  const progress = new SharedArrayBuffer(PROGRESS_SLOTS * 4);
  const current = new SharedArrayBuffer(target.maxInputBytes ?? DEFAULT_MAX_INPUT);
  const job: WorkerJob = {
    packageDir: pkg.dir,
    packageName: pkg.name,
    target: target.name,
    runs,
    seed,
    progress,
    current,
  };
  // The worker runs this TypeScript file from source (tsx registered inside the worker: a loader given through
  // execArgv does not reach a worker's entry module on Node 20), sibling packages through `@cam/source`.
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const entry = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  const worker = new Worker(entry, {
    eval: true,
    workerData: job,
    execArgv: ['--conditions=@cam/source'],
    // a runaway allocation ends the worker (a finding) instead of the machine
    resourceLimits: { maxOldGenerationSizeMb: 1024 },
  });
  const view = new Int32Array(progress);
  const inFlight = (): { input: Uint8Array; cuts: number[] } => {
    const n = view[1]!;
    const cuts: number[] = [];
    for (let i = 0; i < 4; i++) if (view[2 + i]! >= 0) cuts.push(view[2 + i]!);
    return { input: new Uint8Array(current).slice(0, n), cuts };
  };
  const failed = (why: string): FuzzReport => {
    const runs = Atomics.load(view, 0);
    // a worker that never ran an input failed to start: that is a broken setup, not a finding
    if (runs === 0) throw new Error(`${target.name}: the fuzz worker did not start: ${why}`);
    const { input, cuts } = inFlight();
    const file = saveFinding(pkg.dir, target, input, cuts);
    return {
      target: target.name,
      runs,
      typedErrors: 0,
      accepted: 0,
      findings: 1,
      slowestMs: 0,
      details: [`${why} -> ${file.slice(ROOT.length)}`],
    };
  };
  return new Promise((resolve, reject) => {
    let last = -1;
    let lastChange = Date.now();
    let done = false;
    const finish = (r: FuzzReport | (() => FuzzReport)): void => {
      if (done) return;
      done = true;
      clearInterval(watchdog);
      try {
        resolve(typeof r === 'function' ? r() : r);
      } catch (e) {
        reject(e);
      }
    };
    const watchdog = setInterval(() => {
      const now = Atomics.load(view, 0);
      if (now !== last) {
        last = now;
        lastChange = Date.now();
        return;
      }
      // loading a package from source on a busy machine takes a while: the watchdog starts with the first input
      const limit = now === 0 ? STARTUP_MS : HANG_MS;
      if (Date.now() - lastChange > limit) {
        finish(() => failed(`hang: no progress for ${limit} ms`));
        void worker.terminate();
      }
    }, 500);
    worker.on('message', (r: FuzzReport) => finish(r));
    worker.on('error', (e) => finish(() => failed(`worker died: ${describeError(e)}`)));
    worker.on('exit', (code) => {
      if (!done) finish(() => failed(`worker exited with code ${code}`));
    });
  });
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const runs = Number(argValue(args, '--runs') ?? 1_000_000);
  const filter = argValue(args, '--target');
  const seed = Number(argValue(args, '--seed') ?? Date.now() % 0x7fffffff);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${runs} is not a positive integer`);
  const packages = await discoverTargets();
  // a filter that names a target exactly selects that target alone (`gvcp decodeAck`, not also `decodeAckHeader`)
  const exact = packages.some((p) => p.targets.some((t) => t.name === filter));
  const reports: FuzzReport[] = [];
  process.stdout.write(`fuzz: ${runs} inputs per target, seed ${seed}\n`);
  for (const pkg of packages) {
    for (const target of pkg.targets) {
      if (
        filter !== undefined &&
        (exact ? target.name !== filter : !target.name.includes(filter) && pkg.name !== filter)
      )
        continue;
      const t0 = Date.now();
      const r = await runInWorker(pkg, target, runs, seed);
      reports.push(r);
      process.stdout.write(
        `  ${target.name}: ${r.runs} runs, ${r.findings} findings (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
      );
    }
  }
  if (reports.length === 0) throw new Error(`no fuzz target matches ${filter ?? '(any)'}`);
  process.stdout.write(`\n${formatTable(reports)}`);
  const findings = reports.reduce((n, r) => n + r.findings, 0);
  if (findings > 0) {
    process.stdout.write(`\n${findings} finding(s); inputs saved under packages/*/fuzz/regressions/\n`);
    process.exitCode = 1;
  }
}

if (!isMainThread && (workerData as WorkerJob | undefined)?.target !== undefined) {
  workerMain(workerData as WorkerJob).catch((e: unknown) => {
    throw e;
  });
} else if (isMainThread && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  });
}
