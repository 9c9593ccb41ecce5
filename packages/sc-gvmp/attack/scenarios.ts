// Attacks on the SC_GVMP stack, loopback only: the host's image port (startStream listens, the camera connects in)
// and the simulated smart camera (GvcpDevice + ScGvmpDevice). A legitimate session (GvcpClient on 127.0.0.1 holding
// control, startStream, a real ScGvmpDevice streaming) is checked during and after each attack by counting the frames
// it receives; attackers connect or send from 127.0.0.2-127.0.0.9 unless the row is about the camera's own address.
import { connect, createServer, type Socket } from 'node:net';
import { GvcpClient, GvcpDevice } from '@cam/gvcp';
import { floodInWorker, RSS_SLACK_MIB, rssMiB } from '../../../test-support/attack.js';
import type { AttackOutcome, AttackScenario } from '../../../test-support/hostile-types.js';
import { attachToGvcpDevice } from '../src/adapters/gvcp.js';
import { ScGvmpFrameDecoder } from '../src/codec/decoder.js';
import { encodeFrame, encodeFrameHeader, frameFlags } from '../src/codec/frame.js';
import { ScGvmpDevice } from '../src/device/device.js';
import { type ScGvmpStream, startStream } from '../src/transport/host.js';

type RunOptions = Parameters<AttackScenario['run']>[0];

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** A legitimate session: a simulated camera streaming 50 fps to a host that counts frames. */
interface Rig {
  gvcp: GvcpDevice;
  camera: ScGvmpDevice;
  client: GvcpClient;
  stream: ScGvmpStream;
  /** Frames the host received so far. */
  frames(): number;
  /** Typed errors the host reported for closed connections (name: count). */
  errors: Map<string, number>;
  close(): Promise<void>;
}

async function startRig(hostOptions: { minBytesPerSecond?: number; frameGraceMs?: number } = {}): Promise<Rig> {
  const gvcp = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
  const camera = new ScGvmpDevice({ fps: 50, source: 'raw', testPattern: { width: 64, height: 48 } });
  attachToGvcpDevice(camera, gvcp);
  const client = await GvcpClient.connect('127.0.0.1', { port: gvcp.address().port, localAddress: '127.0.0.1' });
  await client.takeControl();
  const stream = await startStream(client, { pollIntervalMs: 100, ...hostOptions });
  const errors = new Map<string, number>();
  stream.on('disconnect', (d) => {
    if (d.error) errors.set(d.error.name, (errors.get(d.error.name) ?? 0) + 1);
  });
  stream.on('warning', () => {});
  let frames = 0;
  const consuming = (async () => {
    try {
      for await (const f of stream) {
        frames++;
        f.release();
      }
    } catch {
      // the stream ended (stopped); the counts say what happened
    }
  })();
  return {
    gvcp,
    camera,
    client,
    stream,
    frames: () => frames,
    errors,
    async close() {
      await stream.close();
      await consuming;
      await camera.close();
      await client.close();
      await gvcp.close();
    },
  };
}

/** Frames received within `ms`. */
async function framesWithin(rig: Rig, ms: number, signal: AbortSignal): Promise<number> {
  const before = rig.frames();
  await sleep(ms, signal);
  return rig.frames() - before;
}

/** Waits (bounded) until frames flow again after an attack; returns the frames seen in the last second. */
async function framesAfter(rig: Rig, signal: AbortSignal, boundMs = 15_000): Promise<number> {
  const end = Date.now() + boundMs;
  for (;;) {
    const n = await framesWithin(rig, 1000, signal);
    if (n > 0 || Date.now() > end || signal.aborted) return n;
  }
}

function connectFrom(port: number, localAddress: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    s.on('error', () => resolve(null));
    s.once('connect', () => resolve(s));
    s.once('close', () => resolve(null));
  });
}

const errorsText = (m: Map<string, number>): string =>
  m.size === 0 ? 'no connection errors' : [...m].map(([k, v]) => `${v} ${k}`).join(', ');

