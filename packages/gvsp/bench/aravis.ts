/**
 * Side by side: the same stream (our simulated camera, GvcpDevice + attachGvspStreaming, 1024 x 1000 Mono8,
 * 1500-byte packets, on 127.0.0.1:3956, sending each frame back-to-back like a camera on a fast link) received
 * by python Aravis and by ours, each in its own process.
 *
 * Sequential, not concurrent: a GigE Vision stream channel has one destination (SCDA/SCP), so two receivers of
 * one stream at once would need two channels or multicast, and on 2 cores two receivers plus the sender would
 * compete for CPU so that whoever the scheduler favours wins. So at each frame rate the two take turns on the
 * same device, stream settings and sender (the order alternates per round so drift in machine load favours
 * neither), and each climbs the frame-rate ladder until two failed runs in a row. A run is loss-free when no
 * frame failed or was missed and the receiver completed about as many frames as the device sent meanwhile.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GvcpDevice } from '@cam/gvcp';
import { acquireExclusive, GVCP_PORT_LOCK } from '../../../test-support/port-lock.js';
import { gvsp, machineBusySeconds, median } from './lib.js';

const { attachGvspStreaming } = gvsp;

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_ARAVIS_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ARAVIS_ROUNDS ?? 2);
const py = fileURLToPath(new URL('./aravis_stream.py', import.meta.url));
const ours = fileURLToPath(new URL('./ours-stream-child.ts', import.meta.url));
const FRAME = 1024 * 1000;

interface Run {
  completed: number;
  failed: number;
  missed: number;
  underruns?: number;
  bytes: number;
  cpuSeconds: number;
  seconds: number;
  packetSocket?: boolean;
  worker?: boolean;
  engine?: string;
}

/** Our receivers in the comparison: BENCH_OURS (comma list of worker, main, native, ring), default all but main. */
const OURS = (process.env.BENCH_OURS ?? `worker,native${process.getuid?.() === 0 ? ',ring' : ''}`)
  .split(',')
  .filter((v) => ['worker', 'main', 'native', 'ring'].includes(v));
type Who = 'aravis' | 'aravis-socket' | `ours-${string}`;
/**
 * Aravis with its packet socket disabled (ARV_GV_STREAM_OPTION_PACKET_SOCKET_DISABLED): the like-for-like partner of
 * our recvmmsg engine, as `aravis` (packet socket, as root) is of our packet ring. Only as root (otherwise `aravis`
 * already uses its UDP socket); BENCH_ARAVIS_SOCKET=0 leaves it out.
 */
const ARAVIS: Who[] =
  process.getuid?.() === 0 && process.env.BENCH_ARAVIS_SOCKET !== '0' ? ['aravis', 'aravis-socket'] : ['aravis'];

interface Result extends Run {
  who: Who;
  fps: number;
  round: number;
  /** Frame rate the device actually sent during the run. */
  deviceFps: number;
  lossFree: boolean;
}

export async function aravisSideBySide(ladder = [60, 120, 160, 200, 240]): Promise<void> {
  const out = (s: string): boolean => process.stdout.write(s);
  // 127.0.0.1:3956 is shared with the interop tests (Aravis only talks to 3956): take the same cross-process lock
  let release: () => void;
  try {
    release = await acquireExclusive(GVCP_PORT_LOCK, { timeoutMs: 60_000 });
  } catch (e) {
    out(`Aravis side by side skipped: ${e instanceof Error ? e.message : String(e)}\n`);
    return;
  }
  try {
    await sideBySide(ladder, out);
  } finally {
    release();
  }
}

