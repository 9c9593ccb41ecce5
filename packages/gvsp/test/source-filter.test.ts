import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { GvspReceiver, type GvspReceiverOptions, imageBlock, PixelFormat, packetiseBlock } from '../src/index.js';
import { acceptsStreamSource, StreamSource } from '../src/transport/receive-loop.js';
import { nativeBinding } from './engines.js';

// Issue #22: a receiver opened for a device accepts stream packets only from the device's address, so a flood from
// another address can neither fill the frame slots nor displace a real frame. Attackers send from 127.0.0.2.

describe('acceptsStreamSource / StreamSource', () => {
  it('accepts the expected source only, and anyone while none is expected', () => {
    expect(acceptsStreamSource('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(acceptsStreamSource('127.0.0.1', '127.0.0.2')).toBe(false);
    expect(acceptsStreamSource(undefined, '127.0.0.2')).toBe(true);
  });

  it('defaults to the device, follows setDevice, learns once, and keeps an explicit choice', () => {
    const fromDevice = new StreamSource(undefined, { address: '10.0.0.5' });
    expect(fromDevice.expected).toBe('10.0.0.5');
    fromDevice.learn('10.0.0.9');
    expect(fromDevice.expected).toBe('10.0.0.5');
    fromDevice.setDevice('10.0.0.6');
    expect(fromDevice.expected).toBe('10.0.0.6');

    const learning = new StreamSource(undefined, undefined);
    expect(learning.expected).toBeUndefined();
    learning.learn('10.0.0.7');
    learning.learn('10.0.0.8');
    expect(learning.expected).toBe('10.0.0.7');

    const any = new StreamSource('any', { address: '10.0.0.5' });
    any.learn('10.0.0.7');
    any.setDevice('10.0.0.6');
    expect(any.expected).toBeUndefined();

    const fixed = new StreamSource('10.0.0.1', { address: '10.0.0.5' });
    fixed.setDevice('10.0.0.6');
    expect(fixed.expected).toBe('10.0.0.1');
  });
});

function bound(address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((r) => s.bind(0, address, () => r(s)));
}

const send = (s: dgram.Socket, bytes: Uint8Array, port: number): Promise<void> =>
  new Promise((r) => s.send(bytes, port, '127.0.0.1', () => r()));

function frame(blockId: bigint, fill: number) {
  const data = new Uint8Array(64 * 64).map((_, i) => (i + fill) & 0xff);
  const block = imageBlock({ pixelFormat: PixelFormat.Mono8!, width: 64, height: 64, data, timestamp: 1n });
  return { data, packets: packetiseBlock(block, blockId, 576, false) };
}

async function sendFrame(s: dgram.Socket, port: number, f: ReturnType<typeof frame>): Promise<void> {
  for (let id = 0; id < f.packets.packetCount; id++)
    await send(s, f.packets.bytes.subarray(f.packets.offsets[id]!, f.packets.offsets[id + 1]!), port);
}

const variants: [string, Partial<GvspReceiverOptions>][] = [
  ['js engine', { engine: 'js' }],
  ['js engine in a worker', { engine: 'js', worker: true }],
  ...(nativeBinding ? ([['native engine', { engine: 'native' }]] as [string, Partial<GvspReceiverOptions>][]) : []),
];

describe.each(variants)('GvspReceiver source filtering (%s)', (_, engine) => {
  it('a receiver opened for a device drops frames from elsewhere, counts them, and delivers the real frame sent during the flood', async () => {
    await using rx = await GvspReceiver.open({
      payloadSize: 64 * 1024,
      address: '127.0.0.1',
      device: { address: '127.0.0.1' },
      ...engine,
    });
    const attacker = await bound('127.0.0.2');
    const camera = await bound('127.0.0.1');
    try {
      // interleaved: eight whole hostile frames (more than the receiver's slots), the real one, eight more
      for (let b = 1; b <= 8; b++) await sendFrame(attacker, rx.port, frame(BigInt(b), 99));
      const real = frame(100n, 0);
      await sendFrame(camera, rx.port, real);
      for (let b = 9; b <= 16; b++) await sendFrame(attacker, rx.port, frame(BigInt(b), 99));
      const got = await rx.nextFrame({ timeoutMs: 5000 });
      expect(got?.blockId).toBe(100n);
      expect(got?.status).toBe('complete');
      expect(got?.data).toEqual(real.data);
      got?.release();
      // the rest of the flood may still wait in the socket (same process): every packet is counted, none completes
      for (let i = 0; i < 100 && rx.stats().foreignSourcePackets < 16 * real.packets.packetCount; i++)
        await new Promise((r) => setTimeout(r, 20));
      const stats = rx.stats();
      expect(stats.foreignSourcePackets).toBe(16 * real.packets.packetCount);
      expect(stats.completedFrames).toBe(1);
    } finally {
      attacker.close();
      camera.close();
    }
  });

  it("without a device, learns the first well-formed packet's sender; garbage first is not learnt", async () => {
    await using rx = await GvspReceiver.open({ payloadSize: 64 * 1024, address: '127.0.0.1', ...engine });
    const attacker = await bound('127.0.0.2');
    const camera = await bound('127.0.0.1');
    try {
      if (engine.engine !== 'native') await send(attacker, Uint8Array.of(1, 2, 3), rx.port); // malformed: not learnt
      const real = frame(7n, 0);
      await sendFrame(camera, rx.port, real);
      const got = await rx.nextFrame({ timeoutMs: 5000 });
      expect(got?.blockId).toBe(7n);
      got?.release();
      await sendFrame(attacker, rx.port, frame(8n, 1));
      await sendFrame(camera, rx.port, frame(9n, 2));
      const next = await rx.nextFrame({ timeoutMs: 5000 });
      expect(next?.blockId).toBe(9n);
      next?.release();
      expect(rx.stats().foreignSourcePackets).toBe(real.packets.packetCount);
    } finally {
      attacker.close();
      camera.close();
    }
  });

  it("sourceAddress 'any' accepts every sender", async () => {
    await using rx = await GvspReceiver.open({
      payloadSize: 64 * 1024,
      address: '127.0.0.1',
      device: { address: '127.0.0.1' },
      sourceAddress: 'any',
      ...engine,
    });
    const other = await bound('127.0.0.2');
    try {
      await sendFrame(other, rx.port, frame(3n, 0));
      const got = await rx.nextFrame({ timeoutMs: 5000 });
      expect(got?.blockId).toBe(3n);
      got?.release();
      expect(rx.stats().foreignSourcePackets).toBe(0);
    } finally {
      other.close();
    }
  });
});
