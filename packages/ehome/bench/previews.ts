// 16 simultaneous previews through the platform's HTTP API: a platform process (EhomeServer + EhomeHttpApi, see
// preview-host.ts), 16 simulated devices sending the shipped clip (640x360, 25 fps, real time) and 16 HTTP clients
// in this process, each writing the H.264 (or fMP4) body to a file. Against a plain TCP relay process carrying the
// same device bytes (the same pushers and clip, into a socket.pipe) in the same run. The figure is the measured
// process's CPU time per stream (as a share of one core) and per GB of device media; rounds alternate the three
// phases. Bounded: every phase lasts SECONDS, every wait has a deadline.
import { type ChildProcess, fork } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClipSource, clipFrameAt, EhomeDevice, EhomeDeviceMedia, loadClip, MediaPusher } from '../src/index.js';

const STREAMS = Number(process.env.EHOME_PREVIEWS ?? 16);
const SECONDS = Number(process.env.EHOME_PREVIEW_SECONDS ?? 15);
const ROUNDS = Number(process.env.EHOME_PREVIEW_ROUNDS ?? 2);
const dir = mkdtempSync(join(tmpdir(), 'ehome-previews-bench-'));

interface Host {
  child: ChildProcess;
  ready: Record<string, unknown>;
  cpu(): Promise<number>;
  close(): Promise<void>;
}

