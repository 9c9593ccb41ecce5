import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeInterop } from '../../../test-support/interop.js';
import { type GvspBlock, GvspSender, type GvspSenderOptions, type LossOptions } from '../src/index.js';
import { block, KINDS } from './blocks.js';
import { nativeBinding } from './engines.js';

/**
 * The two send engines agree: the native one (sendmmsg batches from the sender's own socket) and the JS one
 * (socket.send per packet) put the same datagrams on the wire, in the same order, for every payload type, with
 * standard and extended ids, paced and unpaced, with simulated loss, and for resends, PACKET_UNAVAILABLE answers
 * and test packets. Captured with a plain dgram socket on loopback.
 */

let rx: dgram.Socket;
let got: Buffer[] = [];

beforeAll(async () => {
  rx = dgram.createSocket('udp4');
  rx.on('message', (m) => got.push(m));
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
  try {
    rx.setRecvBufferSize(4 * 1024 * 1024);
  } catch {
    // the default buffer holds these few packets too
  }
});

afterAll(async () => {
  await new Promise<void>((r) => rx.close(() => r()));
});

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

interface Run {
  blocks: GvspBlock[];
  extendedId?: boolean;
  packetSize?: number;
  bandwidth?: number;
  loss?: LossOptions;
}

/** Sends the blocks, a resend of packets 1..2 of the last, a request for an unknown block and a test packet. */
async function capture(engine: 'js' | 'native', run: Run): Promise<Buffer[]> {
  got = [];
  const options: GvspSenderOptions = {
    engine,
    bindAddress: '127.0.0.1',
    destination: { address: '127.0.0.1', port: rx.address().port },
    extendedId: run.extendedId ?? false,
    packetSize: run.packetSize ?? 600,
    ...(run.bandwidth !== undefined ? { bandwidth: run.bandwidth } : {}),
    ...(run.loss !== undefined ? { loss: run.loss } : {}),
  };
  const sender = await GvspSender.open(options);
  try {
    expect(sender.engine.name).toBe(engine);
    let last = 0n;
    for (const b of run.blocks) last = await sender.sendBlock(b);
    sender.handlePacketResend({ extendedId: sender.extendedId, blockId: last, firstPacketId: 1, lastPacketId: 2 });
    await until(() => sender.stats().resentPackets >= 2 || sender.stats().unavailable > 0);
    sender.handlePacketResend({ extendedId: sender.extendedId, blockId: 999n, firstPacketId: 0, lastPacketId: 0 });
    sender.sendTestPacket();
    const s = sender.stats();
    const expected = s.packets + s.testPackets;
    await until(() => got.length >= expected);
    expect(got.length).toBe(expected);
    return got;
  } finally {
    await sender.close();
  }
}

async function agree(run: Run): Promise<void> {
  const js = await capture('js', run);
  const native = await capture('native', run);
  expect(native.length).toBe(js.length);
  for (let i = 0; i < js.length; i++) expect(Buffer.compare(native[i]!, js[i]!), `datagram ${i}`).toBe(0);
}

describe('send engine selection', () => {
  it("engine: 'js' runs Node's dgram and says so", async () => {
    const s = await GvspSender.open({ engine: 'js', bindAddress: '127.0.0.1' });
    expect(s.engine).toEqual({ name: 'js', reason: "engine: 'js' asked" });
    await s.close();
  });

  it("engine: 'auto' runs native when the addon has sendBatch, js otherwise, and says why", async () => {
    const s = await GvspSender.open({ bindAddress: '127.0.0.1' });
    if (typeof nativeBinding?.sendBatch === 'function') expect(s.engine.name).toBe('native');
    else expect(s.engine.name).toBe('js');
    expect(s.engine.reason.length).toBeGreaterThan(0);
    await s.close();
  });
});

describeInterop(
  'send engines produce byte-identical packet streams',
  { '@cam/gvsp-native (built, with sendBatch)': typeof nativeBinding?.sendBatch === 'function' },
  () => {
    for (const extendedId of [false, true]) {
      for (const kind of KINDS) {
        it(`${kind}, ${extendedId ? 'extended' : 'standard'} ids, with resend`, async () => {
          await agree({ blocks: [block(kind, 1), block(kind, 2)], extendedId });
        });
      }
    }

    it('paced (bandwidth) image blocks of many packets', async () => {
      const image = block('image', 3);
      await agree({ blocks: [image, image, image], packetSize: 100, bandwidth: 2_000_000 });
    });

    it('simulated drop, duplicate and reorder (same seed) on both engines', async () => {
      await agree({
        blocks: [block('image', 4), block('multipart', 5), block('h264', 6)],
        loss: { drop: 0.1, duplicate: 0.1, reorder: 0.1, seed: 7 },
      });
    });

    it('a device socket passed in is the one sent from', async () => {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
      const port = socket.address().port;
      const sources: number[] = [];
      const onMessage = (_m: Buffer, rinfo: dgram.RemoteInfo): void => {
        sources.push(rinfo.port);
      };
      rx.on('message', onMessage);
      got = [];
      const sender = await GvspSender.open({
        engine: 'native',
        socket,
        destination: { address: '127.0.0.1', port: rx.address().port },
      });
      await sender.sendBlock(block('image', 8));
      await until(() => got.length >= sender.stats().packets);
      rx.off('message', onMessage);
      await sender.close();
      await new Promise<void>((r) => socket.close(() => r()));
      expect(sources.length).toBeGreaterThan(0);
      expect(new Set(sources)).toEqual(new Set([port]));
    });
  },
);
