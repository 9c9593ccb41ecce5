import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TimeoutError } from '@cam/net-utils';

/** One thing the demo checked. */
export interface DemoCheck {
  part: string;
  check: string;
  ok: boolean;
  detail: string;
  /** Files written for this check, relative to the output directory or absolute. */
  files?: string[];
}

/** What a demo part gets to work with. */
export interface DemoContext {
  /** Absolute output directory of this part (created). */
  readonly out: string;
  /** Aborted when the part runs out of time. */
  readonly signal: AbortSignal;
  /** A progress line for a person (stderr; silent with --json). */
  progress(message: string): void;
  /** Records a check; returns `ok` so a part can stop early. */
  check(check: string, ok: boolean, detail: string, files?: string[]): boolean;
  /** Registers cleanup that always runs when the part ends, last registered first. */
  defer(cleanup: () => unknown): void;
}

/** A self-contained demo of one protocol. */
export interface DemoPart {
  name: string;
  title: string;
  /** Time budget of the part. */
  timeoutMs: number;
  run(ctx: DemoContext): Promise<void>;
}

/** Result of {@link runDemo}. */
export interface DemoSummary {
  ok: boolean;
  out: string;
  durationMs: number;
  checks: DemoCheck[];
  /** Every file the demo wrote below `out` (absolute paths, sorted), whether or not a check names it. */
  written: string[];
}

/** Every file below `dir`, recursively (absolute paths, sorted); none when it does not exist. */
async function filesBelow(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  const files: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if ((await stat(path).catch(() => undefined))?.isFile()) files.push(path);
  }
  return files.sort();
}

/** Runs every part in order, each with its own deadline and cleanup; never throws. */
export async function runDemo(
  parts: DemoPart[],
  options: { out: string; quiet: boolean; write: (line: string) => void },
): Promise<DemoSummary> {
  const started = performance.now();
  const out = resolve(options.out);
  const checks: DemoCheck[] = [];
  for (const part of parts) {
    const dir = resolve(out, part.name);
    await mkdir(dir, { recursive: true });
    const controller = new AbortController();
    const cleanups: (() => unknown)[] = [];
    const partStart = performance.now();
    if (!options.quiet) options.write(`\n== ${part.title}`);
    const ctx: DemoContext = {
      out: dir,
      signal: controller.signal,
      progress: (m) => {
        if (!options.quiet) options.write(`   ${m}`);
      },
      check: (check, ok, detail, files) => {
        checks.push({ part: part.name, check, ok, detail, ...(files ? { files } : {}) });
        if (!options.quiet) options.write(`   ${ok ? 'ok  ' : 'FAIL'} ${check}: ${detail}`);
        return ok;
      },
      defer: (c) => cleanups.push(c),
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        part.run(ctx),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const e = new TimeoutError(`demo part "${part.title}"`, part.timeoutMs);
            controller.abort(e);
            reject(e);
          }, part.timeoutMs);
        }),
      ]);
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      ctx.check('completed', false, `${e.name}: ${e.message}`);
    } finally {
      clearTimeout(timer);
      if (!controller.signal.aborted) controller.abort();
      for (const c of cleanups.reverse()) {
        try {
          await Promise.race([c(), new Promise((r) => setTimeout(r, 3000).unref())]);
        } catch {
          /* cleanup failures must not hide results */
        }
      }
    }
    if (!options.quiet) options.write(`   (${Math.round(performance.now() - partStart)} ms)`);
  }
  return {
    ok: checks.length > 0 && checks.every((c) => c.ok),
    out,
    durationMs: Math.round(performance.now() - started),
    checks,
    written: await filesBelow(out),
  };
}

/** The summary as a fixed-width table for a terminal. */
export function formatSummary(summary: DemoSummary): string {
  const rows = summary.checks.map((c) => [c.ok ? 'ok' : 'FAIL', c.part, c.check, c.detail]);
  const header = ['', 'part', 'check', 'detail'];
  const widths = header.map((h, i) =>
    Math.min(i === 3 ? 70 : 40, Math.max(h.length, ...rows.map((r) => r[i]!.length))),
  );
  const line = (cells: string[]): string =>
    cells.map((c, i) => (c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : c.padEnd(widths[i]!))).join('  ');
  const files = summary.written;
  const failed = summary.checks.filter((c) => !c.ok).length;
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `${summary.checks.length - failed} passed, ${failed} failed in ${(summary.durationMs / 1000).toFixed(1)} s`,
    `output: ${summary.out}${files.length ? ` (${files.length} files)` : ''}`,
  ].join('\n');
}