async function sideBySide(ladder: number[], out: (s: string) => boolean): Promise<void> {
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
    out('Aravis side by side: 127.0.0.1:3956 stayed busy, skipped\n');
    return;
  }
  out(
    `\n## Same stream, python Aravis vs ours (1024x1000 Mono8, 1500 B packets, ${SECONDS}s per run, ` +
      `${ROUNDS} rounds, sequential, order alternating)\n`,
  );
  // the device's own view of each acquisition: frames sent between AcquisitionStart and AcquisitionStop
  // (and the device's CPU and the machine's busy time over the same window)
  const empty = () => ({ f0: 0, t0: 0, frames: 0, seconds: 0, cpu0: process.cpuUsage(), cpu: 0, busy0: 0, busy: 0 });
  let acq = empty();
  let current: { framesSent: number } | undefined;
  device.on('acquisitionStart', () => {
    acq = { ...empty(), f0: current?.framesSent ?? 0, t0: performance.now(), busy0: machineBusySeconds() };
  });
  device.on('acquisitionStop', () => {
    acq.frames = (current?.framesSent ?? 0) - acq.f0;
    acq.seconds = (performance.now() - acq.t0) / 1000;
    const c = process.cpuUsage(acq.cpu0);
    acq.cpu = (c.user + c.system) / 1e6;
    acq.busy = machineBusySeconds() - acq.busy0;
  });
  const results: Result[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const everyone: Who[] = [...ARAVIS, ...OURS.map((v) => `ours-${v}` as const)];
    const order = round % 2 === 1 ? everyone : [...everyone].reverse();
    const failedRun: Record<string, number> = Object.fromEntries(everyone.map((w) => [w, 0]));
    for (const fps of ladder) {
      if (everyone.every((w) => failedRun[w]! >= 2)) break;
      const streaming = await attachGvspStreaming(device, { bindAddress: '127.0.0.1', forceFps: fps });
      current = streaming;
      for (const who of order) {
        if (failedRun[who]! >= 2) continue;
        acq = empty();
        const t0 = performance.now();
        let r: Run;
        try {
          const p =
            who === 'aravis' || who === 'aravis-socket'
              ? await run(
                  '/usr/bin/python3',
                  [py, '127.0.0.1', String(SECONDS), ...(who === 'aravis' ? [] : ['socket'])],
                  {
                    timeout: 60_000,
                  },
                )
              : await run(
                  process.execPath,
                  ['--conditions=@cam/source', '--import', 'tsx', ours, '127.0.0.1', String(SECONDS)],
                  { timeout: 60_000, env: { ...process.env, BENCH_OURS_ENGINE: who.slice('ours-'.length) } },
                );
          r = JSON.parse(p.stdout.trim().split('\n').pop() ?? '{}') as Run;
        } catch (e) {
          out(`${who} run failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
          r = { completed: 0, failed: 0, missed: 0, bytes: 0, cpuSeconds: 0, seconds: SECONDS };
        }
        const sentFrames = acq.frames;
        const wall = (performance.now() - t0) / 1000;
        const span = Math.max(acq.seconds, 0.001);
        // over the acquisition: the device's CPU, and other processes' (machine busy less device and receiver)
        const deviceCpu = acq.cpu / span;
        const others = Math.max(0, (acq.busy - acq.cpu - r.cpuSeconds) / span);
        const deviceFps = acq.seconds > 0 ? sentFrames / acq.seconds : 0;
        // each receiver counts frames for SECONDS inside its acquisition: it must have completed about what the
        // device sent in that time, with nothing failed or missed
        // loss: a frame delivered incomplete, or a block id never seen. (Completed counts are not compared with
        // what the device sent: a consumer that lags at the end of its counting window under contention would
        // read as loss although every frame arrives.) A run must have received something like the device's rate.
        const lossFree =
          r.failed === 0 && r.missed === 0 && r.completed > 0 && r.completed >= 0.8 * deviceFps * SECONDS - 2;
        const res: Result = { ...r, who, fps, round, deviceFps, lossFree };
        results.push(res);
        failedRun[who] = lossFree ? 0 : failedRun[who]! + 1;
        const gb = r.bytes / 1e9;
        out(
          `r${round} ${String(fps).padStart(3)} fps target: device sent ${sentFrames} frames ` +
            `(${deviceFps.toFixed(0)} fps over ${acq.seconds.toFixed(2)}s, run ${wall.toFixed(1)}s)  ${who.padEnd(12)} ` +
            `${r.completed} complete, ${r.failed} failed, ${r.missed} missed (underruns ${r.underruns ?? 0})  ` +
            `${lossFree ? 'loss-free' : 'LOSSY'}  ` +
            `${(r.bytes / 1e6 / SECONDS).toFixed(0)} MB/s  ` +
            `${gb > 0 ? (r.cpuSeconds / gb).toFixed(2) : '-'} cpu-s/GB` +
            (who.startsWith('aravis')
              ? ` (packet socket: ${r.packetSocket ? 'yes' : 'no'})`
              : ` (engine: ${r.engine})`) +
            `  device cpu ${(deviceCpu * 100).toFixed(0)}%, others ${others.toFixed(2)} cores` +
            '\n',
        );
      }
      await streaming.close();
    }
  }
  await device.close();
  out(`\n### Side by side summary (median over ${ROUNDS} rounds [min-max])\n`);
  const summary: Record<string, { best: number; cpu: number }> = {};
  for (const who of [...ARAVIS, ...OURS.map((v) => `ours-${v}` as const)] as Who[]) {
    const bests = Array.from({ length: ROUNDS }, (_, i) =>
      results
        .filter((r) => r.who === who && r.round === i + 1 && r.lossFree)
        .reduce((m, r) => Math.max(m, r.completed / SECONDS), 0),
    );
    const cpu = median(results.filter((r) => r.who === who && r.bytes > 0).map((r) => r.cpuSeconds / (r.bytes / 1e9)));
    summary[who] = { best: median(bests), cpu };
    out(
      `${who.padEnd(12)} loss-free max ${median(bests).toFixed(0)} fps = ${((median(bests) * FRAME) / 1e6).toFixed(0)} MB/s ` +
        `[${Math.min(...bests).toFixed(0)}-${Math.max(...bests).toFixed(0)}], ${cpu.toFixed(2)} cpu-s/GB (median of all runs)\n`,
    );
  }
  for (const v of OURS) {
    const o = summary[`ours-${v}`]!;
    // like with like: the packet ring against Aravis's packet socket, the UDP-socket engines against Aravis's socket
    const partner: Who = v !== 'ring' && summary['aravis-socket'] ? 'aravis-socket' : 'aravis';
    const a = summary[partner]!;
    out(
      `ratio ours-${v} / ${partner}: loss-free rate x${a.best > 0 ? (o.best / a.best).toFixed(2) : '-'}, ` +
        `CPU per GB x${a.cpu > 0 ? (o.cpu / a.cpu).toFixed(2) : '-'}\n`,
    );
  }
  const top = ladder[ladder.length - 1]!;
  const topRuns = results.filter((r) => r.fps === top);
  if (topRuns.length > 0) {
    out(
      `device at the top of the ladder (${top} fps target): sent ${topRuns.map((r) => r.deviceFps.toFixed(0)).join('/')} fps` +
        `${topRuns.some((r) => r.deviceFps < top * 0.95) ? ' - the sender is the limit there' : ''}\n`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await aravisSideBySide();
