import { createSocket, type Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { floodInWorker } from '../../../test-support/attack.js';
import { BootstrapRegister, decodeAck, encodeCommand, GvcpClient, GvcpDevice, GvcpStatus } from '../src/index.js';

// Issue #22: a flood of datagrams made the legitimate host lose control. Root cause: the device spent several times
// more per hostile datagram than the sender (a typed error with a stack trace per datagram, an INVALID_HEADER
// answer per datagram) on a default-sized socket queue (~200 KiB), so the kernel's queue overflowed and dropped
// datagrams without looking at them, the control holder's heartbeats among them (4 tries lost -> the client gives
// up; 3 s without a heartbeat -> the device drops the holder). Now bad datagrams are counted without building
// errors, error answers to non-holders are budgeted, and the device asks for a 4 MiB queue.

const bound = (address: string): Promise<Socket> =>
  new Promise((r) => {
    const s = createSocket('udp4');
    s.bind(0, address, () => r(s));
  });

describe('GVCP device under a datagram flood', () => {
  it('the control holder keeps control and every read while another host floods as fast as it can', async () => {
    await using device = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    const port = device.address().port;
    await using client = await GvcpClient.connect('127.0.0.1', { port, localAddress: '127.0.0.1' });
    const lost: string[] = [];
    client.on('control-lost', (e) => lost.push(e.message));
    await client.takeControl();
    let flooding = true;
    const errors: string[] = [];
    let reads = 0;
    const legit = (async () => {
      while (flooding) {
        try {
          await client.readRegister(BootstrapRegister.CCP, { timeoutMs: 3000 });
          reads++;
        } catch (e) {
          errors.push((e as Error).message);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // lying lengths, truncations, random bytes (the attack suite's generator), no rate limit
    const sent = await floodInWorker({
      module: new URL('../attack/scenarios.ts', import.meta.url).href,
      generator: 'hostileDatagram',
      port,
      count: Number(process.env.CAM_FLOOD_COUNT ?? 1_000_000),
    });
    flooding = false;
    await legit;
    expect(sent).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    expect(lost).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(device.stats.heartbeatTimeouts).toBe(0);
    expect(device.control.primary?.address).toBe('127.0.0.1');
    // the flood was seen and counted, and mostly not answered
    expect(device.stats.badDatagrams).toBeGreaterThan(0);
    expect(device.stats.errorAcksSuppressed).toBeGreaterThan(0);
  }, 120_000);

  it('answers bad datagrams of non-holders within errorAcksPerSecond, the holder always', async () => {
    await using device = await GvcpDevice.start({ address: '127.0.0.1', port: 0, errorAcksPerSecond: 0 });
    const port = device.address().port;
    await using client = await GvcpClient.connect('127.0.0.1', { port, localAddress: '127.0.0.1' });
    await client.takeControl();
    const holder = await bound('127.0.0.1');
    const other = await bound('127.0.0.2');
    // a READREG whose length field lies (says 8 bytes, carries 4)
    const lying = encodeCommand({ type: 'readreg', reqId: 7, ackRequired: true, addresses: [0x0a00] });
    lying[5] = 8;
    const answers: { from: string; status: number }[] = [];
    for (const s of [holder, other]) {
      s.on('message', (m) => answers.push({ from: s.address().address, status: decodeAck(m).status }));
    }
    try {
      // the holder's own socket is another port of the holder's address: the privilege is per address
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((r) => other.send(lying, port, '127.0.0.1', () => r()));
        await new Promise<void>((r) => holder.send(lying, port, '127.0.0.1', () => r()));
      }
      for (let i = 0; i < 100 && answers.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
      // a valid command from the other host afterwards is still answered
      await new Promise<void>((r) =>
        other.send(
          encodeCommand({ type: 'readreg', reqId: 9, ackRequired: true, addresses: [0x0a00] }),
          port,
          '127.0.0.1',
          () => r(),
        ),
      );
      for (let i = 0; i < 100 && answers.length < 6; i++) await new Promise((r) => setTimeout(r, 20));
      expect(answers.filter((a) => a.from === '127.0.0.1')).toEqual(
        new Array(5).fill({ from: '127.0.0.1', status: GvcpStatus.INVALID_HEADER }),
      );
      expect(answers.filter((a) => a.from === '127.0.0.2')).toEqual([
        { from: '127.0.0.2', status: GvcpStatus.SUCCESS },
      ]);
      expect(device.stats.errorAcksSuppressed).toBe(5);
      expect(device.stats.badDatagrams).toBe(10);
    } finally {
      holder.close();
      other.close();
    }
  });

  it('still reports each bad datagram with its typed error to a badDatagram listener', async () => {
    await using device = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    const seen: string[] = [];
    device.on('badDatagram', (b) => seen.push((b.error as Error).name));
    const s = await bound('127.0.0.2');
    try {
      const lying = encodeCommand({ type: 'readreg', reqId: 7, ackRequired: true, addresses: [0x0a00] });
      lying[5] = 8;
      await new Promise<void>((r) => s.send(lying, device.address().port, '127.0.0.1', () => r()));
      await new Promise<void>((r) => s.send(Uint8Array.of(1, 2, 3), device.address().port, '127.0.0.1', () => r()));
      for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual(['TruncatedError', 'WireError']);
    } finally {
      s.close();
    }
  });
});
