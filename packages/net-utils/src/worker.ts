import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The key under which a development loader (the repository's test-support/source-worker.ts, loaded by the test
 * setup) puts a starter of workers from TypeScript sources; never set by a package itself, so no shipped code
 * resolves a TypeScript loader.
 * @internal
 */
export const SOURCE_WORKER_STARTER = Symbol.for('@cam/gvsp.sourceWorkerStarter');
type SourceWorkerStarter = (entry: URL, options: { workerData: unknown }) => Worker;

/**
 * Starts a package's worker thread: `built` (its own tsup entry in `dist/`, beside the module that calls this)
 * when it exists, started without the parent's loader flags (a development `--conditions=@cam/source` would send it
 * to sources it cannot load); else `source` (the `.ts` entry) through the development loader's starter. `undefined`
 * when neither can run: the caller throws its own error, naming the build command.
 * @internal
 */
export function startPackageWorker(built: URL, source: URL, workerData: unknown): Worker | undefined {
  if (existsSync(fileURLToPath(built))) return new Worker(built, { workerData, execArgv: [] });
  const fromSource = (globalThis as { [SOURCE_WORKER_STARTER]?: SourceWorkerStarter })[SOURCE_WORKER_STARTER];
  return fromSource?.(source, { workerData });
}
