// Media ingest: 8 simultaneous preview streams pushed by another process over loopback, received by MediaSink
// (framing detection, RTP, MPEG-PS demux into access units), against plain sockets receiving the same bytes in the
// same run. Rounds are pairs (raw and demux back to back, in alternating order); the figure is the median of the
// per-pair ratios. Bounded: each transfer has a 60 s deadline, and no new pair starts after 80 s.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortPool } from '@cam/net-utils';
import { H264TestPatternGenerator, MediaSink, MediaStreamEncoder } from '../src/index.js';

const STREAMS = 8;
const FRAMES = Number(process.env.EHOME_MEDIA_FRAMES ?? 300);
const ROUNDS = Number(process.env.EHOME_MEDIA_ROUNDS ?? 11);
const BUDGET_MS = 80_000;

// One stream: 1280x720 at 25 fps from the I_PCM generator is ~1.4 MB per picture; use 640x360 (~350 KB) so a
// round moves a few hundred MB like 8 busy HD streams would, in whole PS packs split into 1400-byte RTP packets.
const gen = new H264TestPatternGenerator({ width: 640, height: 360, fps: 25, gop: 25 });
const enc = new MediaStreamEncoder({ framing: 'rtp-interleaved', initialSequence: 0, ssrc: 1 });
const parts: Uint8Array[] = [];
for (let i = 0; i < FRAMES; i++) parts.push(enc.encode(gen.next()));
const stream = Buffer.concat(parts);
const dir = mkdtempSync(join(tmpdir(), 'ehome-media-bench-'));
const file = join(dir, 'stream.bin');
writeFileSync(file, stream);
const total = stream.length * STREAMS;

interface Measure {
  seconds: number;
  /** Receiving process, user + system. */
  cpu: number;
  /** Sending process, user + system. */
  senderCpu: number;
}

/**
 * Starts the sender, which connects to every port and waits; the timed window opens when it is connected
 * (its start-up is not counted, for either side) and closes when `received` resolves.
 */
function transfer(ports: number[], received: () => Promise<void>): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(new URL('./media-sender.ts', import.meta.url), [file, ...ports.map(String)], {
      execArgv: ['--conditions=@cam/source', '--import', 'tsx'],
    });
    const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let measured: Omit<Measure, 'senderCpu'> | undefined;
    let senderCpu: number | undefined;
    const settle = (): void => {
      if (measured && senderCpu !== undefined) resolve({ ...measured, senderCpu });
    };
    child.on('message', (m: 'ready' | { cpu: number }) => {
      if (m !== 'ready') {
        senderCpu = m.cpu;
        settle();
        return;
      }
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      child.send('go');
      received().then(() => {
        const seconds = (performance.now() - t0) / 1000;
        const c = process.cpuUsage(cpu0);
        measured = { seconds, cpu: (c.user + c.system) / 1e6 };
        settle();
      }, reject);
    });
    child.on('exit', (code) => {
      clearTimeout(deadline);
      if (code !== 0) reject(new Error(`sender exited ${code}`));
    });
  });
}