/** Runs `attack` against a fresh rig; survived when frames flowed during (if `during`) and after, RSS bounded. */
async function scenario(
  o: RunOptions,
  attack: (rig: Rig, stop: AbortSignal) => Promise<string>,
  checkDuring: boolean,
  hostOptions?: { minBytesPerSecond?: number; frameGraceMs?: number },
  extra?: (rig: Rig) => { ok: boolean; detail: string },
): Promise<AttackOutcome> {
  const rig = await startRig(hostOptions);
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await framesWithin(rig, 300, o.signal);
    const before = await rssMiB();
    const attacking = attack(rig, stop.signal);
    await sleep(300, o.signal);
    const during = checkDuring ? await framesWithin(rig, 1000, o.signal) : -1;
    const what = await attacking;
    const after = await framesAfter(rig, o.signal);
    const rssAfter = await rssMiB(300);
    const more = extra?.(rig) ?? { ok: true, detail: '' };
    return {
      survived: (!checkDuring || during > 0) && after > 0 && rssAfter - before < RSS_SLACK_MIB && more.ok,
      detail: `legit frames ${checkDuring ? `${during}/s during` : 'n/a during (the attacker is the camera address)'}, ${after}/s after; ${what}; host: ${errorsText(rig.errors)}, ${rig.stream.stats.refusedConnections} refused${more.detail}`,
      rssBeforeMiB: before,
      rssAfterMiB: rssAfter,
    };
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    stop.abort();
    await rig.close();
  }
}

const connectionFlood: AttackScenario = {
  target: 'SC_GVMP host image port (TCP, startStream)',
  attack: 'connection flood from 8 other hosts, each sending a lying 2 GiB header',
  run: (o) =>
    scenario(
      o,
      async (rig, stop) => {
        const total = o.budget === 'full' ? 4000 : 400;
        const header = encodeFrameHeader({ flags: frameFlags('RAW'), seq: 0, payloadLength: 0x7fffffff });
        let opened = 0;
        for (let i = 0; i < total && !stop.aborted; i += 50) {
          const batch = await Promise.all(
            Array.from({ length: 50 }, (_, k) => connectFrom(rig.stream.port, `127.0.0.${2 + ((i + k) % 8)}`)),
          );
          for (const s of batch) {
            if (s === null) continue;
            opened++;
            s.on('error', () => {});
            s.write(header);
            s.destroy();
          }
        }
        return `${total} connections (${opened} accepted by the kernel before the host closed them)`;
      },
      true,
      undefined,
      (rig) => ({
        ok: rig.stream.stats.refusedConnections > 0,
        detail: '',
      }),
    ),
};

const slowloris: AttackScenario = {
  target: 'SC_GVMP host image port (TCP, startStream)',
  attack: 'slowloris from the camera address: a lying 64 MiB header, then 1 byte / 50 ms',
  run: (o) =>
    scenario(
      o,
      async (rig, stop) => {
        const rounds = o.budget === 'full' ? 3 : 1;
        let cut = 0;
        const t0 = Date.now();
        for (let r = 0; r < rounds && !stop.aborted; r++) {
          const s = await connectFrom(rig.stream.port, '127.0.0.1');
          if (s === null) continue;
          s.write(encodeFrameHeader({ flags: frameFlags('RAW'), seq: 0, payloadLength: 64 * 1024 * 1024 }));
          const trickle = setInterval(() => s.destroyed || s.write(Uint8Array.of(0x55)), 50);
          // bounded: the host must cut it well before this
          const closed = await Promise.race([
            new Promise<boolean>((r2) => s.once('close', () => r2(true))),
            sleep(20_000, stop).then(() => false),
          ]);
          clearInterval(trickle);
          s.destroy();
          if (closed) cut++;
        }
        return `${cut}/${rounds} trickling connections closed by the host in ${((Date.now() - t0) / 1000).toFixed(1)} s`;
      },
      false,
      { minBytesPerSecond: 16 * 1024, frameGraceMs: 2000 },
      // the camera's own reconnect usually displaces the trickle first (one image connection per camera); the
      // minimum data rate is what cuts it when the camera is away (next row)
    ),
};

