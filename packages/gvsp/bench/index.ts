/**
 * GVSP benchmarks (see BENCHMARKS.md for the method). Parts, each bounded well under 2 minutes:
 *
 *   pnpm --filter @cam/gvsp bench                 engine, 1500, 9000, aravis
 *   pnpm --filter @cam/gvsp bench -- 9000         one part (engine | 1500 | 9000 | aravis)
 *
 * Environment: BENCH_ROUNDS (3), BENCH_SECONDS per step (1.0), BENCH_ARAVIS=0 skips python Aravis,
 * BENCH_SENDER=native|js (sender child: sendmmsg batches, default when the addon loads, or socket.send per packet),
 * BENCH_LADDER_9000=pps,pps,... (the 9000 B ladder), BENCH_RECEIVERS=floor,main,worker,native,ring,
 * CAM_BENCH_TUNE=1 (as root only) raises net.core.rmem_max to 32 MiB for the run and restores it.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { aravisSideBySide } from './aravis.js';
import { engineBench } from './engine.js';
import { usingBuild } from './lib.js';
import { throughput } from './throughput.js';
import { maybeTuneReceiveBuffer } from './tune.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.0);

function hasPythonAravis(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', "import gi; gi.require_version('Aravis', '0.8')"], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const parts = args.length > 0 ? args : ['engine', '1500', '9000', 'aravis'];
  const tune = maybeTuneReceiveBuffer(32 * 1024 * 1024);
  process.stdout.write(
    `# GVSP benchmarks (${usingBuild ? 'dist build' : 'TypeScript sources'}): ${cpus().length} CPUs ` +
      `(${cpus()[0]?.model ?? '?'}), Node ${process.version}, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} at start\n${tune}\n`,
  );
  for (const part of parts) {
    const t0 = Date.now();
    if (part === 'engine') {
      for (const size of [1500, 9000]) {
        engineBench(size, 50);
        const e = engineBench(size);
        process.stdout.write(
          `engine alone (no socket), ${size} B: ${e.nsPerPacket.toFixed(0)} ns per packet, payload copy included\n`,
        );
      }
    } else if (part === '1500') {
      await throughput(1500, [40_000, 60_000, 81_000, 100_000, 120_000, 140_000, 160_000], {
        rounds: ROUNDS,
        seconds: SECONDS,
        referencePps: 81_000,
      });
    } else if (part === '9000') {
      // up to 260k pps = 2.33 GB/s (the 2 GB/s is 223k packets/s of 8964 data bytes); BENCH_LADDER_9000
      // (comma list of packets/s) replaces the ladder
      const ladder = process.env.BENCH_LADDER_9000
        ? process.env.BENCH_LADDER_9000.split(',').map(Number)
        : [20_000, 40_000, 80_000, 120_000, 160_000, 200_000, 230_000, 260_000];
      await throughput(9000, ladder, {
        rounds: ROUNDS,
        seconds: SECONDS,
        referencePps: 40_000,
      });
    } else if (part === 'aravis') {
      if (process.env.BENCH_ARAVIS !== '0' && hasPythonAravis()) await aravisSideBySide();
      else
        process.stdout.write('\n(python Aravis side by side skipped: no python3 gi Aravis 0.8, or BENCH_ARAVIS=0)\n');
    } else {
      process.stderr.write(`unknown part ${part} (engine | 1500 | 9000 | aravis)\n`);
      process.exitCode = 2;
      continue;
    }
    process.stdout.write(`(${part}: ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  process.stdout.write(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at end\n`,
  );
}

await main();
