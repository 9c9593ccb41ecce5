/**
 * Receiver throughput on loopback: a paced sender in another process, three receivers in this one (a bare dgram
 * floor that only copies each payload to its offset, GvspReceiver on the main thread, GvspReceiver in a worker).
 * For each packet size, rates step up; a step is loss-free when every packet arrives and every frame completes.
 *
 *   pnpm --filter @cam/gvsp bench            (BENCH_SECONDS=1.5 per step by default)
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import dgram from 'node:dgram';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gvsp, usingBuild } from './lib.js';

const { GvspReceiver } = gvsp;

import { aravisSideBySide } from './aravis.js';
import { engineBench } from './engine.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
const PAYLOAD = 1024 * 1000; // ~1 MB frames (1024 x 1000 Mono8)
const child = fileURLToPath(new URL('./sender-child.ts', import.meta.url));

interface StepResult {
  receiver: string;
  packetSize: number;
  pps: number;
  achievedPps: number;
  sent: number;
  received: number;
  framesSent: number;
  framesComplete: number;
  lossFree: boolean;
  cpuSeconds: number;
  cpuPercent: number;
  mbPerSecond: number;
  cpuSecondsPerGB: number;
  /** Receiver CPU per received packet, microseconds. */
  cpuUsPerPacket: number;
}