/**
 * A hostile camera without a real one beside it: its registers answer like a camera's, and on STREAM_START it
 * connects and sends a header announcing 64 MiB followed by a byte every 50 ms. The host must cut the connection for
 * the minimum data rate (SlowFrameError) instead of holding a 64 MiB buffer for as long as the camera likes; the
 * camera's next connection, with honest frames, must then be served.
 */
const hostileCamera: AttackScenario = {
  target: 'SC_GVMP host (startStream) vs a hostile camera',
  attack: 'lying 64 MiB length then 1 byte / 50 ms, then honest frames',
  async run({ budget, signal }) {
    const rounds = budget === 'full' ? 3 : 1;
    const regs = { mcda: 0, mcp: 0, start: 0, state: 0, err: 0 };
    const camera = {
      address: '127.0.0.1',
      registers: {
        async readRegister(address: number) {
          await Promise.resolve();
          return [regs.mcda, regs.mcp, regs.start, regs.state, regs.err][(address - 0xb000) / 4] ?? 0;
        },
        async writeRegister(address: number, value: number) {
          await Promise.resolve();
          if (address === 0xb000) regs.mcda = value;
          if (address === 0xb004) regs.mcp = value;
          if (address === 0xb008) {
            regs.start = value;
            regs.state = value === 1 ? 2 : 0;
          }
        },
      },
    };
    const before = await rssMiB();
    const stream = await startStream(camera, { pollIntervalMs: 100, minBytesPerSecond: 16 * 1024, frameGraceMs: 2000 });
    const errors = new Map<string, number>();
    stream.on('disconnect', (d) => {
      if (d.error) errors.set(d.error.name, (errors.get(d.error.name) ?? 0) + 1);
    });
    let frames = 0;
    const consuming = (async () => {
      try {
        for await (const f of stream) {
          frames++;
          f.release();
        }
      } catch {
        // stopped
      }
    })();
    const cutTimes: number[] = [];
    try {
      for (let r = 0; r < rounds && !signal.aborted; r++) {
        const s = await connectFrom(stream.port, '127.0.0.1');
        if (s === null) continue;
        const t0 = Date.now();
        s.write(encodeFrameHeader({ flags: frameFlags('RAW'), seq: 0, payloadLength: 64 * 1024 * 1024 }));
        const trickle = setInterval(() => s.destroyed || s.write(Uint8Array.of(0x55)), 50);
        const closed = await Promise.race([
          new Promise<boolean>((r2) => s.once('close', () => r2(true))),
          sleep(20_000, signal).then(() => false),
        ]);
        clearInterval(trickle);
        s.destroy();
        if (closed) cutTimes.push(Date.now() - t0);
      }
      const honest = await connectFrom(stream.port, '127.0.0.1');
      for (let i = 0; i < 5; i++)
        honest?.write(encodeFrame({ seq: 100 + i, kind: 'RAW', payload: new Uint8Array(1000) }));
      const end = Date.now() + 5000;
      while (frames < 5 && Date.now() < end && !signal.aborted) await sleep(50, signal);
      honest?.destroy();
      const rssAfter = await rssMiB(300);
      const slow = errors.get('SlowFrameError') ?? 0;
      return {
        survived: slow === rounds && frames === 5 && rssAfter - before < RSS_SLACK_MIB,
        detail: `${slow}/${rounds} trickles cut with SlowFrameError after ${cutTimes.map((t) => (t / 1000).toFixed(1)).join(', ')} s (grace 2 s, 16 KiB/s); honest frames after: ${frames}/5; host: ${errorsText(errors)}`,
        rssBeforeMiB: before,
        rssAfterMiB: rssAfter,
      };
    } finally {
      await stream.close();
      await consuming;
    }
  },
};

