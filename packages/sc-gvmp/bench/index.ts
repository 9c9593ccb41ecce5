/**
 * SC_GVMP frame throughput over loopback TCP against a plain Node socket pipe moving the same bytes, in the same
 * run (issue 6). Both pipes have their sending side in one child process (bench/sender.ts: in reality the camera
 * is another machine) and their receiving side here:
 *
 * - raw pipe: the child writes the payload buffer `frames` times on one plain socket (`write` / `drain`); this
 *   process only counts the bytes in its `data` handler (no framing, no copy).
 * - SC_GVMP: this process runs the real host (`startStream` with default options, over a real GvcpClient to the
 *   child's GvcpDevice); the child's real ScGvmpDevice streams frames back to back; the consumer iterates the
 *   frames. Two consumers: one that keeps its frames (never calls `release()`, so every frame is assembled in a
 *   fresh buffer) and one that hands each frame back with `frame.release()` when done (frames are then assembled
 *   in reused, already mapped buffers).
 *
 * Each timing runs from the request (the IPC message to the raw writer / the start of `startStream`) to the last
 * byte / frame delivered, so SC_GVMP pays its own set-up (three GVCP writes, the connection, a STREAM_STATE read).
 * Each size is measured ROUNDS times with the pipes alternating (order rotating per round); the table shows the
 * median and the range, the ratio of the medians and the median of the per-round ratios, and the CPU time per GB
 * of the receiving process (this one) and of the sending child (process.cpuUsage, user + system, all threads).
 *
 * Run: pnpm --filter @cam/sc-gvmp bench   (about 60 s)
 * Env: ROUNDS=n; SIZE=64KB|1MB|8MB or BYTES=n (one size); ONLY=raw|rawUser|kept|released (one pipe);
 *      PROFILE=prefix (CPU profile of this process over the measured rounds); SENDER_PROF=dir (--cpu-prof of the child).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createServer, type Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { GvcpClient } from '@cam/gvcp';
import { readIntoUserBuffer } from '@cam/net-utils';
import { startStream } from '../src/index.js';

const SIZES = [
  { label: '64 KB', bytes: 64 * 1024 },
  { label: '1 MB', bytes: 1024 * 1024 },
  { label: '8 MB', bytes: 8 * 1024 * 1024 },
].filter((s) => !process.env.SIZE || s.label.replace(' ', '') === process.env.SIZE);
if (process.env.BYTES)
  SIZES.splice(0, SIZES.length, { label: `${process.env.BYTES} B`, bytes: Number(process.env.BYTES) });
/** Bytes moved per measurement. */
const VOLUME = 512 * 1024 * 1024;
/** Many rounds, the pipes alternating, so that the load of other processes hits all of them alike. */
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const ONLY = process.env.ONLY;

interface Sample {
  bytesPerSecond: number;
  /** The receiving process (this one), user + system, all threads. */
  cpuSecondsPerGB: number;
  /** The sending child process. */
  senderCpuSecondsPerGB: number;
  /** SC_GVMP: how long `startStream` took (GVCP writes, connection, STREAM_STATE=Streaming), inside the timing. */
  startMs?: number;
}