async function rawRound(): Promise<Measure> {
  const servers: Server[] = [];
  const done: Promise<number>[] = [];
  for (let i = 0; i < STREAMS; i++) {
    const server = createServer();
    servers.push(server);
    done.push(
      new Promise((resolve) => {
        server.once('connection', (s) => {
          let n = 0;
          s.on('data', (d: Buffer) => {
            n += d.length;
          });
          s.on('end', () => resolve(n));
        });
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  }
  let counts: number[] = [];
  const m = await transfer(
    servers.map((s) => (s.address() as { port: number }).port),
    async () => {
      counts = await Promise.all(done);
    },
  );
  for (const s of servers) s.close();
  if (counts.reduce((a, b) => a + b, 0) !== total) throw new Error('raw pipe lost bytes');
  return m;
}

async function sinkRound(): Promise<Measure> {
  const pool = new PortPool({ min: 46_000, max: 46_099, host: '127.0.0.1' });
  const sinks = await Promise.all(
    Array.from({ length: STREAMS }, () => MediaSink.open({ pool, expectedAddress: '127.0.0.1', highWaterMark: 256 })),
  );
  // Consumers start before the sender connects, like a preview session's reader.
  const counting = Promise.all(
    sinks.map(async (sink) => {
      let n = 0;
      for await (const _ of sink.accessUnits({ reuseBuffers: true })) n++;
      return n;
    }),
  );
  let counts: number[] = [];
  const m = await transfer(
    sinks.map((s) => s.port),
    async () => {
      counts = await counting;
    },
  );
  await pool.close();
  const accessUnits = counts.reduce((a, b) => a + b, 0);
  if (accessUnits !== FRAMES * STREAMS)
    throw new Error(`demuxed ${accessUnits} access units, expected ${FRAMES * STREAMS}`);
  return m;
}

const MB = 1e6;
const GB = total / 1e9;
const rows: { raw: Measure; demux: Measure }[] = [];
const load0 = loadavg()[0]!;
const started = performance.now();
try {
  // One warm-up pair (JIT, socket buffers), not counted.
  await rawRound();
  await sinkRound();
  for (let r = 0; r < ROUNDS && performance.now() - started < BUDGET_MS; r++) {
    // Alternate which side goes first, so a drift in machine load does not favour one side.
    if (r % 2 === 0) {
      const raw = await rawRound();
      rows.push({ raw, demux: await sinkRound() });
    } else {
      const demux = await sinkRound();
      rows.push({ raw: await rawRound(), demux });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (v: number[]): number => {
  const s = [...v].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const rate = (m: Measure): number => total / MB / m.seconds;
const list = (v: number[], digits = 0): string => v.map((x) => x.toFixed(digits)).join(', ');
const raw = rows.map((r) => rate(r.raw));
const demux = rows.map((r) => rate(r.demux));
const ratios = rows.map((r) => (100 * rate(r.demux)) / rate(r.raw));
console.log(
  `media ingest: ${STREAMS} streams x ${(stream.length / MB).toFixed(1)} MB (${FRAMES} access units of 640x360 H.264 each), ${cpus().length} cores, Node ${process.version}, load ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}, ${rows.length} pairs after 1 warm-up pair`,
);
console.log(
  `  plain TCP pipe   : ${median(raw).toFixed(0)} MB/s  (rounds ${list(raw)}), receiver CPU ${median(rows.map((r) => r.raw.cpu / GB)).toFixed(2)} s/GB (rounds ${list(
    rows.map((r) => r.raw.cpu / GB),
    2,
  )}), sender ${median(rows.map((r) => r.raw.senderCpu / GB)).toFixed(2)} s/GB`,
);
console.log(
  `  MediaSink demux  : ${median(demux).toFixed(0)} MB/s  (rounds ${list(demux)}), receiver CPU ${median(rows.map((r) => r.demux.cpu / GB)).toFixed(2)} s/GB (rounds ${list(
    rows.map((r) => r.demux.cpu / GB),
    2,
  )}), sender ${median(rows.map((r) => r.demux.senderCpu / GB)).toFixed(2)} s/GB`,
);
console.log(
  `  ratio demux / raw: median ${median(ratios).toFixed(0)}% of the pairs (pairs ${list(ratios)}; min ${Math.min(...ratios).toFixed(0)}%, max ${Math.max(...ratios).toFixed(0)}%), ratio of medians ${((100 * median(demux)) / median(raw)).toFixed(0)}%  (goal >= 70%)`,
);
// On a shared 2-core machine the wall-clock pairs swing with other work; CPU per GB does much less. This is the
// rate the whole pipe (receiver + sender) would reach, demux against raw, if CPU were the only limit.
const cpuRatios = rows.map((r) => (100 * (r.raw.cpu + r.raw.senderCpu)) / (r.demux.cpu + r.demux.senderCpu));
console.log(
  `  CPU-bound ratio  : median ${median(cpuRatios).toFixed(0)}% of the pairs (min ${Math.min(...cpuRatios).toFixed(0)}%, max ${Math.max(...cpuRatios).toFixed(0)}%): (receiver + sender CPU per GB, raw) / (same, demux)`,
);