const resetsAndLies: AttackScenario = {
  target: 'SC_GVMP host image port (TCP, startStream)',
  attack: 'from the camera address: mid-frame resets, garbage, lying lengths over the cap',
  run: (o) =>
    scenario(
      o,
      async (rig, stop) => {
        const rounds = o.budget === 'full' ? 300 : 30;
        const half = encodeFrame({ seq: 1, kind: 'RAW', payload: new Uint8Array(100_000).fill(9) }).subarray(0, 50_000);
        const overCap = encodeFrameHeader({ flags: frameFlags('RAW'), seq: 0, payloadLength: 0xfffffff0 });
        for (let i = 0; i < rounds && !stop.aborted; i++) {
          const s = await connectFrom(rig.stream.port, '127.0.0.1');
          if (s === null) continue;
          s.on('error', () => {});
          const kind = i % 3;
          if (kind === 0) {
            s.write(half);
            await sleep(5);
            s.resetAndDestroy();
          } else {
            s.write(kind === 1 ? crypto.getRandomValues(new Uint8Array(512)) : overCap);
            await new Promise<void>((r) => {
              const t = setTimeout(r, 2000);
              s.once('close', () => {
                clearTimeout(t);
                r();
              });
            });
            s.destroy();
          }
        }
        return `${rounds} hostile connections (resets, garbage, 4 GiB announcements)`;
      },
      false,
      undefined,
      (rig) => ({
        ok: rig.stream.stats.protocolErrors > 0,
        detail: `, ${rig.stream.stats.protocolErrors} protocol errors`,
      }),
    ),
};

const gvcpFlood: AttackScenario = {
  target: 'SC_GVMP device (GVCP UDP, streaming)',
  attack: 'flood of random and lying GVCP datagrams from another host while streaming (5,000/s)',
  run: (o) =>
    scenario(
      o,
      async (rig, stop) => {
        const count = o.budget === 'full' ? 30_000 : 5_000;
        const bytes = await floodInWorker({
          module: new URL('../../gvcp/attack/scenarios.ts', import.meta.url).href,
          generator: 'hostileDatagram',
          port: rig.gvcp.address().port,
          count,
          ratePerSecond: 5_000,
          signal: stop,
        });
        return `${count} datagrams (${bytes} bytes), ${rig.stream.stats.restarts} stream restarts`;
      },
      true,
    ),
};

/**
 * The device's side of the image channel: the host it streams to (MCDA:MCP, chosen by the control holder) accepts,
 * never reads, and sends bytes back as fast as it can. The device must neither buffer without bound (frames beyond
 * `maxSendQueueBytes` are dropped) nor keep what the host sends, and must keep answering GVCP.
 */