function startSender(): Promise<ChildProcess> {
  const c = fork(child, [], {
    execArgv: ['--conditions=@cam/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  process.once('exit', () => c.kill());
  return new Promise((resolve) => c.once('message', () => resolve(c)));
}

function job(
  sender: ChildProcess,
  j: { port: number; packetSize: number; payloadSize: number; pps: number; seconds: number },
) {
  return new Promise<{ sent: number; frames: number; seconds: number }>((resolve) => {
    sender.once('message', (m) => resolve(m as { sent: number; frames: number; seconds: number }));
    sender.send(j);
  });
}

/** The floor: a dgram socket that copies each payload packet's data to its offset in a frame buffer. */
async function bareFloor(packetSize: number) {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 32 * 1024 * 1024 });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const buf = new Uint8Array(PAYLOAD + 16 * 1024);
  const ds = packetSize - 28 - 8;
  let packets = 0;
  let bytes = 0;
  let frames = 0;
  s.on('message', (m: Buffer) => {
    packets++;
    bytes += m.length;
    const fmt = m[4]!;
    if (fmt === 3) {
      const id = (m[5]! << 16) | (m[6]! << 8) | m[7]!;
      const off = (id - 1) * ds;
      if (off + m.length - 8 <= buf.length) buf.set(m.subarray(8), off);
    } else if (fmt === 2) frames++;
  });
  return {
    port: s.address().port,
    stats: () => ({ packets, bytes, frames }),
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}

async function ours(packetSize: number, worker: boolean) {
  const rx = await GvspReceiver.open({
    address: '127.0.0.1',
    payloadSize: PAYLOAD + 16 * 1024,
    packetSize,
    resend: false,
    worker,
    slots: 8,
  });
  let frames = 0;
  const ac = new AbortController();
  const loop = (async () => {
    for await (const f of rx.frames({ signal: ac.signal })) {
      if (f.status === 'complete') frames++;
      f.release();
    }
  })();
  return {
    port: rx.port,
    stats: () => {
      const s = rx.stats();
      return {
        packets: s.receivedPackets + s.duplicatedPackets,
        bytes: s.transferredBytes,
        frames: Math.max(frames, s.completedFrames),
      };
    },
    close: async () => {
      ac.abort();
      await rx.close();
      await loop;
    },
  };
}

async function step(sender: ChildProcess, name: string, packetSize: number, pps: number): Promise<StepResult> {
  const r = name === 'dgram floor' ? await bareFloor(packetSize) : await ours(packetSize, name.includes('worker'));
  await new Promise((res) => setTimeout(res, 100));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sent = await job(sender, { port: r.port, packetSize, payloadSize: PAYLOAD, pps, seconds: SECONDS });
  await new Promise((res) => setTimeout(res, 150)); // drain
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) / 1000;
  const st = r.stats();
  await r.close();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const gb = st.bytes / 1e9;
  return {
    receiver: name,
    packetSize,
    pps,
    achievedPps: Math.round(sent.sent / sent.seconds),
    sent: sent.sent,
    received: st.packets,
    framesSent: sent.frames,
    framesComplete: st.frames,
    lossFree: st.packets >= sent.sent && st.frames >= sent.frames,
    cpuSeconds,
    cpuPercent: (cpuSeconds / wall) * 100,
    mbPerSecond: st.bytes / 1e6 / sent.seconds,
    cpuSecondsPerGB: gb > 0 ? cpuSeconds / gb : 0,
    cpuUsPerPacket: st.packets > 0 ? (cpuSeconds / st.packets) * 1e6 : 0,
  };
}

function hasPythonAravis(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', "import gi; gi.require_version('Aravis', '0.8')"], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  for (const size of [1500, 9000]) {
    engineBench(size, 50);
    const e = engineBench(size);
    process.stdout.write(
      `engine alone (no socket), ${size} B: ${e.nsPerPacket.toFixed(0)} ns per packet, payload copy included\n`,
    );
  }
  const sender = await startSender();
  const plans: [number, number[]][] = [
    [1500, [40_000, 81_000, 120_000, 160_000]],
    [9000, [40_000, 70_000, 100_000]],
  ];
  const receivers = ['dgram floor', 'GvspReceiver', 'GvspReceiver (worker)'];
  const results: StepResult[] = [];
  process.stdout.write(
    `# GVSP receiver benchmark (${usingBuild ? 'dist build' : 'TypeScript sources'}): ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ${SECONDS}s steps\n`,
  );
  for (const [size, rates] of plans) {
    for (const rate of rates) {
      for (const name of receivers) {
        const res = await step(sender, name, size, rate);
        results.push(res);
        process.stdout.write(
          `${String(size).padStart(5)} B  ${String(rate).padStart(7)} pps (sent ${res.achievedPps})  ${name.padEnd(22)} ` +
            `${res.lossFree ? 'loss-free' : `LOST ${res.sent - res.received} pkts, ${res.framesSent - res.framesComplete} frames`}  ` +
            `cpu ${res.cpuPercent.toFixed(0)}%  ${res.mbPerSecond.toFixed(0)} MB/s  ${res.cpuSecondsPerGB.toFixed(2)} cpu-s/GB  ${res.cpuUsPerPacket.toFixed(1)} us/pkt\n`,
        );
      }
    }
  }
  sender.send({ exit: true });
  process.stdout.write(
    '\n## Highest loss-free achieved rate; CPU per GB and per packet over all steps (ratio ours / floor)\n',
  );
  for (const [size] of plans) {
    const of = (name: string) => results.filter((r) => r.packetSize === size && r.receiver === name);
    const best = (name: string) =>
      of(name)
        .filter((r) => r.lossFree)
        .sort((a, b) => b.achievedPps - a.achievedPps)[0];
    const mean = (rs: StepResult[], f: (r: StepResult) => number) =>
      rs.reduce((n, r) => n + f(r), 0) / Math.max(1, rs.length);
    const floorGB = mean(of('dgram floor'), (r) => r.cpuSecondsPerGB);
    const floorUs = mean(of('dgram floor'), (r) => r.cpuUsPerPacket);
    for (const name of receivers) {
      const b = best(name);
      const gb = mean(of(name), (r) => r.cpuSecondsPerGB);
      const us = mean(of(name), (r) => r.cpuUsPerPacket);
      process.stdout.write(
        `${size} B  ${name.padEnd(22)} loss-free up to ${b ? `${b.achievedPps} pps (${b.mbPerSecond.toFixed(0)} MB/s)` : 'none'}; ` +
          `${gb.toFixed(2)} cpu-s/GB, ${us.toFixed(2)} us/pkt` +
          (name !== 'dgram floor'
            ? `  (x${(gb / floorGB).toFixed(2)} of the floor, +${(us - floorUs).toFixed(2)} us/pkt)`
            : '') +
          '\n',
      );
    }
  }
  if (process.env.BENCH_JSON) process.stdout.write(`${JSON.stringify(results)}\n`);
  if (process.env.BENCH_ARAVIS !== '0' && hasPythonAravis()) await aravisSideBySide([60, 120, 160]);
  else process.stdout.write('\n(python Aravis side by side skipped: no python3 gi Aravis 0.8, or BENCH_ARAVIS=0)\n');
}

await main();
