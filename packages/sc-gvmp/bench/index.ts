/**
 * SC_GVMP frame throughput over loopback TCP against a plain Node socket pipe moving the same bytes, in the same
 * run. SC_GVMP side: the real ScGvmpDevice (fps 0: frames back to back, header + payload in one writev, no copy)
 * streaming to the real startStream host (LengthFramer: one copy for a frame that spans TCP chunks, frames
 * delivered as views), registers over an in-memory link. Raw side: one socket writing the same payload buffers
 * with the same backpressure, the receiver only counting bytes.
 *
 * Each size is measured ROUNDS times, raw and SC_GVMP alternating; the table shows the medians and the best run of
 * each (on a shared, loaded machine the best run is the better estimate of what the code can do).
 *
 * Run: pnpm --filter @cam/sc-gvmp bench   (about 30-60 s)
 */
import { once } from 'node:events';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { readFrames } from '@cam/net-utils';
import {
  createFrameFramer,
  encodeFrameHeader,
  frameFromFramed,
  ScGvmpDevice,
  type ScGvmpRegisterAccess,
  type ScGvmpRegisterHandler,
  startStream,
} from '../src/index.js';

const SIZES = [
  { label: '64 KB', bytes: 64 * 1024 },
  { label: '1 MB', bytes: 1024 * 1024 },
  { label: '8 MB', bytes: 8 * 1024 * 1024 },
];
/** Bytes moved per measurement. */
const VOLUME = 512 * 1024 * 1024;
const ROUNDS = 5;

function memoryLink(device: ScGvmpDevice): ScGvmpRegisterAccess {
  const handlers = new Map<number, ScGvmpRegisterHandler>();
  device.attach({ defineRegister: (a, h) => handlers.set(a, h) });
  const ctx = { fromControlHolder: true };
  return {
    readRegister: async (a) => handlers.get(a)!.read(ctx),
    writeRegister: async (a, v) => handlers.get(a)!.write(v, ctx),
  };
}

async function scGvmp(payload: Uint8Array, frames: number): Promise<number> {
  const device = new ScGvmpDevice({ fps: 0, source: () => ({ kind: 'RAW', payload }) });
  const camera = { address: '127.0.0.1', registers: memoryLink(device) };
  const t0 = process.hrtime.bigint();
  const stream = await startStream(camera, { maxPayloadLength: payload.byteLength, pollIntervalMs: 1000 });
  let n = 0;
  let bytes = 0;
  for await (const f of stream) {
    bytes += f.payload.byteLength;
    if (++n === frames) break;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await stream.stop();
  await device.close();
  if (bytes !== frames * payload.byteLength) throw new Error('lost bytes');
  return bytes / seconds;
}

/** The SC_GVMP codec alone: header + payload corked on one socket, net-utils readFrames + the SC_GVMP framer. */
async function framedPipe(payload: Uint8Array, frames: number): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  const received = new Promise<void>((resolve) => {
    server.once('connection', async (s: Socket) => {
      let n = 0;
      for await (const raw of readFrames(s, createFrameFramer({ maxPayloadLength: payload.byteLength }))) {
        bytes += frameFromFramed(raw).payload.byteLength;
        if (++n === frames) break;
      }
      resolve();
    });
  });
  const client = netConnect({ host: '127.0.0.1', port });
  client.setNoDelay(true);
  await once(client, 'connect');
  for (let i = 0; i < frames; i++) {
    client.cork();
    client.write(encodeFrameHeader({ flags: 0x14, seq: i, payloadLength: payload.byteLength }));
    const ok = client.write(payload);
    client.uncork();
    if (!ok) await once(client, 'drain');
  }
  await received;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  if (bytes !== frames * payload.byteLength) throw new Error('lost bytes');
  return bytes / seconds;
}

async function rawPipe(payload: Uint8Array, frames: number): Promise<number> {
  const total = frames * payload.byteLength;
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const t0 = process.hrtime.bigint();
  const received = new Promise<void>((resolve) => {
    server.once('connection', (s: Socket) => {
      let got = 0;
      s.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got >= total) resolve();
      });
    });
  });
  const client = netConnect({ host: '127.0.0.1', port });
  client.setNoDelay(true);
  await once(client, 'connect');
  for (let i = 0; i < frames; i++) {
    if (!client.write(payload)) await once(client, 'drain');
  }
  await received;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return total / seconds;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbps = (x: number): string => `${(x / 1e6).toFixed(0)} MB/s`;

console.log(
  `SC_GVMP vs raw TCP pipe, loopback, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`,
);
console.log(
  `${VOLUME / 1024 / 1024} MiB per measurement, ${ROUNDS} alternating rounds; load average ${loadavg()[0]!.toFixed(1)}`,
);
console.log(
  '| payload | frames | raw pipe (median / best) | codec + readFrames (median / best) | SC_GVMP device -> host (median / best) | SC_GVMP frames/s | SC_GVMP / raw (median / best) |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const size of SIZES) {
  const payload = new Uint8Array(size.bytes).fill(0x5a);
  const frames = Math.max(1, Math.floor(VOLUME / size.bytes));
  await rawPipe(payload, Math.ceil(frames / 8)); // warm-up
  await scGvmp(payload, Math.ceil(frames / 8));
  await framedPipe(payload, Math.ceil(frames / 8));
  const raw: number[] = [];
  const sc: number[] = [];
  const codec: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    raw.push(await rawPipe(payload, frames));
    sc.push(await scGvmp(payload, frames));
    codec.push(await framedPipe(payload, frames));
  }
  const rawM = median(raw);
  const scM = median(sc);
  const rawB = Math.max(...raw);
  const scB = Math.max(...sc);
  console.log(
    `| ${size.label} | ${frames} | ${mbps(rawM)} / ${mbps(rawB)} | ${mbps(median(codec))} / ${mbps(Math.max(...codec))} | ` +
      `${mbps(scM)} / ${mbps(scB)} | ${(scM / size.bytes).toFixed(0)} | ` +
      `${((100 * scM) / rawM).toFixed(0)}% / ${((100 * scB) / rawB).toFixed(0)}% |`,
  );
}
