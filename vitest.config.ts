import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// One vitest project per package; tests import sibling packages from source through the
// `@cam/source` export condition, so unit tests need no build (the CLI tests use dist/).
const packages = readdirSync(new URL('./packages', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

export default defineConfig({
  resolve: { conditions: ['@cam/source'] },
  ssr: { resolve: { conditions: ['@cam/source'] } },
  test: {
    reporters: ['default', './test-support/summary-reporter.ts'],
    // packages running from source start their worker threads through this (no tsx in shipped code)
    setupFiles: [fileURLToPath(new URL('./test-support/source-worker.ts', import.meta.url))],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Vitest's default in a run is one worker fewer than the cores: on a 2-core machine (CI) one worker, so every file
    // waited for the one before. Most of the slow files wait (on child processes, sockets, timeouts) rather than
    // compute, so at least two files run at once: measured on 2 cores, 806 s -> 555 s for the whole suite.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: {
          name,
          root: `packages/${name}`,
          include: ['test/**/*.test.ts'],
        },
      })),
      // Repository-level checks: the packed tarballs install, the test summary counts everything, nothing outside
      // the repository is read.
      { extends: true as const, test: { name: 'repo', root: '.', include: ['test/**/*.test.ts'] } },
    ],
  },
});
