/**
 * Opt-in receive-buffer tuning for the benchmark: with CAM_BENCH_TUNE=1 AND running as root, raises
 * net.core.rmem_max so that the receivers' 32 MiB SO_RCVBUF request is granted, prints what it changed, and puts
 * the old value back at exit (normal end, error, SIGINT, SIGTERM). Without both conditions it changes nothing.
 * Tests never call this.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const RMEM_MAX = '/proc/sys/net/core/rmem_max';

export function readRmemMax(): number {
  try {
    return Number(readFileSync(RMEM_MAX, 'utf8').trim());
  } catch {
    return 0;
  }
}

/** Returns a one-line description of the receive-buffer setting the run uses. */
export function maybeTuneReceiveBuffer(bytes: number): string {
  const current = readRmemMax();
  if (process.env.CAM_BENCH_TUNE !== '1') {
    return `default settings: net.core.rmem_max = ${current} (CAM_BENCH_TUNE=1 as root raises it for the run)`;
  }
  if (process.getuid?.() !== 0) {
    return `CAM_BENCH_TUNE=1 ignored (not root): net.core.rmem_max = ${current}`;
  }
  if (current >= bytes) return `tuned: net.core.rmem_max = ${current} already >= ${bytes}, unchanged`;
  writeFileSync(RMEM_MAX, String(bytes));
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    try {
      writeFileSync(RMEM_MAX, String(current));
      process.stderr.write(`net.core.rmem_max restored to ${current}\n`);
    } catch (e) {
      process.stderr.write(`could NOT restore net.core.rmem_max to ${current}: ${String(e)}\n`);
    }
  };
  process.once('exit', restore);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      restore();
      process.exit(130);
    });
  }
  process.once('uncaughtException', (e) => {
    restore();
    process.stderr.write(`${e.stack ?? String(e)}\n`);
    process.exit(1);
  });
  process.once('unhandledRejection', (e) => {
    restore();
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
  return `tuned (CAM_BENCH_TUNE=1, root): net.core.rmem_max ${current} -> ${readRmemMax()}, restored at exit`;
}
