// Media ingest: 8 simultaneous preview streams pushed by another process over loopback, received by MediaSink
// (framing detection, RTP, MPEG-PS demux into access units), against plain sockets receiving the same bytes in the
// same run. Bounded: each round has a 60 s deadline.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortPool } from '@cam/net-utils';
import { H264TestPatternGenerator, MediaSink, MediaStreamEncoder } from '../src/index.js';

const STREAMS = 8;
const FRAMES = Number(process.env.EHOME_MEDIA_FRAMES ?? 300);
const ROUNDS = 3;

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

function send(ports: number[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./media-sender.ts', import.meta.url), [file, ...ports.map(String)], {
      execArgv: ['--conditions=@cam/source', '--import', 'tsx'],
    });
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      code === 0 ? resolve() : reject(new Error(`sender exited ${code}`));
    });
  });
}

async function rawRound(): Promise<{ seconds: number; cpu: number }> {
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
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sent = send(servers.map((s) => (s.address() as { port: number }).port));
  const counts = await Promise.all(done);
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  await sent;
  for (const s of servers) s.close();
  if (counts.reduce((a, b) => a + b, 0) !== total) throw new Error('raw pipe lost bytes');
  return { seconds, cpu: (c.user + c.system) / 1e6 };
}

async function sinkRound(): Promise<{ seconds: number; cpu: number; accessUnits: number }> {
  const pool = new PortPool({ min: 46_000, max: 46_099, host: '127.0.0.1' });
  const sinks = await Promise.all(
    Array.from({ length: STREAMS }, () => MediaSink.open({ pool, expectedAddress: '127.0.0.1', highWaterMark: 256 })),
  );
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sent = send(sinks.map((s) => s.port));
  const counts = await Promise.all(
    sinks.map(async (sink) => {
      let n = 0;
      for await (const _ of sink.accessUnits({ reuseBuffers: true })) n++;
      return n;
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  await sent;
  await pool.close();
  const accessUnits = counts.reduce((a, b) => a + b, 0);
  if (accessUnits !== FRAMES * STREAMS)
    throw new Error(`demuxed ${accessUnits} access units, expected ${FRAMES * STREAMS}`);
  return { seconds, cpu: (c.user + c.system) / 1e6, accessUnits };
}

const MB = 1e6;
const raw: number[] = [];
const demux: number[] = [];
const rawCpu: number[] = [];
const demuxCpu: number[] = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    const a = await rawRound();
    const b = await sinkRound();
    raw.push(total / MB / a.seconds);
    demux.push(total / MB / b.seconds);
    rawCpu.push(a.cpu / (total / 1e9));
    demuxCpu.push(b.cpu / (total / 1e9));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (v: number[]): number => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
console.log(
  `media ingest: ${STREAMS} streams x ${(stream.length / MB).toFixed(1)} MB (${FRAMES} access units of 640x360 H.264 each), ${cpus().length} cores, Node ${process.version}`,
);
console.log(
  `  plain TCP pipe   : ${median(raw).toFixed(0)} MB/s  (rounds ${raw.map((x) => x.toFixed(0)).join(', ')}), receiver CPU ${median(rawCpu).toFixed(2)} s/GB`,
);
console.log(
  `  MediaSink demux  : ${median(demux).toFixed(0)} MB/s  (rounds ${demux.map((x) => x.toFixed(0)).join(', ')}), receiver CPU ${median(demuxCpu).toFixed(2)} s/GB`,
);
console.log(`  ratio demux / raw: ${((100 * median(demux)) / median(raw)).toFixed(0)}%  (goal >= 70%)`);
