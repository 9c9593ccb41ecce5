import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodePacket, encodeSearchDatagram } from '../src/codec/packets.js';
import { RawHost, type Rig, startRig, until } from './helpers.js';

/** Regression tests of issue #22 (Huidu items): each reproduces the attack against the device on loopback. */

let rig: Rig | undefined;
const sockets: Socket[] = [];
const raws: RawHost[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const r of raws.splice(0)) r.close();
  await rig?.close();
  rig = undefined;
});

/** A TCP connection from a chosen loopback source address (127.0.0.x), resolved once connected. */
function connectFrom(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
    s.on('error', () => {});
    s.once('error', reject);
    sockets.push(s);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('item 3: ReDoS body', () => {
  it('a 2 MiB SetTimeInfo of <time inside CDATA answers kInvalidParam and the device keeps serving', {
    timeout: 20_000,
  }, async () => {
    rig = await startRig();
    const attacker = await rig.connect();
    const legit = await rig.connect();
    const body = `<![CDATA[${'<time '.repeat(340_000)}]]>`;
    const attack = attacker.call('SetTimeInfo', body).then(
      () => 'kSuccess',
      (e: { result?: string }) => e.result,
    );
    expect((await legit.call('GetTimeInfo')).result).toBe('kSuccess');
    expect(await attack).toBe('kInvalidParam');
  });
});

describe('item 4: slow connections cannot lock out the device', () => {
  it('64 trickling connections from 8 sources: a legitimate host is served during and after', {
    timeout: 20_000,
  }, async () => {
    rig = await startRig({ packetTimeoutMs: 400, handshakeTimeoutMs: 800 });
    const port = rig.device.port;
    const attackers: Socket[] = [];
    for (let src = 2; src < 10; src++) {
      for (let k = 0; k < 8; k++) attackers.push(await connectFrom(port, `127.0.0.${src}`));
    }
    // A ninth connection from a source that already has 8 is refused at once.
    const extra = await connectFrom(port, '127.0.0.2');
    await until(() => extra.destroyed || extra.readableEnded);
    expect(rig.device.stats.refusedPerSource).toBe(1);
    // Each attacker announces a 9 KiB SDK call packet, then sends one byte of it now and then.
    const header = new Uint8Array([0x00, 0x24, 0x03, 0x20]);
    for (const a of attackers) a.write(header);
    const trickle = setInterval(() => {
      for (const a of attackers) if (!a.destroyed) a.write(new Uint8Array(1));
    }, 100);
    try {
      // During: the device is full of attackers; each legitimate connect evicts one still in its handshake.
      for (let i = 0; i < 3; i++) {
        const c = await rig.connect();
        expect((await c.call('GetDeviceInfo')).result).toBe('kSuccess');
      }
      expect(rig.device.stats.evictedConnections).toBeGreaterThan(0);
      // The trickle never completes a packet: every attacker is closed by the packet deadline.
      await until(() => attackers.every((a) => a.destroyed || a.readableEnded), 10_000);
      const { slowPackets, evictedConnections, handshakeTimeouts } = rig.device.stats;
      expect(slowPackets).toBeGreaterThan(0);
      expect(slowPackets + evictedConnections + handshakeTimeouts).toBeGreaterThanOrEqual(64);
    } finally {
      clearInterval(trickle);
    }
    const after = await rig.connect();
    expect((await after.call('GetDeviceInfo')).result).toBe('kSuccess');
  });

  it('whole heartbeats without a handshake do not keep a connection: the handshake deadline closes it', {
    timeout: 20_000,
  }, async () => {
    rig = await startRig({ handshakeTimeoutMs: 300 });
    const r = await RawHost.connect(rig.device.port);
    raws.push(r);
    const beat = setInterval(() => r.send({ type: 'kTcpHeartbeatAsk' }), 50);
    try {
      await r.waitClosed();
    } finally {
      clearInterval(beat);
    }
    expect(rig.device.stats.handshakeTimeouts).toBe(1);
  });

  it('a negotiated host dribbling one packet byte by byte is closed by the packet deadline', async () => {
    rig = await startRig({ packetTimeoutMs: 300 });
    const r = await RawHost.connect(rig.device.port);
    raws.push(r);
    await r.handshake();
    const bytes = encodePacket({ type: 'kSDKServiceAsk', version: 0x1000007 });
    let i = 0;
    const drip = setInterval(() => {
      if (i < bytes.byteLength - 1) r.send(bytes.subarray(i, ++i));
    }, 100);
    try {
      await r.waitClosed();
    } finally {
      clearInterval(drip);
    }
    expect(rig.device.stats.slowPackets).toBe(1);
  });

  it('a slow but steady host (whole packets) is not dropped', { timeout: 20_000 }, async () => {
    rig = await startRig({ packetTimeoutMs: 400, hostSilenceMs: 600 });
    const c = await rig.connect();
    for (let i = 0; i < 5; i++) {
      await sleep(300);
      expect((await c.call('GetDeviceInfo')).result).toBe('kSuccess');
    }
  });
});

describe('UDP search reflection', () => {
  it('a flood of 6-byte asks is answered with fewer bytes than it sent (amplification < 1x)', async () => {
    rig = await startRig();
    const udp = createSocket('udp4');
    let received = 0;
    udp.on('message', (m) => {
      received += m.byteLength;
    });
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const ask = encodeSearchDatagram({ type: 'kSearchDeviceAsk', version: 0x1000007 });
    let sent = 0;
    try {
      for (let i = 0; i < 500; i++) {
        await new Promise<void>((r) => udp.send(ask, rig!.device.udpPort, '127.0.0.1', () => r()));
        sent += ask.byteLength;
      }
      // Loopback UDP drops part of a burst (the socket buffer): wait for a good share, then for answers in flight.
      await until(() => rig!.device.stats.searchAnswers + rig!.device.stats.searchAsksLimited >= 200);
      await sleep(200);
    } finally {
      udp.close();
    }
    expect(received).toBeGreaterThan(0); // the first asks were answered: search still works
    expect(received / sent).toBeLessThan(1);
    expect(rig.device.stats.searchAsksLimited).toBeGreaterThan(150);
  });

  it('still answers a host that searches now and then', async () => {
    rig = await startRig({ deviceId: 'SIM-0002' });
    const { SdkClient } = await import('../src/transport/client.js');
    for (let i = 0; i < 3; i++) {
      const found = await SdkClient.search({ address: '127.0.0.1', port: rig.device.udpPort, waitMs: 200 });
      expect(found.map((f) => f.deviceId)).toEqual(['SIM-0002']);
      await sleep(500);
    }
  });
});