const stallingHost: AttackScenario = {
  target: 'SC_GVMP device (TCP image channel)',
  attack: 'a host that never reads and floods bytes back',
  async run({ budget, signal }) {
    const seconds = budget === 'full' ? 8 : 2;
    const gvcp = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    const camera = new ScGvmpDevice({
      fps: 200,
      source: 'raw',
      testPattern: { width: 512, height: 512 },
      maxSendQueueBytes: 4 * 1024 * 1024,
    });
    attachToGvcpDevice(camera, gvcp);
    const client = await GvcpClient.connect('127.0.0.1', { port: gvcp.address().port, localAddress: '127.0.0.1' });
    const sockets: Socket[] = [];
    let sentBack = 0;
    const server = createServer({ pauseOnConnect: true }, (s) => {
      sockets.push(s);
      s.on('error', () => {});
      const junk = new Uint8Array(64 * 1024).fill(0x5a);
      const pump = (): void => {
        while (!s.destroyed && !signal.aborted) {
          sentBack += junk.byteLength;
          if (!s.write(junk)) {
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      await client.takeControl();
      const before = await rssMiB();
      await client.writeRegister(camera.registers.mcda, 0x7f000001);
      await client.writeRegister(camera.registers.mcp, (server.address() as { port: number }).port);
      await client.writeRegister(camera.registers.streamStart, 1);
      let reads = 0;
      let failed = 0;
      const end = Date.now() + seconds * 1000;
      while (Date.now() < end && !signal.aborted) {
        try {
          await client.readRegister(camera.registers.streamState, { timeoutMs: 2000 });
          reads++;
        } catch {
          failed++;
        }
        await sleep(200, signal);
      }
      const rssAfter = await rssMiB(300);
      const st = camera.stats;
      return {
        survived: reads > 0 && failed === 0 && st.framesDropped > 0 && rssAfter - before < RSS_SLACK_MIB,
        detail: `${seconds} s: ${st.framesSent} frames sent, ${st.framesDropped} dropped at the send-queue cap; host sent back ${(sentBack / 1048576).toFixed(0)} MiB; GVCP reads ${reads} answered, ${failed} failed; state ${camera.state}`,
        rssBeforeMiB: before,
        rssAfterMiB: rssAfter,
      };
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await camera.close();
      await client.close();
      await gvcp.close();
    }
  },
};

/**
 * A host that connects and never reads while the device streams as fast as possible (fps 0, which waited for
 * 'drain' forever before): the device must give the connection up within `writeStallTimeoutMs` and then stream to
 * a legitimate host the control holder names.
 */
const neverReadingHost: AttackScenario = {
  target: 'SC_GVMP device (TCP image channel)',
  attack: 'a host that never reads at fps 0 (as fast as possible), then a legitimate host',
  async run({ budget, signal }) {
    const stallMs = budget === 'full' ? 2000 : 500;
    const gvcp = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    const camera = new ScGvmpDevice({
      fps: 0,
      source: 'raw',
      testPattern: { width: 512, height: 512 },
      writeStallTimeoutMs: stallMs,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    attachToGvcpDevice(camera, gvcp);
    const stalls: string[] = [];
    camera.on('warning', (e) => stalls.push(e.name));
    const client = await GvcpClient.connect('127.0.0.1', { port: gvcp.address().port, localAddress: '127.0.0.1' });
    const sockets: Socket[] = [];
    const stalled = createServer({ pauseOnConnect: true }, (s) => {
      sockets.push(s);
      s.on('error', () => {});
    });
    let frames = 0;
    const legit = createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
      const d = new ScGvmpFrameDecoder();
      s.on('data', (chunk: Buffer) => {
        try {
          frames += d.push(chunk).length;
        } catch {
          s.destroy();
        }
      });
    });
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => legit.listen(0, '127.0.0.1', () => r()));
    try {
      await client.takeControl();
      const before = await rssMiB();
      const t0 = Date.now();
      await client.writeRegister(camera.registers.mcda, 0x7f000001);
      await client.writeRegister(camera.registers.mcp, (stalled.address() as { port: number }).port);
      await client.writeRegister(camera.registers.streamStart, 1);
      const deadline = Date.now() + stallMs * 5 + 5000;
      while (camera.stats.writeStalls === 0 && Date.now() < deadline && !signal.aborted) await sleep(50, signal);
      const freedAfterMs = Date.now() - t0;
      const freed = camera.stats.writeStalls === 1;
      const backlog = camera.stats.bytesSent;
      await client.writeRegister(camera.registers.streamStart, 0);
      await client.writeRegister(camera.registers.mcp, (legit.address() as { port: number }).port);
      await client.writeRegister(camera.registers.streamStart, 1);
      const until = Date.now() + 5000;
      while (frames < 5 && Date.now() < until && !signal.aborted) await sleep(50, signal);
      const rssAfter = await rssMiB(300);
      return {
        survived: freed && frames >= 5 && rssAfter - before < RSS_SLACK_MIB,
        detail: `stalled connection ${freed ? `closed after ${freedAfterMs} ms (writeStallTimeoutMs ${stallMs})` : 'NOT closed'} with ${(backlog / 1048576).toFixed(1)} MiB handed to the socket; warnings: ${stalls.join(', ') || 'none'}; legitimate host then received ${frames} frames; state ${camera.state}`,
        rssBeforeMiB: before,
        rssAfterMiB: rssAfter,
      };
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => stalled.close(() => r()));
      await new Promise<void>((r) => legit.close(() => r()));
      await camera.close();
      await client.close();
      await gvcp.close();
    }
  },
};

export default [
  connectionFlood,
  slowloris,
  hostileCamera,
  resetsAndLies,
  gvcpFlood,
  stallingHost,
  neverReadingHost,
] satisfies AttackScenario[];
