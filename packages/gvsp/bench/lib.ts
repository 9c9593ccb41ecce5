/**
 * The package under benchmark: the build (dist/) when it exists, else the sources. Running the receiver from
 * TypeScript sources through tsx inflates the old-generation heap (transpiled modules, source maps) so that the
 * external-memory churn of 9000-byte datagrams triggers full GCs dozens of times a second: a cost of the dev
 * loader, not of the package. `pnpm --filter @cam/gvsp build` first; BENCH_SOURCE=1 forces the sources.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Gvsp = typeof import('../src/index.js');

const dist = new URL('../dist/index.js', import.meta.url);
export const usingBuild = !process.env.BENCH_SOURCE && existsSync(fileURLToPath(dist));
export const gvsp: Gvsp = usingBuild ? ((await import(dist.href)) as Gvsp) : await import('../src/index.js');
