/**
 * Benchmarks of @cam/sdk-tcp on loopback (host in this process, device in a child process):
 * 1. round trip of a small SDK call; 2. a 2 MiB call; 3. upload of a 100 MB file against a plain TCP pipe moving
 * the same bytes in the same run. Temp files live under os.tmpdir() and are deleted at the end.
 *
 *   pnpm --filter @cam/sdk-tcp bench
 */

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_XML_TOTAL } from '../src/codec/constants.js';
import { buildSdkRequest } from '../src/codec/xml.js';
import { SdkClient } from '../src/transport/client.js';
import { Md5Cache, md5File } from '../src/transport/files.js';

const FILE_SIZE = 100 * 1000 * 1000;
const ROUNDS = 5;

const dir = await mkdtemp(join(tmpdir(), 'cam-sdk-bench-'));
const deviceDir = join(dir, 'device');
await (await import('node:fs/promises')).mkdir(deviceDir);
const worker = fork(fileURLToPath(new URL('./peer.ts', import.meta.url)), [deviceDir], {
  execArgv: ['--conditions=@cam/source', '--import', 'tsx'],
});
const { sdkPort, sinkPort, inThreadPort } = await new Promise<{
  sdkPort: number;
  sinkPort: number;
  inThreadPort: number;
}>((resolve, reject) => {
  worker.once('message', resolve);
  worker.once('error', reject);
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

try {
  console.log(`# @cam/sdk-tcp benchmarks (Node ${process.version}, ${cpus().length} cores, ${cpus()[0]?.model ?? ''})`);
  const client = await SdkClient.connect('127.0.0.1', { port: sdkPort });

  // 1. Small call round trip.
  for (let i = 0; i < 200; i++) await client.call('GetDeviceInfo');
  const N = 3000;
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    await client.call('GetDeviceInfo');
    times.push(performance.now() - s);
  }
  const total = performance.now() - t0;
  console.log(
    `small call (GetDeviceInfo, ~${buildSdkRequest({ guid: client.guid, method: 'GetDeviceInfo', body: '' }).length} B ask): ` +
      `${N} calls, mean ${((total / N) * 1000).toFixed(0)} us, p50 ${(pct(times, 0.5) * 1000).toFixed(0)} us, ` +
      `p99 ${(pct(times, 0.99) * 1000).toFixed(0)} us, ${(N / (total / 1000)).toFixed(0)} calls/s`,
  );

  // 2. A 2 MiB call (ask of exactly 2 MiB, small answer) and a 2 MiB answer.
  const envelope = buildSdkRequest({ guid: client.guid, method: 'Size', body: '<p></p>' }).length;
  const big = `<p>${'y'.repeat(MAX_XML_TOTAL - envelope)}</p>`;
  const bigAnswer = `<q>${'z'.repeat(MAX_XML_TOTAL - 200)}</q>`;
  for (let i = 0; i < 5; i++) {
    await client.call('Size', big);
    await client.call('Echo', bigAnswer);
  }
  const askTimes: number[] = [];
  const echoTimes: number[] = [];
  for (let i = 0; i < 20; i++) {
    let s = performance.now();
    await client.call('Size', big);
    askTimes.push(performance.now() - s);
    s = performance.now();
    await client.call('Echo', bigAnswer);
    echoTimes.push(performance.now() - s);
  }
  const mib = MAX_XML_TOTAL / (1024 * 1024);
  console.log(
    `2 MiB call (2 MiB ask, small answer): median ${median(askTimes).toFixed(1)} ms (${(mib / (median(askTimes) / 1000)).toFixed(0)} MiB/s); ` +
      `2 MiB each way (Echo): median ${median(echoTimes).toFixed(1)} ms`,
  );

  // 3. Upload of a 100 MB file vs a plain socket pipe of the same file.
  const src = join(dir, 'upload.bin');
  const fh = await open(src, 'w');
  for (let o = 0; o < FILE_SIZE; o += 1 << 20) await fh.write(randomBytes(Math.min(1 << 20, FILE_SIZE - o)));
  await fh.close();
  const md5 = await md5File(src);

  const pipeOnce = async (): Promise<number> => {
    const s = performance.now();
    await new Promise<void>((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port: sinkPort });
      sock.on('error', reject);
      let answer = '';
      sock.on('data', (d: Buffer) => {
        answer += d.toString();
      });
      sock.on('end', () => {
        if (Number(answer.trim()) !== FILE_SIZE) reject(new Error(`sink got ${answer}`));
        else resolve();
        sock.destroy();
      });
      createReadStream(src, { highWaterMark: 1 << 20 }).pipe(sock);
    });
    return performance.now() - s;
  };
  const inThreadClient = await SdkClient.connect('127.0.0.1', { port: inThreadPort, md5Cache: false });
  const coldClient = await SdkClient.connect('127.0.0.1', { port: sdkPort, md5Cache: false });
  const cache = new Md5Cache();
  const cachedClient = await SdkClient.connect('127.0.0.1', { port: sdkPort, md5Cache: cache });
  await cache.md5(src); // what the first upload of the file leaves behind
  const uploadOnce = async (name: string, to: SdkClient, withMd5 = false): Promise<number> => {
    const s = performance.now();
    const r = await to.upload(src, { name, type: 'video', ...(withMd5 ? { md5 } : {}) });
    if (r.sentBytes !== FILE_SIZE) throw new Error('upload did not send everything');
    return performance.now() - s;
  };
  const hashOnce = async (): Promise<number> => {
    const s = performance.now();
    if ((await md5File(src)) !== md5) throw new Error('md5File disagrees');
    return performance.now() - s;
  };
  const pipeT: number[] = [];
  const hashT: number[] = [];
  const coldT: number[] = [];
  const cachedT: number[] = [];
  const knownT: number[] = [];
  const inThreadT: number[] = [];
  const hitsBefore = cache.stats.hits;
  for (let i = 0; i < ROUNDS; i++) {
    pipeT.push(await pipeOnce());
    hashT.push(await hashOnce());
    coldT.push(await uploadOnce(`c${i}.bin`, coldClient));
    cachedT.push(await uploadOnce(`r${i}.bin`, cachedClient));
    knownT.push(await uploadOnce(`k${i}.bin`, client, true));
    inThreadT.push(await uploadOnce(`t${i}.bin`, inThreadClient, true));
    for (const n of [`c${i}.bin`, `r${i}.bin`, `k${i}.bin`, `t${i}.bin`]) await rm(join(deviceDir, n), { force: true });
    await rm(join(deviceDir, `pipe-${i}.bin`), { force: true });
  }
  if (cache.stats.hits - hitsBefore !== ROUNDS) throw new Error('the cached uploads did not hit the MD5 cache');
  const mbps = (ms: number): number => FILE_SIZE / 1e6 / (ms / 1000);
  const pipe = mbps(median(pipeT));
  const line = (label: string, ms: number[]): void => {
    const v = mbps(median(ms));
    const each = ms.map((t) => `${((mbps(t) / pipe) * 100).toFixed(0)}`).join(' ');
    console.log(
      `  ${label.padEnd(58)} ${v.toFixed(0).padStart(4)} MB/s = ${((v / pipe) * 100).toFixed(0)}% of the pipe (rounds: ${each})`,
    );
  };
  console.log(
    `(the device of the first four lines has the default settings: MD5 of received files on a worker thread when the machine has more than one core, here ${availableParallelism()})`,
  );
  console.log(
    `upload 100 MB (median of ${ROUNDS}): plain socket pipe ${pipe.toFixed(0)} MB/s (rounds: ${pipeT.map((t) => mbps(t).toFixed(0)).join(' ')})`,
  );
  line('SDK upload, first upload of the file (host hashes it first)', coldT);
  line('SDK upload, same file again (MD5 from the Md5Cache)', cachedT);
  line('SDK upload, MD5 passed in (`md5` option)', knownT);
  line('SDK upload, MD5 passed in, device hashing on its main thread', inThreadT);
  const hash = median(hashT);
  const bound = median(pipeT) / (median(pipeT) + hash);
  console.log(
    `  MD5 of the file alone (md5File): median ${hash.toFixed(0)} ms; a first upload must hash before its first ` +
      `content byte, so even a free transfer at pipe speed would reach at most ${(bound * 100).toFixed(0)}% of the pipe; ` +
      `ours reaches ${((mbps(median(coldT)) / pipe / bound) * 100).toFixed(0)}% of that bound`,
  );
  coldClient.destroy();
  cachedClient.destroy();
  client.destroy();
  inThreadClient.destroy();
} finally {
  worker.send('close');
  await new Promise((r) => worker.once('exit', r));
  await rm(dir, { recursive: true, force: true });
}
