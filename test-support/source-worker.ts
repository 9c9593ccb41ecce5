/**
 * Lets packages start their worker threads from TypeScript sources during development and tests, so no shipped
 * code resolves the dev dependency tsx: a package's built worker (dist/) is used when it exists; when the
 * package runs from src/, it calls the starter this module puts on `globalThis`.
 *
 * Loaded by the vitest setup (vitest.config.ts `setupFiles`) and by processes started from source
 * (test-support/cli.ts passes `--import` of this file after tsx). Node 20 does not honour `--import` in a
 * worker's execArgv, so the worker's entry is a small bootstrap that registers tsx inside the worker first.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The key @cam/net-utils's `startPackageWorker` reads (`SOURCE_WORKER_STARTER` in packages/net-utils/src/worker.ts). */
const KEY = Symbol.for('@cam/gvsp.sourceWorkerStarter');

const tsxApi = pathToFileURL(
  createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs'),
).href;

/** Starts `entry` (a .ts file) in a worker with tsx registered and sibling packages resolved from source. */
export function startSourceWorker(entry: URL, options: { workerData: unknown }): Worker {
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true, workerData: options.workerData, execArgv: ['--conditions=@cam/source'] });
}

(globalThis as { [KEY]?: typeof startSourceWorker })[KEY] = startSourceWorker;
