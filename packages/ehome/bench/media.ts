// Media ingest: 8 simultaneous preview streams pushed by another process over loopback, received by MediaSink
// (framing detection, RTP, MPEG-PS demux into access units), against plain sockets receiving the same bytes in the
// same run. Rounds are pairs (raw and demux back to back, in alternating order); the figure is the median of the
// per-pair ratios. Bounded: each transfer has a 60 s deadline, and no new pair starts after 80 s.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
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

/**
 * The plain TCP pipe: 8 sockets that only count bytes. `reuseReadBuffer`: each reads into one reused 64 KiB buffer
 * (Node's `onread`, the way MediaSink reads), instead of Node's default of a new Buffer per read.
 */
async function rawRound(reuseReadBuffer = false): Promise<Measure> {
  const servers: Server[] = [];
  const done: Promise<number>[] = [];
  for (let i = 0; i < STREAMS; i++) {
    const server = createServer({ pauseOnConnect: reuseReadBuffer });
    servers.push(server);
    done.push(
      new Promise((resolve) => {
        server.once('connection', (accepted) => {
          let n = 0;
          let s = accepted;
          if (reuseReadBuffer) {
            // Same re-wrap as MediaSink: the accepted (paused) socket's handle moves to a socket reading with onread.
            const inner = accepted as unknown as { _handle: object | null };
            s = new Socket({
              handle: inner._handle,
              onread: {
                buffer: new Uint8Array(64 * 1024),
                callback: (k: number) => {
                  n += k;
                },
              },
            } as ConstructorParameters<typeof Socket>[0]);
            inner._handle = null;
            accepted.destroy();
            s.resume();
          } else {
            s.on('data', (d: Buffer) => {
              n += d.length;
            });
          }
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
const rows: { raw: Measure; reuse: Measure; demux: Measure }[] = [];
const load0 = loadavg()[0]!;
const started = performance.now();
try {
  // One warm-up round of each side (JIT, socket buffers), not counted.
  await rawRound();
  await rawRound(true);
  await sinkRound();
  for (let r = 0; r < ROUNDS && performance.now() - started < BUDGET_MS; r++) {
    // Alternate the order, so a drift in machine load does not favour one side.
    if (r % 2 === 0) {
      const raw = await rawRound();
      const reuse = await rawRound(true);
      rows.push({ raw, reuse, demux: await sinkRound() });
    } else {
      const demux = await sinkRound();
      const reuse = await rawRound(true);
      rows.push({ raw: await rawRound(), reuse, demux });
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
const reuse = rows.map((r) => rate(r.reuse));
const demux = rows.map((r) => rate(r.demux));
const side = (name: string, rates: number[], m: (r: (typeof rows)[number]) => Measure): string =>
  `  ${name}: ${median(rates).toFixed(0)} MB/s  (rounds ${list(rates)}), receiver CPU ${median(rows.map((r) => m(r).cpu / GB)).toFixed(2)} s/GB (rounds ${list(
    rows.map((r) => m(r).cpu / GB),
    2,
  )}), sender ${median(rows.map((r) => m(r).senderCpu / GB)).toFixed(2)} s/GB`;
console.log(
  `media ingest: ${STREAMS} streams x ${(stream.length / MB).toFixed(1)} MB (${FRAMES} access units of 640x360 H.264 each), ${cpus().length} cores, Node ${process.version}, load ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}, ${rows.length} rounds of 3 after 1 warm-up round`,
);
console.log(side('plain TCP pipe (a Buffer per read)   ', raw, (r) => r.raw));
console.log(side('plain TCP pipe (reused read buffer)  ', reuse, (r) => r.reuse));
console.log(side('MediaSink demux (reused read buffer) ', demux, (r) => r.demux));
// On a shared 2-core machine the wall-clock rounds swing with other work; CPU per GB does much less. The CPU-bound
// ratio is the rate the whole pipe (receiver + sender) would reach, demux against raw, if CPU were the only limit.
const cpuRatio = (base: (r: (typeof rows)[number]) => Measure): number[] =>
  rows.map((r) => (100 * (base(r).cpu + base(r).senderCpu)) / (r.demux.cpu + r.demux.senderCpu));
for (const [name, rates, base] of [
  ['plain TCP pipe, a Buffer per read (the goal)', raw, (r: (typeof rows)[number]) => r.raw],
  ['plain TCP pipe, reused read buffer (like for like)', reuse, (r: (typeof rows)[number]) => r.reuse],
] as const) {
  const ratios = rows.map((r, i) => (100 * rate(r.demux)) / rates[i]!);
  const cpu = cpuRatio(base);
  console.log(
    `  demux / ${name}: median ${median(ratios).toFixed(0)}% of the rounds (${list(ratios)}; min ${Math.min(...ratios).toFixed(0)}%, max ${Math.max(...ratios).toFixed(0)}%), ratio of medians ${((100 * median(demux)) / median(rates)).toFixed(0)}%; CPU-bound ${median(cpu).toFixed(0)}% (${Math.min(...cpu).toFixed(0)}-${Math.max(...cpu).toFixed(0)}%)`,
  );
}
console.log('  goal: demux >= 70% of the plain TCP pipe');
