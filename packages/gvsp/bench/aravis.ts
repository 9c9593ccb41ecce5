/**
 * Side by side: the same stream (our simulated camera, 1024 x 1000 Mono8, packet size 1500, on 127.0.0.1:3956)
 * received by python Aravis and by ours, each in its own process, at rising frame rates.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GvcpDevice } from '@cam/gvcp';
import { gvsp } from './lib.js';

const { attachGvspStreaming } = gvsp;

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_ARAVIS_SECONDS ?? 2.5);
const py = fileURLToPath(new URL('./aravis_stream.py', import.meta.url));
const ours = fileURLToPath(new URL('./ours-stream-child.ts', import.meta.url));

interface Run {
  completed: number;
  failed: number;
  bytes: number;
  cpuSeconds: number;
}

export async function aravisSideBySide(rates = [25, 50, 80]): Promise<void> {
  let device: GvcpDevice | undefined;
  for (let i = 0; i < 50 && !device; i++) {
    try {
      device = await GvcpDevice.start({
        address: '127.0.0.1',
        port: 3956,
        width: 1024,
        height: 1000,
        sensorWidth: 1024,
        sensorHeight: 1000,
        pixelFormat: 'Mono8',
      });
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  if (!device) {
    process.stdout.write('Aravis side by side: 127.0.0.1:3956 stayed busy, skipped\n');
    return;
  }
  process.stdout.write(
    `\n## Same stream, python Aravis vs ours (1024x1000 Mono8, 1500 B packets, ${SECONDS}s per run)\n`,
  );
  for (const fps of rates) {
    const streaming = await attachGvspStreaming(device, { bindAddress: '127.0.0.1', forceFps: fps });
    const results: Record<string, Run> = {};
    for (const who of ['aravis', 'ours']) {
      const r =
        who === 'aravis'
          ? await run('/usr/bin/python3', [py, '127.0.0.1', String(SECONDS)], { timeout: 60_000 })
          : await run(
              process.execPath,
              ['--conditions=@cam/source', '--import', 'tsx', ours, '127.0.0.1', String(SECONDS)],
              { timeout: 60_000 },
            );
      results[who] = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Run;
    }
    await streaming.close();
    const line = (who: string): string => {
      const x = results[who]!;
      const gb = x.bytes / 1e9;
      return `${who.padEnd(6)} ${x.completed} complete, ${x.failed} failed, ${(x.bytes / 1e6 / SECONDS).toFixed(0)} MB/s, ${gb > 0 ? (x.cpuSeconds / gb).toFixed(2) : '-'} cpu-s/GB`;
    };
    process.stdout.write(`${fps} fps target: ${line('aravis')} | ${line('ours')}\n`);
  }
  await device.close();
}

if (import.meta.url === `file://${process.argv[1]}`) await aravisSideBySide();
