import { readdirSync } from 'node:fs';
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
