/**
 * SC_GVMP frame throughput over loopback TCP against a plain Node socket pipe moving the same bytes, in the same
 * run (issue 6). Both pipes have their sending side in one child process (bench/sender.ts: in reality the camera
 * is another machine) and their receiving side here:
 *
 * - raw pipe: the child writes the payload buffer `frames` times on one plain socket (`write` / `drain`); this
 *   process only counts the bytes in its `data` handler (no framing, no copy).
 * - SC_GVMP: this process runs the real host (`startStream` over a real GvcpClient to the child's GvcpDevice); the
 *   child's real ScGvmpDevice streams frames back to back; the consumer iterates the frames. Two host variants:
 *   the default (every frame in a fresh buffer, kept by the consumer as long as it likes) and `reuseBuffers`
 *   (frames assembled in pooled buffers, released by the consumer with `frame.release()`).
 *
 * Each timing runs from the request (the IPC message to the raw writer / the start of `startStream`) to the last
 * byte / frame delivered, so SC_GVMP pays its own set-up (three GVCP writes, the connection, a STREAM_STATE read).
 * Each size is measured ROUNDS times with the pipes alternating; the table shows the median and the range, and the
 * receiving process's CPU time per GB (process.cpuUsage, user + system).
 *
 * Run: pnpm --filter @cam/sc-gvmp bench   (about 40-70 s)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { GvcpClient } from '@cam/gvcp';
import { startStream } from '../src/index.js';

const SIZES = [
  { label: '64 KB', bytes: 64 * 1024 },
  { label: '1 MB', bytes: 1024 * 1024 },
  { label: '8 MB', bytes: 8 * 1024 * 1024 },
].filter((s) => !process.env.SIZE || s.label.replace(' ', '') === process.env.SIZE);
/** Bytes moved per measurement. */
const VOLUME = 512 * 1024 * 1024;
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const ONLY = process.env.ONLY;

interface Sample {
  bytesPerSecond: number;
  cpuSecondsPerGB: number;
}

const child: ChildProcess = fork(new URL('./sender.ts', import.meta.url), [], {
  execArgv: ['--conditions=@cam/source', '--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const ask = async (message: object): Promise<Record<string, unknown>> => {
  child.send(message);
  const [reply] = (await once(child, 'message')) as [Record<string, unknown>];
  if (reply.error) throw new Error(String(reply.error));
  return reply;
};
const [ready] = (await once(child, 'message')) as [{ gvcpPort: number }];
const client = await GvcpClient.connect('127.0.0.1', { port: ready.gvcpPort });
await client.takeControl();

function measure(bytes: number, t0: bigint, cpu0: NodeJS.CpuUsage): Sample {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { bytesPerSecond: bytes / seconds, cpuSecondsPerGB: (cpu.user + cpu.system) / 1e6 / (bytes / 1e9) };
}

async function rawPipe(payloadBytes: number, frames: number): Promise<Sample> {
  const total = frames * payloadBytes;
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const received = new Promise<Sample>((resolve) => {
    server.once('connection', (s: Socket) => {
      let got = 0;
      s.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got === total) resolve(measure(total, t0, cpu0));
      });
    });
  });
  const [sample] = await Promise.all([received, ask({ cmd: 'raw', port, frames })]);
  await new Promise<void>((r) => server.close(() => r()));
  return sample;
}

async function scGvmp(payloadBytes: number, frames: number, reuseBuffers: boolean): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const stream = await startStream(client, {
    localAddress: '127.0.0.1',
    maxPayloadLength: payloadBytes,
    pollIntervalMs: 1000,
    reuseBuffers,
  });
  let n = 0;
  let bytes = 0;
  for await (const f of stream) {
    bytes += f.payload.byteLength;
    f.release();
    if (++n === frames) break;
  }
  const sample = measure(bytes, t0, cpu0);
  await stream.stop();
  if (bytes !== frames * payloadBytes) throw new Error('lost bytes');
  return sample;
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const median = (xs: number[]): number => sorted(xs)[Math.floor(xs.length / 2)]!;
const mb = (x: number): string => (x / 1e6).toFixed(0);
const rate = (s: Sample[]): string => {
  const v = s.map((x) => x.bytesPerSecond);
  return `${mb(median(v))} (${mb(Math.min(...v))}-${mb(Math.max(...v))})`;
};
const cpu = (s: Sample[]): string => median(s.map((x) => x.cpuSecondsPerGB)).toFixed(2);
/** Per-round ratios (each SC_GVMP run against the raw run next to it): median and range. */
const ratio = (sc: Sample[], raw: Sample[]): string => {
  const r = sc.map((x, i) => (100 * x.bytesPerSecond) / raw[i]!.bytesPerSecond);
  const m = (100 * median(sc.map((x) => x.bytesPerSecond))) / median(raw.map((x) => x.bytesPerSecond));
  return `**${m.toFixed(0)}%** (rounds ${Math.min(...r).toFixed(0)}-${Math.max(...r).toFixed(0)}%)`;
};

console.log(
  `SC_GVMP vs raw TCP pipe, loopback, senders in a child process, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`,
);
console.log(
  `${VOLUME / 1024 / 1024} MiB per measurement, ${ROUNDS} alternating rounds; load average before ${loadavg()[0]!.toFixed(1)}`,
);
console.log('MB/s as median (min-max); receiver CPU as median cpu-s/GB; ratio = median SC_GVMP / median raw\n');
console.log(
  '| payload | frames | raw pipe MB/s | SC_GVMP default MB/s | SC_GVMP reuseBuffers MB/s | receiver cpu-s/GB raw / default / reuse | default / raw | reuseBuffers / raw |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const size of SIZES) {
  await ask({ cmd: 'size', bytes: size.bytes });
  const frames = Math.max(1, Math.floor(VOLUME / size.bytes));
  const warm = Math.ceil(frames / 8);
  await rawPipe(size.bytes, warm);
  await scGvmp(size.bytes, warm, false);
  await scGvmp(size.bytes, warm, true);
  const raw: Sample[] = [];
  const def: Sample[] = [];
  const pooled: Sample[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // ONLY=reuse (or raw, default) runs one pipe alone, for profiling.
    if (!ONLY || ONLY === 'raw') raw.push(await rawPipe(size.bytes, frames));
    if (!ONLY || ONLY === 'default') def.push(await scGvmp(size.bytes, frames, false));
    if (!ONLY || ONLY === 'reuse') pooled.push(await scGvmp(size.bytes, frames, true));
  }
  if (ONLY) {
    const only = raw.length ? raw : def.length ? def : pooled;
    console.log(`| ${size.label} | ${ONLY} | ${rate(only)} MB/s | ${cpu(only)} cpu-s/GB |`);
    continue;
  }
  console.log(
    `| ${size.label} | ${frames} | ${rate(raw)} | ${rate(def)} | ${rate(pooled)} | ${cpu(raw)} / ${cpu(def)} / ${cpu(pooled)} | ` +
      `${ratio(def, raw)} | ${ratio(pooled, raw)} |`,
  );
}
console.log(`\nload average after ${loadavg()[0]!.toFixed(1)}`);
await client.close();
child.send({ cmd: 'exit' });
await once(child, 'exit');
