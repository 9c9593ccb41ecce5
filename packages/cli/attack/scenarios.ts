/**
 * Attack scenarios of the `cam` CLI as processes (contract: test-support/hostile-types.ts): `cam gige stream`
 * receiving from `cam gige simulate` on 127.0.0.1 while hostile GVSP datagrams flood its stream port. Loopback only;
 * every process is killed by a timeout, every flood bounded in count and rate.
 */
import { GvcpClient, StreamChannelRegister, streamChannelRegister } from '@cam/gvcp';
import { imageBlock, PixelFormat, packetiseBlock } from '@cam/gvsp';
import { floodInWorker, rssMiB } from '../../../test-support/attack.js';
import { runCam, startCam } from '../../../test-support/cli.js';
import type { AttackOutcome, AttackScenario } from '../../../test-support/hostile-types.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Peak RSS the stream process may reach under the flood (Node with tsx from source idles at ~150-200 MiB). */
const RSS_BOUND_MIB = 400;

/** Deterministic pseudo-random bytes (xorshift), so a failing run can be replayed. */
function noise(seed: number, length: number): Uint8Array {
  let x = seed | 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

// A real 64x16 Mono8 frame cut into packets, mutated below; block ids 1..400 are those the simulator uses in a run.
const REAL = packetiseBlock(
  imageBlock({
    pixelFormat: PixelFormat.Mono8,
    width: 64,
    height: 16,
    data: new Uint8Array(64 * 16).fill(7),
    timestamp: 1n,
  }),
  1n,
  576,
  false,
);
const realPacket = (id: number): Uint8Array => REAL.bytes.slice(REAL.offsets[id]!, REAL.offsets[id + 1]!);

function setBlockId(b: Uint8Array, id: number): Uint8Array {
  b[2] = (id >> 8) & 0xff;
  b[3] = id & 0xff;
  return b;
}

/**
 * Random, mutated and lying GVSP datagrams: 20-byte packets with id 1, leaders announcing huge sizes, leaders with
 * garbage payload types, extended-id packets, trailers without a leader, real packets with a byte flipped, noise.
 * Block ids are those of the real stream (1..400), so the lies land on the frames being received.
 */
export function hostileGvspDatagram(i: number): Uint8Array {
  const block = 1 + (i % 400);
  switch (i % 8) {
    case 0:
      return Uint8Array.of(0, 0, (block >> 8) & 0xff, block & 0xff, 0x03, 0, 0, 1, ...new Array(12).fill(0));
    case 1: {
      // image leader announcing 0xFFFFFFFF x 0xFFFFFFFF (size_x at 24, size_y at 28)
      const b = setBlockId(realPacket(0), block);
      b.fill(0xff, 24, 32);
      return b;
    }
    case 2: {
      // leader with a garbage payload type (bytes 10..11) and random rest
      const b = setBlockId(realPacket(0), block);
      b.set(noise(i, b.length - 10), 10);
      return b;
    }
    case 3: {
      // extended-id packets (EI flag), block id 64-bit at 8, packet id 32-bit at 16; payload, leader or trailer
      const b = noise(i, 20 + (i % 1000));
      b[0] = 0;
      b[1] = 0;
      b[4] = 0x80 | [1, 2, 3][i % 3]!;
      b.fill(0, 8, 14);
      b[14] = (block >> 8) & 0xff;
      b[15] = block & 0xff;
      return b;
    }
    case 4: {
      // a trailer for a block whose leader never came
      const b = setBlockId(realPacket(REAL.packetCount - 1), block);
      b[5] = 0;
      b[6] = (i >> 8) & 0x0f;
      b[7] = i & 0xff;
      return b;
    }
    case 5: {
      // a real packet with one byte flipped
      const b = setBlockId(realPacket(i % REAL.packetCount), block);
      const at = (i * 7) % b.length;
      b[at] = b[at]! ^ (1 + (i % 255));
      return b;
    }
    case 6:
      // a payload packet far beyond the frame (packet id 0xFFFFFF)
      return setBlockId(Uint8Array.of(0, 0, 0, 0, 0x03, 0xff, 0xff, 0xff, ...noise(i, 500)), block);
    default:
      return noise(i + 1, 1 + (i % 1400));
  }
}

interface StreamSummary {
  ok: boolean;
  stats: {
    completedFrames: number;
    failures: number;
    foreignSourcePackets: number;
    malformedPackets: number;
    ignoredPackets: number;
    receivedPackets: number;
  };
}

function streamFlood(from: 'other' | 'same'): AttackScenario {
  const attacker = from === 'other' ? '127.0.0.2' : '127.0.0.1';
  return {
    target: 'cam gige stream (process) from cam gige simulate',
    attack:
      from === 'other'
        ? 'hostile GVSP datagrams (lying leaders, garbage payload types, id-1, extended-id, orphan trailers) from 127.0.0.2 to the stream port'
        : 'the same hostile GVSP datagrams from the camera address (127.0.0.1, another source port: no spoofing)',
    run: async ({ budget, signal }): Promise<AttackOutcome> => {
      const seconds = budget === 'full' ? 12 : 5;
      const count = budget === 'full' ? 200_000 : 10_000;
      const rssBefore = await rssMiB();
      const sim = await startCam(
        ['gige', 'simulate', '--address', '127.0.0.1', '--port', '0', '--json', '--width', '160', '--height', '120'],
        { timeoutMs: (seconds + 40) * 1000 },
      );
      let client: GvcpClient | undefined;
      try {
        const port = String((JSON.parse(sim.firstLine) as { port: number }).port);
        const streaming = runCam(
          ['gige', 'stream', '127.0.0.1', '--port', port, '--seconds', String(seconds), '--json'],
          {
            timeoutMs: (seconds + 30) * 1000,
          },
        );
        // the stream port the host opened, read from the camera's SCP register (as any host on the link can)
        client = await GvcpClient.connect('127.0.0.1', { port: Number(port), localAddress: '127.0.0.2' });
        let streamPort = 0;
        for (let i = 0; i < 200 && streamPort === 0 && !signal.aborted; i++) {
          streamPort =
            (await client.readRegister(streamChannelRegister(0, StreamChannelRegister.SCP)).catch(() => 0)) & 0xffff;
          if (streamPort === 0) await sleep(50);
        }
        let flooded = 0;
        if (streamPort !== 0) {
          flooded = await floodInWorker({
            module: import.meta.url,
            generator: 'hostileGvspDatagram',
            port: streamPort,
            count,
            address: attacker,
            ratePerSecond: count / Math.max(1, seconds - 2),
            signal,
          });
        }
        const r = await streaming;
        let summary: StreamSummary | undefined;
        try {
          summary = JSON.parse(r.stdout) as StreamSummary;
        } catch {
          summary = undefined;
        }
        const s = summary?.stats;
        const rssOk = r.maxRssMiB === undefined || r.maxRssMiB < RSS_BOUND_MIB;
        // at the simulator's 10 fps, a run of `seconds` completes some 10 frames a second; ask for half of that
        const minFrames = Math.floor((seconds * 10) / 2);
        const survived =
          streamPort !== 0 && r.code === 0 && summary?.ok === true && (s?.completedFrames ?? 0) >= minFrames && rssOk;
        const detail =
          streamPort === 0
            ? 'the stream port never appeared in SCP'
            : `${count} datagrams (${flooded} bytes) from ${attacker} to stream port ${streamPort} during a ${seconds} s run; exit ${r.code}; ` +
              (s
                ? `${s.completedFrames} frames complete (need ${minFrames}), ${s.failures} failed; ${s.foreignSourcePackets} foreign-source, ${s.malformedPackets} malformed, ${s.ignoredPackets} ignored of ${s.receivedPackets} packets`
                : `no summary: ${r.stderr.split('\n')[0]?.slice(0, 200)}`) +
              `; peak RSS of cam gige stream ${r.maxRssMiB?.toFixed(0) ?? '?'} MiB (bound ${RSS_BOUND_MIB})`;
        return { survived, detail, rssBeforeMiB: rssBefore, rssAfterMiB: await rssMiB() };
      } finally {
        await client?.close().catch(() => {});
        sim.child.kill('SIGINT');
        await Promise.race([sim.exit, sleep(5000)]);
        sim.child.kill('SIGKILL');
      }
    },
  };
}

const scenarios: AttackScenario[] = [streamFlood('other'), streamFlood('same')];
export default scenarios;
