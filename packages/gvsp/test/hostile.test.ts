import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import {
  encodePacketResend,
  GvspReassembler,
  GvspReceiver,
  GvspSender,
  imageBlock,
  PixelFormat,
  packetiseBlock,
} from '../src/index.js';

// Issue #22 item 1: `00 00 00 05 03 00 00 01` + 12 zero bytes to a receiver that learns its packet size.
const KILLER = Uint8Array.from([0x00, 0x00, 0x00, 0x05, 0x03, 0x00, 0x00, 0x01, ...new Array(12).fill(0)]);

function send(port: number, bytes: Uint8Array): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) =>
    s.send(bytes, port, '127.0.0.1', (e) => {
      s.close();
      if (e) reject(e);
      else resolve();
    }),
  );
}

describe('a 20-byte payload packet 1 (issue #22, item 1)', () => {
  it('is counted, not thrown, by a reassembler learning its packet size', () => {
    const engine = new GvspReassembler({ payloadSize: 4096 }, { requestResend() {}, frameReady() {} });
    expect(() => engine.handlePacket(KILLER, KILLER.byteLength)).not.toThrow();
    // the data of packet 1 lands at offset 0 whatever the packet size; too small to learn a size from
    expect(engine.dataSize).toBe(0);
    expect(engine.get('receivedPackets')).toBe(1);
  });

  for (const worker of [false, true]) {
    it(`leaves a ${worker ? 'worker' : 'main-thread'} receiver alive and receiving`, async () => {
      await using rx = await GvspReceiver.open({ payloadSize: 4096, address: '127.0.0.1', worker });
      for (let i = 0; i < 5; i++) {
        const killer = KILLER.slice();
        killer[3] = 5 + i; // five blocks, so none is a duplicate
        await send(rx.port, killer);
      }
      // packet 1 far too short to be a full packet, of another block
      await send(rx.port, Uint8Array.from([0, 0, 0, 11, 3, 0, 0, 1, 1, 2, 3]));
      // then a real frame, which must be delivered complete
      const data = new Uint8Array(32 * 32).map((_, i) => i & 0xff);
      const block = imageBlock({ pixelFormat: PixelFormat.Mono8, width: 32, height: 32, data, timestamp: 1n });
      const packets = packetiseBlock(block, 12n, 576, false);
      for (let id = 0; id < packets.packetCount; id++) {
        await send(rx.port, packets.bytes.subarray(packets.offsets[id]!, packets.offsets[id + 1]!));
      }
      let frame = await rx.nextFrame({ timeoutMs: 5000 });
      while (frame && frame.blockId !== 12n) {
        frame.release();
        frame = await rx.nextFrame({ timeoutMs: 5000 });
      }
      expect(frame?.status).toBe('complete');
      expect(frame?.data).toEqual(data);
      frame?.release();
      expect(rx.stats().receivedPackets).toBe(6 + packets.packetCount);
    });
  }
});