const child: ChildProcess = fork(new URL('./sender.ts', import.meta.url), [], {
  execArgv: [
    '--conditions=@cam/source',
    '--import',
    'tsx',
    ...(process.env.SENDER_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SENDER_PROF}`] : []),
  ],
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

const senderCpu = async (): Promise<number> => {
  const { cpu } = (await ask({ cmd: 'cpu' })) as { cpu: NodeJS.CpuUsage };
  return (cpu.user + cpu.system) / 1e6;
};

function measure(bytes: number, t0: bigint, cpu0: NodeJS.CpuUsage): Sample {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const gb = bytes / 1e9;
  return {
    bytesPerSecond: bytes / seconds,
    cpuSecondsPerGB: (cpu.user + cpu.system) / 1e6 / gb,
    senderCpuSecondsPerGB: gb,
  };
}

/** Turns `senderCpuSecondsPerGB` (holding GB until now) into the sender's CPU seconds per GB. */
async function withSenderCpu(run: () => Promise<Sample>): Promise<Sample> {
  const before = await senderCpu();
  const sample = await run();
  sample.senderCpuSecondsPerGB = ((await senderCpu()) - before) / sample.senderCpuSecondsPerGB;
  return sample;
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

/**
 * Like-for-like floor for the direct reads: the same plain pipe, but reading (net-utils `readIntoUserBuffer`, Node's
 * `onread`) into one reused buffer as large as a frame, as the SC_GVMP host reads into its frame buffers.
 */
async function rawPipeUserBuffer(payloadBytes: number, frames: number): Promise<Sample> {
  const total = frames * payloadBytes;
  const server = createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const buffer = new Uint8Array(Math.max(64 * 1024, payloadBytes + 12));
  let reader: Socket | undefined;
  const received = new Promise<Sample>((resolve, reject) => {
    server.once('connection', (s: Socket) => {
      let got = 0;
      reader = readIntoUserBuffer(s, {
        buffer,
        callback: (n) => {
          got += n;
          if (got === total) resolve(measure(total, t0, cpu0));
          return true;
        },
      });
      if (!reader) return reject(new Error('could not adopt the accepted socket'));
      reader.on('error', reject);
      reader.resume();
    });
  });
  const [sample] = await Promise.all([received, ask({ cmd: 'raw', port, frames })]);
  reader?.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return sample;
}

async function scGvmp(payloadBytes: number, frames: number, release: boolean): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const stream = await startStream(client, {
    localAddress: '127.0.0.1',
    maxPayloadLength: payloadBytes,
    pollIntervalMs: 1000,
  });
  const startMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let n = 0;
  let bytes = 0;
  for await (const f of stream) {
    bytes += f.payload.byteLength;
    if (release) f.release();
    if (++n === frames) break;
  }
  const sample = { ...measure(bytes, t0, cpu0), startMs };
  await stream.stop();
  if (bytes !== frames * payloadBytes) throw new Error('lost bytes');
  return sample;
}

const post = (session: Session, method: string): Promise<unknown> =>
  new Promise((resolve, reject) => session.post(method, (error, result) => (error ? reject(error) : resolve(result))));

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const median = (xs: number[]): number => sorted(xs)[Math.floor(xs.length / 2)]!;
const mb = (x: number): string => (x / 1e6).toFixed(0);
const rate = (s: Sample[]): string => {
  const v = s.map((x) => x.bytesPerSecond);
  return `${mb(median(v))} (${mb(Math.min(...v))}-${mb(Math.max(...v))})`;
};
const cpu = (s: Sample[]): string =>
  `${median(s.map((x) => x.cpuSecondsPerGB)).toFixed(2)} + ${median(s.map((x) => x.senderCpuSecondsPerGB)).toFixed(2)}`;
/** Ratio of the medians, and the median and range of the per-round ratios (each run against the raw run of its round). */
const ratio = (sc: Sample[], raw: Sample[]): string => {
  const r = sc.map((x, i) => (100 * x.bytesPerSecond) / raw[i]!.bytesPerSecond);
  const m = (100 * median(sc.map((x) => x.bytesPerSecond))) / median(raw.map((x) => x.bytesPerSecond));
  return `**${m.toFixed(0)}%** / ${median(r).toFixed(0)}% (${Math.min(...r).toFixed(0)}-${Math.max(...r).toFixed(0)}%)`;
};

console.log(
  `SC_GVMP vs raw TCP pipe, loopback, senders in a child process, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`,
);
console.log(
  `${VOLUME / 1024 / 1024} MiB per measurement, ${ROUNDS} alternating rounds; load average before ${loadavg()[0]!.toFixed(1)}`,
);
console.log(
  'MB/s as median (min-max); CPU as median cpu-s/GB of receiver + sender; ratio: median SC_GVMP / median raw, then median (min-max) of the per-round ratios\n',
);
console.log(
  '| payload | frames | raw pipe MB/s | SC_GVMP, frames kept MB/s | SC_GVMP, frames released MB/s | cpu-s/GB recv + send: raw / kept / released | kept / raw | released / raw | raw pipe reading into a reused frame-sized buffer MB/s (cpu) | released / that |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
const starts: number[] = [];
for (const size of SIZES) {
  await ask({ cmd: 'size', bytes: size.bytes });
  const frames = Math.max(1, Math.floor(VOLUME / size.bytes));
  const warm = Math.ceil(frames / 8);
  await rawPipe(size.bytes, warm);
  await rawPipeUserBuffer(size.bytes, warm);
  await scGvmp(size.bytes, warm, false);
  await scGvmp(size.bytes, warm, true);
  const raw: Sample[] = [];
  const rawUser: Sample[] = [];
  const def: Sample[] = [];
  const pooled: Sample[] = [];
  // PROFILE=file.cpuprofile: a CPU profile of this process over the measured rounds only (not start-up, not warm-up).
  const session = process.env.PROFILE ? new Session() : undefined;
  if (session) {
    session.connect();
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.start');
  }
  // Bounded in time: on a heavily loaded machine a size stops after 30 s (at least 3 rounds), noted in the table.
  const sizeStart = Date.now();
  let rounds = 0;
  for (let r = 0; r < ROUNDS && (r < 3 || Date.now() - sizeStart < 30_000); r++, rounds++) {
    // The order rotates from round to round, so no pipe always runs first (or right after another one).
    const pipes = [
      { name: 'raw', out: raw, run: () => rawPipe(size.bytes, frames) },
      { name: 'rawUser', out: rawUser, run: () => rawPipeUserBuffer(size.bytes, frames) },
      { name: 'kept', out: def, run: () => scGvmp(size.bytes, frames, false) },
      { name: 'released', out: pooled, run: () => scGvmp(size.bytes, frames, true) },
    ];
    for (let i = 0; i < pipes.length; i++) {
      const pipe = pipes[(r + i) % pipes.length]!;
      // ONLY=raw|rawUser|kept|released runs one pipe alone, for profiling.
      if (!ONLY || ONLY === pipe.name) pipe.out.push(await withSenderCpu(pipe.run));
    }
  }
  for (const x of [...def, ...pooled]) starts.push(x.startMs!);
  if (session) {
    const { profile } = (await post(session, 'Profiler.stop')) as { profile: object };
    writeFileSync(`${process.env.PROFILE}.${size.label.replace(' ', '')}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  }
  if (ONLY) {
    const only = raw.length ? raw : rawUser.length ? rawUser : def.length ? def : pooled;
    console.log(`| ${size.label} | ${ONLY} | ${rate(only)} MB/s | ${cpu(only)} cpu-s/GB |`);
    continue;
  }
  console.log(
    `| ${size.label} | ${frames}${rounds < ROUNDS ? ` (${rounds} rounds)` : ''} | ${rate(raw)} | ${rate(def)} | ${rate(pooled)} | ${cpu(raw)} / ${cpu(def)} / ${cpu(pooled)} | ` +
      `${ratio(def, raw)} | ${ratio(pooled, raw)} | ${rate(rawUser)} (${cpu(rawUser)}) | ${ratio(pooled, rawUser)} |`,
  );
}
console.log(`\nSC_GVMP start (startStream, inside every SC_GVMP timing): median ${median(starts).toFixed(1)} ms`);
console.log(`load average after ${loadavg()[0]!.toFixed(1)}`);
await client.close();
child.send({ cmd: 'exit' });
await once(child, 'exit');
