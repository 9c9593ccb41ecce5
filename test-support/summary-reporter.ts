import type { Reporter } from 'vitest/reporters';

type Task = { type: string; mode?: string; result?: { state?: string }; tasks?: Task[] };

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, after vitest's own summary, so that tools
 * reading only the last lines of a CI log see the counts.
 */
export default class SummaryReporter implements Reporter {
  onFinished(files: Task[] = []): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const walk = (t: Task): void => {
      if (t.type === 'test') {
        const s = t.result?.state;
        if (s === 'pass') counts.passed++;
        else if (s === 'fail') counts.failed++;
        else counts.skipped++;
      }
      for (const c of t.tasks ?? []) walk(c);
    };
    for (const f of files) walk(f);
    process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
