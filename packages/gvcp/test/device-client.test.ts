import { afterEach, describe, expect, it } from 'vitest';
import {
  BootstrapRegister as B,
  discover,
  FeatureRegister as F,
  fetchGenicamXml,
  GvcpClient,
  GvcpConfigurationBits,
  GvcpDevice,
  type GvcpDeviceOptions,
  GvcpStatus,
  GvcpStatusError,
  openMessageChannel,
  PixelFormat,
  sendAction,
} from '../src/index.js';

/** Our host side (GvcpClient and friends) against our device side, on 127.0.0.1. */
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

async function pair(options: GvcpDeviceOptions = {}): Promise<{ dev: GvcpDevice; client: GvcpClient; port: number }> {
  const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, serialNumber: 'PAIR1', ...options });
  cleanup.push(() => dev.close());
  const port = dev.address().port;
  const client = await GvcpClient.connect('127.0.0.1', { port, tryTimeoutMs: 300 });
  cleanup.push(() => client.close());
  return { dev, client, port };
}

describe('GvcpClient against GvcpDevice', () => {
  it('unicast discovery and deviceInfo show the device identity', async () => {
    const { client, port } = await pair({ modelName: 'PairModel' });
    const found = await discover({ address: '127.0.0.1', port, timeoutMs: 1000 });
    expect(found).toMatchObject([{ serialNumber: 'PAIR1', modelName: 'PairModel', address: '127.0.0.1', port }]);
    expect(await client.deviceInfo()).toMatchObject({ serialNumber: 'PAIR1', ip: '127.0.0.1' });
  });

  it('reads and writes many registers per packet, and memory of any length', async () => {
    const { dev, client } = await pair();
    await client.takeControl();
    await client.writeRegisters([
      { address: F.Width, value: 800 },
      { address: F.Height, value: 600 },
      { address: F.PixelFormat, value: PixelFormat.Mono16 },
    ]);
    expect(await client.readRegisters([F.Width, F.Height, F.PixelFormat, F.PayloadSize])).toEqual([
      800,
      600,
      PixelFormat.Mono16,
      800 * 600 * 2,
    ]);
    const block = 0x0020_0000;
    dev.registers.defineBlock({ address: block, length: 4096, name: 'scratch' });
    const data = Uint8Array.from({ length: 2000 }, (_, i) => (i * 7) & 0xff);
    await client.writeMemory(block, data);
    expect(Buffer.from(await client.readMemory(block, 2000)).equals(Buffer.from(data))).toBe(true);
    const e = await client.writeRegister(B.VERSION, 1).catch((x: unknown) => x);
    expect(GvcpStatusError.isInstance(e) && e.statusName).toBe('WRITE_PROTECT');
    await client.releaseControl();
    expect(dev.control.primary).toBeUndefined();
  });

  it('fetchGenicamXml downloads the XML we serve, plain and zipped', async () => {
    for (const genicamZip of [false, true]) {
      const { dev, client } = await pair({ genicamZip });
      const file = await fetchGenicamXml(client);
      expect(file.xml).toBe(dev.genicamXml);
      expect(file.url).toMatch(genicamZip ? /\.zip;/ : /\.xml;/);
    }
  });

  it('a second client may monitor but not write; exclusive access keeps it out', async () => {
    const { client, port } = await pair();
    const other = await GvcpClient.connect('127.0.0.1', { port, tryTimeoutMs: 300, retries: 0 });
    cleanup.push(() => other.close());
    await client.takeControl();
    expect(await other.readRegister(F.Width)).toBe(640);
    const w = await other.writeRegister(F.Width, 32).catch((x: unknown) => x);
    expect(GvcpStatusError.isInstance(w) && w.code).toBe(GvcpStatus.ACCESS_DENIED);
    await client.takeControl({ mode: 'exclusive' });
    const r = await other.readRegister(F.Width).catch((x: unknown) => x);
    expect(GvcpStatusError.isInstance(r) && r.code).toBe(GvcpStatus.ACCESS_DENIED);
  });

  it('switchover: the client with the key takes control, the first one learns it lost it', async () => {
    const { dev, client, port } = await pair({ minHeartbeatTimeoutMs: 100 });
    await client.takeControl({ allowSwitchover: true, switchoverKey: 0x4242, heartbeatMs: 50 });
    const other = await GvcpClient.connect('127.0.0.1', { port, tryTimeoutMs: 300 });
    cleanup.push(() => other.close());
    const lost = new Promise((resolve) => client.once('control-lost', resolve));
    await other.takeControl({ mode: 'switchover', switchoverKey: 0x4242 });
    expect(dev.control.primary?.port).toBe(other.localAddress.port);
    await lost;
  });

  it('the client heartbeat keeps control past the device heartbeat timeout', async () => {
    const { dev, client } = await pair({ minHeartbeatTimeoutMs: 100 });
    await client.takeControl();
    // 1 s (not less): the device and the client share this process, so a stall of the event loop on a loaded
    // machine delays the heartbeat and the device's timeout check alike; 1 s leaves ~650 ms of room for that.
    await client.writeRegister(B.HEARTBEAT_TIMEOUT, 1000);
    await client.takeControl(); // re-reads the timeout: heartbeat every ~333 ms
    await new Promise((r) => setTimeout(r, 2500));
    expect(dev.control.primary?.port).toBe(client.localAddress.port);
    expect(dev.stats.heartbeatTimeouts).toBe(0);
  });

  it('PENDING_ACK lets the client wait longer than its per-try timeout', async () => {
    const { dev, client } = await pair({ pendingTimeoutMs: 50, pendingAckTimeMs: 400 });
    dev.registers.define({
      address: 0xb000,
      access: 'RO',
      read: () => new Promise<number>((r) => setTimeout(() => r(99), 700)),
    });
    await client.takeControl();
    await client.writeRegister(B.GVCP_CONFIGURATION, GvcpConfigurationBits.PENDING_ACK_ENABLE);
    expect(await client.readRegister(0xb000, { tryTimeoutMs: 200, retries: 0 })).toBe(99);
    expect(client.stats.pendingAcks).toBeGreaterThan(0);
    expect(dev.stats.pendingAcksSent).toBeGreaterThan(0);
  });

  it('events reach the message channel and are acknowledged', async () => {
    const { dev, client } = await pair();
    await client.takeControl();
    const channel = await openMessageChannel(client, { transmissionTimeoutMs: 100, retryCount: 2 });
    cleanup.push(() => channel.close());
    const delivery = dev.sendEvent({ eventId: 0x9005, data: Uint8Array.of(9, 8, 7, 6) });
    const it = channel[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toMatchObject({ type: 'eventdata', event: { eventId: 0x9005 } });
    expect(await delivery).toMatchObject({ sent: true, acknowledged: true, attempts: 1 });
  });

  it('sendAction collects the ACTION_ACK of a matching device', async () => {
    const { dev, client, port } = await pair();
    await client.takeControl();
    await client.writeRegisters([
      { address: B.ACTION_DEVICE_KEY, value: 0xcafe },
      { address: 0x9800, value: 7 },
      { address: 0x9804, value: 0xffffffff },
    ]);
    const fired: number[] = [];
    dev.on('action', (a) => fired.push(a.signal));
    const acks = await sendAction({
      address: '127.0.0.1',
      port,
      deviceKey: 0xcafe,
      groupKey: 7,
      groupMask: 1,
      timeoutMs: 500,
    });
    expect(acks).toMatchObject([{ address: '127.0.0.1', port, status: GvcpStatus.SUCCESS }]);
    expect(fired).toEqual([0]);
    expect(
      await sendAction({ address: '127.0.0.1', port, deviceKey: 0xbad, groupKey: 7, groupMask: 1, timeoutMs: 200 }),
    ).toEqual([]);
  });
});
