// Attacks on the GVSP receiver (host) and on the simulated device's PACKETRESEND path. Loopback only; the attacker
// sends from 127.0.0.2.
import dgram from 'node:dgram';
import {
  encodeCommand,
  FeatureRegister,
  GvcpClient,
  GvcpDevice,
  StreamChannelRegister,
  streamChannelRegister,
} from '@cam/gvcp';
import { floodInWorker, RSS_SLACK_MIB, rssMiB } from '../../../test-support/attack.js';
import type { AttackScenario } from '../../../test-support/hostile-types.js';
import { attachGvspStreaming, GvspReceiver, imageBlock, PixelFormat, packetiseBlock } from '../src/index.js';

/** Short, lying and random datagrams for a stream port (the 20-byte packet 1 of issue #22 among them). */
export function hostileStreamDatagram(i: number): Uint8Array {
  switch (i % 4) {
    case 0:
      return Uint8Array.of(0, 0, (i >> 8) & 0xff, i & 0xff, 0x03, 0, 0, 1, ...new Array(12).fill(0));
    case 1:
      return crypto.getRandomValues(new Uint8Array(1 + (i % 1400)));
    case 2: {
      // a leader announcing a huge payload, then nothing
      const b = crypto.getRandomValues(new Uint8Array(64));
      b[4] = 0x01;
      return b;
    }
    default: {
      // extended-id payload packet with packet id 0xFFFFFFFF
      const b = new Uint8Array(40);
      b[4] = 0x83;
      b.fill(0xff, 16, 20);
      return b;
    }
  }
}

const send = (s: dgram.Socket, bytes: Uint8Array, port: number): Promise<void> =>
  new Promise((r) => s.send(bytes, port, '127.0.0.1', () => r()));

const receiverFlood: AttackScenario = {
  target: 'GvspReceiver (UDP stream port)',
  attack: 'flood of short, lying and random datagrams, then a real frame once the hostile frames timed out',
  async run({ budget, signal }) {
    const count = budget === 'full' ? 100_000 : 4_000;
    const rx = await GvspReceiver.open({ payloadSize: 64 * 1024, address: '127.0.0.1' });
    const legit = dgram.createSocket('udp4');
    try {
      const before = await rssMiB();
      await floodInWorker({
        module: import.meta.url,
        generator: 'hostileStreamDatagram',
        port: rx.port,
        count,
        ratePerSecond: 20_000,
        signal,
      });
      // The hostile frames hold the receiver's frame slots until they time out: the receiver does not filter by the
      // stream source's address (an open item), so a frame sent during the flood can be lost. Take what the flood
      // left (bounded), then check that a real frame comes through complete after it.
      let leftovers = 0;
      for (let i = 0; i < 64; i++) {
        const f = await rx.nextFrame({ timeoutMs: 1500 }).catch(() => undefined);
        if (!f) break;
        leftovers++;
        f.release();
      }
      const data = new Uint8Array(64 * 64).map((_, i) => i & 0xff);
      const block = imageBlock({ pixelFormat: PixelFormat.Mono8, width: 64, height: 64, data, timestamp: 1n });
      const p = packetiseBlock(block, 0xfff0n, 1500, false);
      for (let id = 0; id < p.packetCount; id++)
        await send(legit, p.bytes.subarray(p.offsets[id]!, p.offsets[id + 1]!), rx.port);
      let delivered = false;
      for (let i = 0; i < 50 && !delivered; i++) {
        const f = await rx.nextFrame({ timeoutMs: 2000 }).catch(() => undefined);
        if (!f) break;
        delivered = f.blockId === 0xfff0n && f.status === 'complete';
        f.release();
      }
      const s = rx.stats();
      const after = await rssMiB(200);
      return {
        survived: delivered && after - before < RSS_SLACK_MIB,
        detail: `${count} datagrams; process alive; ${s.malformedPackets} malformed, ${s.ignoredPackets} ignored; ${leftovers} hostile frames timed out; real frame after it ${delivered ? 'delivered complete' : 'NOT delivered'}`,
        rssBeforeMiB: before,
        rssAfterMiB: after,
      };
    } finally {
      legit.close();
      await rx.close();
    }
  },
};

const resendAmplification: AttackScenario = {
  target: 'GigE device PACKETRESEND (UDP 3956)',
  attack: 'PACKETRESEND for whole blocks from a host that is neither stream host nor control holder',
  async run({ budget, signal }) {
    const count = budget === 'full' ? 20_000 : 1_000;
    const device = await GvcpDevice.start({
      address: '127.0.0.1',
      port: 0,
      width: 320,
      height: 240,
      pixelFormat: 'Mono8',
    });
    const streaming = await attachGvspStreaming(device, { bindAddress: '127.0.0.1', forceFps: 20 });
    const host = dgram.createSocket('udp4');
    await new Promise<void>((r) => host.bind(0, '127.0.0.1', () => r()));
    let received = 0;
    host.on('message', (m) => {
      received += m.byteLength;
    });
    const client = await GvcpClient.connect('127.0.0.1', { port: device.address().port, localAddress: '127.0.0.1' });
    try {
      await client.takeControl();
      await client.writeRegister(streamChannelRegister(0, StreamChannelRegister.SCDA), 0x7f000001);
      await client.writeRegister(streamChannelRegister(0, StreamChannelRegister.SCP), host.address().port);
      await client.writeRegister(streamChannelRegister(0, StreamChannelRegister.SCPS), 1500);
      await client.writeRegister(FeatureRegister.AcquisitionStart, 1);
      // a few frames, so blocks are kept for resends, then quiet
      await new Promise((r) => setTimeout(r, 500));
      await client.writeRegister(FeatureRegister.AcquisitionStop, 1);
      await new Promise((r) => setTimeout(r, 300));
      const before = await rssMiB();
      const baseline = received;
      const sent = await floodInWorker({
        module: import.meta.url,
        generator: 'wholeBlockResend',
        port: device.address().port,
        count,
        ratePerSecond: 10_000,
        signal,
      });
      await new Promise((r) => setTimeout(r, 300));
      const amplified = received - baseline;
      const after = await rssMiB(100);
      return {
        survived: amplified < sent && after - before < RSS_SLACK_MIB,
        detail: `${count} requests (${sent} bytes) -> ${amplified} bytes toward the stream host; ${device.stats.packetResendRefused} refused; ${streaming.framesSent} frames streamed before`,
        rssBeforeMiB: before,
        rssAfterMiB: after,
        amplification: amplified / Math.max(1, sent),
      };
    } finally {
      await client.close();
      await streaming.close();
      host.close();
      await device.close();
    }
  },
};

/** PACKETRESEND of packets 0..all of block (1 + i % 8). */
export function wholeBlockResend(i: number): Uint8Array {
  return encodeCommand({
    type: 'packetresend',
    reqId: (i % 0xfffe) + 1,
    ackRequired: false,
    extendedId: false,
    streamChannel: 0,
    blockId: BigInt(1 + (i % 8)),
    firstPacketId: 0,
    lastPacketId: 0xffffff,
  });
}

const scenarios: AttackScenario[] = [receiverFlood, resendAmplification];
export default scenarios;
