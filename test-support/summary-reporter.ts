import type { Reporter } from 'vitest/reporters';

type Task = {
  type: string;
  name?: string;
  filepath?: string;
  mode?: string;
  result?: { state?: string; errors?: unknown[] };
  tasks?: Task[];
};

/** Counts of one run, as the closing line prints them. */
export interface SummaryCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** Suites (files, describe blocks or hooks) that failed without any of their tests failing: each counts as failed. */
  brokenSuites: string[];
}

/**
 * Walks vitest's task tree. A test counts by its own state. A suite (a file or a describe block) that failed while
 * none of the tests under it did — a file that failed to load, a beforeAll that threw — counts as one failed test, so
 * a suite that never ran can't hide behind a green count. Unhandled errors count as failures too.
 */
export function countTasks(files: readonly Task[], unhandledErrors = 0): SummaryCounts {
  const counts: SummaryCounts = { passed: 0, failed: 0, skipped: 0, brokenSuites: [] };
  const walk = (t: Task): number => {
    if (t.type === 'test') {
      const s = t.result?.state;
      if (s === 'pass') counts.passed++;
      else if (s === 'fail') counts.failed++;
      else counts.skipped++;
      return s === 'fail' ? 1 : 0;
    }
    let failedBelow = 0;
    for (const c of t.tasks ?? []) failedBelow += walk(c);
    if (t.result?.state === 'fail' && failedBelow === 0) {
      counts.failed++;
      counts.brokenSuites.push(t.filepath ?? t.name ?? '(unnamed suite)');
      return 1;
    }
    return failedBelow;
  };
  for (const f of files) walk(f);
  counts.failed += unhandledErrors;
  return counts;
}

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, after vitest's own summary, so that tools
 * reading only the last lines of a CI log see the counts. Suites that failed to load or whose hooks failed are named
 * above it and counted as failed.
 */
export default class SummaryReporter implements Reporter {
  onFinished(files: Task[] = [], errors: readonly unknown[] = []): void {
    const counts = countTasks(files, errors.length);
    for (const s of counts.brokenSuites) process.stdout.write(`\nsuite failed without a failing test: ${s}`);
    if (errors.length > 0) process.stdout.write(`\nunhandled errors: ${errors.length}`);
    process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