function startHost(args: string[]): Promise<Host> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./preview-host.ts', import.meta.url), args, {
      execArgv: ['--conditions=@cam/source', '--import', 'tsx'],
    });
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start in 30 s`)), 30_000);
    const waiters: ((cpu: number) => void)[] = [];
    child.on('message', (m: { ready?: boolean; cpu?: number }) => {
      if (m.ready) {
        clearTimeout(timer);
        resolve({
          child,
          ready: m as Record<string, unknown>,
          cpu: () =>
            new Promise<number>((res) => {
              waiters.push(res);
              child.send('mark');
            }),
          close: () =>
            new Promise<void>((res) => {
              const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
              child.once('exit', () => {
                clearTimeout(kill);
                res();
              });
              child.send('exit');
            }),
        });
      } else if (m.cpu !== undefined) waiters.shift()?.(m.cpu);
    });
    child.once('error', reject);
  });
}

interface Result {
  phase: string;
  seconds: number;
  cpu: number;
  /** Bytes the devices pushed (RTP-framed MPEG-PS). */
  inBytes: number;
  /** Bytes the clients wrote to their files. */
  outBytes: number;
}

// ---- the platform, its devices -------------------------------------------------------------------------------

const platform = await startHost(['platform']);
const apiUrl = String(platform.ready.apiUrl);
const pushers: MediaPusher[] = [];
const devices: EhomeDevice[] = [];
for (let i = 0; i < STREAMS; i++) {
  const media = new EhomeDeviceMedia({ maxSessions: 2 });
  const device = new EhomeDevice({
    server: { host: '127.0.0.1', port: Number(platform.ready.signallingPort) },
    deviceId: `bench${String(i).padStart(2, '0')}`,
    localAddress: '127.0.0.1',
    backoff: { initialMs: 50, maxMs: 400 },
    // Keep each stream's pusher, to count the bytes the device sent.
    mediaHandler: async (req, view) => {
      const a = await media.handler(req, view);
      const session = (a.params as { session?: string } | undefined)?.session;
      const p = req.command === 'INVITESTREAM' && session ? media.pusherOf(session) : undefined;
      if (p) pushers.push(p);
      return a;
    },
  });
  devices.push(device);
}
await Promise.all(devices.map((d) => d.start({ timeoutMs: 30_000 })));

async function previews(format: 'h264' | 'mp4'): Promise<Result> {
  pushers.length = 0;
  const cpu0 = await platform.cpu();
  const t0 = performance.now();
  const files = await Promise.all(
    devices.map(async (d) => {
      const path = join(dir, `${d.deviceId}.${format}`);
      const res = await fetch(`${apiUrl}/api/devices/${d.deviceId}/preview?seconds=${SECONDS}&format=${format}`, {
        signal: AbortSignal.timeout((SECONDS + 30) * 1000),
      });
      if (res.status !== 200 || !res.body) throw new Error(`preview of ${d.deviceId}: ${res.status}`);
      const out = createWriteStream(path);
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((r) => out.end(r));
      return path;
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (await platform.cpu()) - cpu0;
  return {
    phase: `API ${format}`,
    seconds,
    cpu,
    inBytes: pushers.reduce((n, p) => n + p.bytes, 0),
    outBytes: files.reduce((n, f) => n + statSync(f).size, 0),
  };
}

// ---- the plain TCP pipe -----------------------------------------------------------------------------------------

let sunk = 0;
const sink = createServer((s: Socket) => {
  const out = createWriteStream(join(dir, `pipe-${s.remotePort}.bin`));
  s.on('data', (b) => {
    sunk += b.length;
    out.write(b);
  });
  s.on('close', () => out.end());
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const sinkAddress = sink.address();
const pipe = await startHost(['pipe', String(typeof sinkAddress === 'object' && sinkAddress ? sinkAddress.port : 0)]);

async function plainPipe(): Promise<Result> {
  sunk = 0;
  const clip = loadClip('live');
  const cpu0 = await pipe.cpu();
  const t0 = performance.now();
  const streams = Array.from(
    { length: STREAMS },
    () =>
      new MediaPusher({
        host: '127.0.0.1',
        port: Number(pipe.ready.port),
        source: new ClipSource(clip, clipFrameAt(Date.now()), SECONDS * 25),
        fps: 25,
        framing: 'rtp-interleaved',
      }),
  );
  await Promise.all(streams.map((s) => s.start()));
  await Promise.all(streams.map((s) => s.finished));
  // Let the relay drain what is in flight (bounded).
  const inBytes = streams.reduce((n, s) => n + s.bytes, 0);
  for (let i = 0; i < 100 && sunk < inBytes; i++) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (await pipe.cpu()) - cpu0;
  return { phase: 'TCP pipe', seconds, cpu, inBytes, outBytes: sunk };
}

// ---- rounds -----------------------------------------------------------------------------------------------------

const results: Result[] = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    results.push(await plainPipe());
    results.push(await previews('h264'));
    results.push(await previews('mp4'));
  }
} finally {
  await Promise.all(devices.map((d) => d.close()));
  await platform.close();
  await pipe.close();
  await new Promise<void>((r) => sink.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (n: number, d = 2): string => n.toFixed(d);
console.log(
  `${STREAMS} previews x ${SECONDS} s, ${ROUNDS} rounds; ${cpus().length} cpus, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log('phase      | wall s | CPU s | CPU per stream (% of a core) | CPU s per GB in | MB in | MB out');
for (const x of results) {
  console.log(
    `${x.phase.padEnd(10)} | ${fmt(x.seconds, 1).padStart(6)} | ${fmt(x.cpu).padStart(5)} | ${fmt(
      (x.cpu / x.seconds / STREAMS) * 100,
      3,
    ).padStart(
      28,
    )} | ${fmt(x.cpu / (x.inBytes / 1e9), 0).padStart(15)} | ${fmt(x.inBytes / 1e6, 1).padStart(5)} | ${fmt(
      x.outBytes / 1e6,
      1,
    )}`,
  );
}
// Per round, the API phases against that round's pipe: CPU per byte of device media.
for (let r = 0; r < ROUNDS; r++) {
  const [pipeRun, h264, mp4] = results.slice(r * 3, r * 3 + 3) as [Result, Result, Result];
  const perByte = (x: Result): number => x.cpu / x.inBytes;
  console.log(
    `round ${r + 1}: CPU per byte vs the pipe: API h264 ${fmt(perByte(h264) / perByte(pipeRun), 1)}x, API mp4 ${fmt(
      perByte(mp4) / perByte(pipeRun),
      1,
    )}x`,
  );
}