describe('PACKETRESEND amplification (issue #22, item 5)', () => {
  it('resends within a share of the stream, never a whole block synchronously, only for the stream host', async () => {
    const host = dgram.createSocket('udp4');
    await new Promise<void>((r) => host.bind(0, '127.0.0.1', () => r()));
    let received = 0;
    host.on('message', (m) => {
      received += m.byteLength;
    });
    await using sender = await GvspSender.open({
      bindAddress: '127.0.0.1',
      destination: { address: '127.0.0.1', port: host.address().port },
      packetSize: 1500,
      resendPort: 0,
    });
    const data = new Uint8Array(64 * 1024);
    for (let i = 0; i < 4; i++)
      await sender.sendImage({ pixelFormat: PixelFormat.Mono8, width: 256, height: 256, data, timestamp: 1n });
    const streamBytes = sender.stats().bytes;
    // a privileged host asks for every packet of every block, 500 times
    for (let i = 0; i < 500; i++) {
      sender.handlePacketResend({
        extendedId: false,
        blockId: BigInt(1 + (i % 4)),
        firstPacketId: 0,
        lastPacketId: 0xffffff,
      });
      expect(sender.stats().resentPackets).toBe(0); // queued, not sent in the caller's turn
    }
    const deadline = Date.now() + 5000;
    // the pump drains the queue a batch per turn: wait until nothing moves any more
    let last = -1;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      const now = sender.stats().resentPackets + sender.stats().throttledPackets;
      if (now === last) break;
      last = now;
    }
    const s = sender.stats();
    expect(s.resentPackets).toBeGreaterThan(0);
    expect(s.throttledPackets).toBeGreaterThan(0);
    // resent bytes stay within the share (0.5) of what the stream itself sent
    expect(s.bytes - streamBytes).toBeLessThanOrEqual(streamBytes * 0.5 + 1500);

    // the resend socket answers the stream host's address only
    const attacker = dgram.createSocket('udp4');
    await new Promise<void>((r) => attacker.bind(0, '127.0.0.2', () => r()));
    const cmd = encodePacketResend({
      reqId: 1,
      ackRequired: false,
      extendedId: false,
      streamChannel: 0,
      blockId: 1n,
      firstPacketId: 0,
      lastPacketId: 10,
    });
    for (let i = 0; i < 20; i++)
      await new Promise<void>((r) => attacker.send(cmd, sender.resendPort!, '127.0.0.1', () => r()));
    for (let i = 0; i < 100 && sender.stats().refusedRequests < 20; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sender.stats().refusedRequests).toBe(20);
    await new Promise<void>((r) => attacker.close(() => r()));
    await new Promise<void>((r) => host.close(() => r()));
    expect(received).toBeGreaterThan(0);
  });
});

describe('stream packets from the camera address but another source port (issue #22, cam gige stream row)', () => {
  const frame = packetiseBlock(
    imageBlock({
      pixelFormat: PixelFormat.Mono8,
      width: 64,
      height: 64,
      data: new Uint8Array(64 * 64).map((_, i) => i & 0xff),
      timestamp: 1n,
    }),
    7n,
    1500,
    false,
  );
  const packet = (id: number): Uint8Array => frame.bytes.slice(frame.offsets[id]!, frame.offsets[id + 1]!);

  for (const variant of ['js', 'js-worker', 'native'] as const) {
    it(`${variant}: with sourcePort (the camera's SCSP) they are dropped as foreign and the real frame completes`, async () => {
      const camera = dgram.createSocket('udp4');
      const other = dgram.createSocket('udp4');
      await new Promise<void>((r) => camera.bind(0, '127.0.0.1', () => r()));
      await new Promise<void>((r) => other.bind(0, '127.0.0.1', () => r()));
      try {
        await using rx = await GvspReceiver.open({
          payloadSize: 64 * 64,
          address: '127.0.0.1',
          device: { address: '127.0.0.1' },
          sourcePort: camera.address().port,
          engine: variant === 'native' ? 'native' : 'js',
          worker: variant === 'js-worker',
        });
        expect(rx.engine.name).toBe(variant === 'native' ? 'native' : 'js');
        const sendFrom = (s: dgram.Socket, b: Uint8Array): Promise<void> =>
          new Promise((r) => s.send(b, rx.port, '127.0.0.1', () => r()));
        // before the fix these reached the engine: a leader of the same block announcing 0xFFFFFFFF x 0xFFFFFFFF,
        // a trailer, and the killer packet 1 of the same block, from the camera's address
        const lying = packet(0);
        lying.fill(0xff, 24, 32);
        for (let i = 0; i < 20; i++) {
          await sendFrom(other, lying);
          await sendFrom(other, packet(frame.packetCount - 1));
          await sendFrom(other, Uint8Array.from([0, 0, 0, 7, 3, 0, 0, 1, ...new Array(12).fill(0)]));
        }
        for (let id = 0; id < frame.packetCount; id++) await sendFrom(camera, packet(id));
        const f = await rx.nextFrame({ timeoutMs: 5000 });
        if (!f) throw new Error('no frame');
        expect(f.blockId).toBe(7n);
        expect(f.status).toBe('complete');
        expect(f.data.every((v, k) => v === (k & 0xff))).toBe(true);
        f.release();
        // counted in the stats only once they arrived; loopback does not lose 60 datagrams here
        expect(rx.stats().foreignSourcePackets).toBe(60);
        expect(rx.stats().malformedPackets).toBe(0);
      } finally {
        camera.close();
        other.close();
      }
    });
  }
});
