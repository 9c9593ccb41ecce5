import { createSocket } from 'node:dgram';
import { toHex } from '@cam/net-utils';
import { unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BootstrapRegister as B,
  decodeAck,
  decodeAckHeader,
  decodeCommand,
  encodeAck,
  FeatureRegister as F,
  GENICAM_FILE_ADDRESS,
  GvcpCapability,
  GvcpConfigurationBits,
  GvcpDevice,
  type GvcpDeviceOptions,
  GvcpDeviceStatusError,
  GvcpStatus,
  PixelFormat,
  parseGenicamUrl,
  RetransmitCache,
  StreamChannelRegister as SC,
  streamChannelRegister,
  TEST_EVENT_ID,
  urlFromRegister,
} from '../src/index.js';
import { RawHost } from './fixtures/device/raw-host.js';

const opened: Array<{ close(): Promise<void> }> = [];

async function device(options: GvcpDeviceOptions = {}): Promise<{ dev: GvcpDevice; port: number }> {
  const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, serialNumber: 'UNIT1', ...options });
  opened.push(dev);
  return { dev, port: dev.address().port };
}

async function host(): Promise<RawHost> {
  const h = await RawHost.open();
  opened.push(h);
  return h;
}

afterEach(async () => {
  vi.useRealTimers();
  while (opened.length > 0) await opened.pop()?.close();
});

async function readRegs(h: RawHost, port: number, addresses: number[]) {
  const ack = await h.request(port, { type: 'readreg', addresses });
  if (ack.type !== 'readreg' && ack.type !== 'error') throw new Error(`unexpected ${ack.type}`);
  return ack;
}

async function writeRegs(h: RawHost, port: number, writes: Array<{ address: number; value: number }>) {
  const ack = await h.request(port, { type: 'writereg', writes });
  if (ack.type !== 'writereg' && ack.type !== 'error') throw new Error(`unexpected ${ack.type}`);
  return ack;
}

async function takeControl(h: RawHost, port: number, value = 0x2): Promise<void> {
  const ack = await writeRegs(h, port, [{ address: B.CCP, value }]);
  expect(ack.status).toBe(GvcpStatus.SUCCESS);
}

describe('GvcpDevice: discovery and bootstrap', () => {
  it('answers DISCOVERY with its bootstrap registers as DeviceInfo', async () => {
    const { port } = await device({
      manufacturerName: 'Acme',
      modelName: 'Sim',
      mac: '02:11:22:33:44:55',
      userDefinedName: 'left',
    });
    const h = await host();
    const ack = await h.request(port, { type: 'discovery', allowBroadcastAck: true });
    expect(ack.type).toBe('discovery');
    if (ack.type !== 'discovery') return;
    expect(ack.device).toMatchObject({
      specVersionMajor: 2,
      specVersionMinor: 0,
      mac: '02:11:22:33:44:55',
      ip: '127.0.0.1',
      subnetMask: '255.0.0.0',
      manufacturerName: 'Acme',
      modelName: 'Sim',
      serialNumber: 'UNIT1',
      userDefinedName: 'left',
    });
    expect(ack.device.deviceMode >>> 31).toBe(1);
  });

  it('reads bootstrap registers, several per READREG, and the capability says what it does', async () => {
    const { port } = await device({ mac: '02:00:00:00:00:07' });
    const h = await host();
    const ack = await readRegs(h, port, [
      B.DEVICE_MAC_ADDRESS_HIGH,
      B.DEVICE_MAC_ADDRESS_LOW,
      B.HEARTBEAT_TIMEOUT,
      B.GVCP_CAPABILITY,
    ]);
    expect(ack.status).toBe(GvcpStatus.SUCCESS);
    if (ack.type !== 'readreg') return;
    expect(ack.values.slice(0, 3)).toEqual([0x0200, 0x07, 3000]);
    const cap = ack.values[3]!;
    for (const bit of [
      GvcpCapability.CONCATENATION,
      GvcpCapability.WRITEMEM,
      GvcpCapability.PENDING_ACK,
      GvcpCapability.ACTION,
      GvcpCapability.EVENT,
    ]) {
      expect(cap & bit).toBe(bit);
    }
  });

  it('serves its GenICam XML through the first URL register and READMEM', async () => {
    const { dev, port } = await device();
    const h = await host();
    const urlAck = await h.request(port, { type: 'readmem', address: B.FIRST_URL, count: 512 });
    if (urlAck.type !== 'readmem') throw new Error(urlAck.type);
    const url = parseGenicamUrl(urlFromRegister(urlAck.data));
    expect(url).toMatchObject({
      scheme: 'local',
      address: GENICAM_FILE_ADDRESS,
      schemaVersion: '1.1.0',
      zipped: false,
    });
    if (url.scheme !== 'local') return;
    const parts: Uint8Array[] = [];
    for (let off = 0; off < url.size; off += 512) {
      const n = Math.ceil(Math.min(512, url.size - off) / 4) * 4;
      const a = await h.request(port, { type: 'readmem', address: url.address + off, count: n });
      if (a.type !== 'readmem') throw new Error(a.type);
      parts.push(a.data);
    }
    const xml = new TextDecoder().decode(Buffer.concat(parts).subarray(0, url.size));
    expect(xml).toBe(dev.genicamXml);
    for (const name of [
      'Width',
      'Height',
      'OffsetX',
      'OffsetY',
      'PixelFormat',
      'AcquisitionMode',
      'AcquisitionStart',
      'AcquisitionStop',
      'ExposureTime',
      'Gain',
      'TestPattern',
      'TLParamsLocked',
      'GevSCPSPacketSize',
      'GevSCPD',
      'DeviceVendorName',
      'DeviceModelName',
      'DeviceVersion',
      'DeviceID',
      'DeviceSerialNumber',
      'DeviceUserID',
      'GevHeartbeatTimeout',
      'GevCCP',
      'GevMCDA',
    ]) {
      expect(xml).toContain(`Name="${name}"`);
    }
    expect(xml).toContain('<Port Name="Device"');
    expect(xml).toContain('<Category Name="Root">');
  });

  it('its GenICam XML is self-consistent and matches the register map', async () => {
    const { dev } = await device({ actionSignals: 3 });
    const xml = dev.genicamXml;
    const names = [...xml.matchAll(/<(\w+) Name="([^"]+)"/g)]
      .filter((m) => m[1] !== 'EnumEntry' && m[1] !== 'pVariable')
      .map((m) => m[2]!);
    expect(new Set(names).size).toBe(names.length);
    // Every reference names a node that exists.
    for (const m of xml.matchAll(/<(p\w+)(?: [^>]*)?>([^<]+)<\/p\w+>/g))
      expect(names, `${m[1]} -> ${m[2]}`).toContain(m[2]);
    // Every register node points at registers the device has, with an access mode the device honours.
    const regs = [...xml.matchAll(/<(IntReg|MaskedIntReg|FloatReg|StringReg) Name="([^"]+)">([\s\S]*?)<\/\1>/g)];
    expect(regs.length).toBeGreaterThan(40);
    for (const [, kind, name, body] of regs) {
      if (!body!.includes('<pPort>Device</pPort>')) continue; // chunk data ports
      const address = Number(/<Address>(0x[0-9A-F]+)<\/Address>/i.exec(body!)?.[1]);
      const length = Number(/<Length>(\d+)<\/Length>/.exec(body!)?.[1]);
      const access = /<AccessMode>(\w+)<\/AccessMode>/.exec(body!)?.[1];
      expect(Number.isInteger(address) && length > 0, `${kind} ${name}`).toBe(true);
      for (let a = address; a < address + length; a += 4) {
        const info = dev.registers.lookup(a);
        expect(info, `${name} at 0x${a.toString(16)}`).toBeDefined();
        if (access === 'RO') expect(info?.access === 'WO', name).toBe(false);
        if (access === 'RW') expect(info?.access, name).toBe('RW');
        if (access === 'WO') expect(info?.access === 'RO', name).toBe(false);
      }
    }
  });

  it('serves a zipped GenICam file when asked', async () => {
    const { dev, port } = await device({ genicamZip: true });
    const h = await host();
    const urlAck = await h.request(port, { type: 'readmem', address: B.FIRST_URL, count: 512 });
    if (urlAck.type !== 'readmem') throw new Error(urlAck.type);
    const url = parseGenicamUrl(urlFromRegister(urlAck.data));
    if (url.scheme !== 'local') throw new Error(url.scheme);
    expect(url.zipped).toBe(true);
    const parts: Uint8Array[] = [];
    for (let off = 0; off < url.size; off += 512) {
      const a = await h.request(port, {
        type: 'readmem',
        address: url.address + off,
        count: Math.ceil(Math.min(512, url.size - off) / 4) * 4,
      });
      if (a.type !== 'readmem') throw new Error(a.type);
      parts.push(a.data);
    }
    const files = unzipSync(Buffer.concat(parts).subarray(0, url.size));
    expect(new TextDecoder().decode(Object.values(files)[0])).toBe(dev.genicamXml);
  });
});

describe('GvcpDevice: register access', () => {
  it('writes several registers in one WRITEREG and reads them back', async () => {
    const { dev, port } = await device();
    const h = await host();
    await takeControl(h, port);
    const w = await writeRegs(h, port, [
      { address: F.Width, value: 320 },
      { address: F.Height, value: 240 },
      { address: F.PixelFormat, value: PixelFormat.RGB8 },
    ]);
    expect(w).toMatchObject({ type: 'writereg', status: GvcpStatus.SUCCESS, index: 3 });
    const r = await readRegs(h, port, [F.Width, F.Height, F.PixelFormat, F.PayloadSize]);
    expect(r).toMatchObject({ status: GvcpStatus.SUCCESS, values: [320, 240, PixelFormat.RGB8, 320 * 240 * 3] });
    expect(dev.imageFormat()).toMatchObject({ width: 320, height: 240, payloadSize: 230400 });
    await writeRegs(h, port, [{ address: F.ExposureTime, value: 0x447a0000 }]); // 1000.0f
    expect(dev.acquisitionSettings()).toMatchObject({ exposureTime: 1000, gain: 0, frameRate: 10, mode: 0 });
    expect((await writeRegs(h, port, [{ address: F.Gain, value: 0x7fc00000 }])).status).toBe(
      GvcpStatus.INVALID_PARAMETER,
    ); // NaN
  });

  it('stops a WRITEREG at the first failing register and reports its index', async () => {
    const { dev, port } = await device();
    const h = await host();
    await takeControl(h, port);
    const w = await writeRegs(h, port, [
      { address: F.Width, value: 100 },
      { address: B.VERSION, value: 1 }, // read-only
      { address: F.Height, value: 100 },
    ]);
    expect(w).toMatchObject({ type: 'writereg', status: GvcpStatus.WRITE_PROTECT, index: 1 });
    expect(dev.registers.get(F.Width)).toBe(100);
    expect(dev.registers.get(F.Height)).toBe(480);
    const bad = await writeRegs(h, port, [{ address: 0x7000_0000, value: 1 }]);
    expect(bad).toMatchObject({ status: GvcpStatus.INVALID_ADDRESS, index: 0 });
    const mis = await writeRegs(h, port, [{ address: F.Width + 2, value: 1 }]);
    expect(mis.status).toBe(GvcpStatus.BAD_ALIGNMENT);
    const range = await writeRegs(h, port, [{ address: F.Width, value: 100_000 }]);
    expect(range.status).toBe(GvcpStatus.INVALID_PARAMETER);
  });

  it('stops a READREG at the first failing register, returning the values read before it', async () => {
    const { port } = await device();
    const h = await host();
    const r = await readRegs(h, port, [B.VERSION, B.HEARTBEAT_TIMEOUT, 0x0123_4560, B.CCP]);
    expect(r.status).toBe(GvcpStatus.INVALID_ADDRESS);
    expect(r.type === 'readreg' ? r.values : []).toEqual([0x0002_0000, 3000]);
    const mis = await readRegs(h, port, [0x0002]);
    expect(mis.status).toBe(GvcpStatus.BAD_ALIGNMENT);
  });

  it('WRITEMEM writes blocks (the user-defined name) and READMEM reads across registers', async () => {
    const { dev, port } = await device();
    const h = await host();
    await takeControl(h, port);
    const name = new Uint8Array(16);
    name.set(new TextEncoder().encode('north-gate'));
    const w = await h.request(port, { type: 'writemem', address: B.USER_DEFINED_NAME, data: name });
    expect(w).toMatchObject({ type: 'writemem', status: GvcpStatus.SUCCESS, index: 16 });
    const disc = await h.request(port, { type: 'discovery', allowBroadcastAck: false });
    expect(disc.type === 'discovery' && disc.device.userDefinedName).toBe('north-gate');
    const r = await h.request(port, { type: 'readmem', address: 0x0000, count: 16 });
    expect(r.type === 'readmem' && toHex(r.data)).toBe(
      toHex(dev.registers.getBytes(0, 4)) +
        toHex(new Uint8Array([0x80, 0, 0, 1])) +
        toHex(dev.registers.getBytes(8, 4)) +
        toHex(dev.registers.getBytes(12, 4)),
    );
    const ro = await h.request(port, { type: 'writemem', address: B.MODEL_NAME, data: new Uint8Array(8) });
    expect(ro).toMatchObject({ status: GvcpStatus.WRITE_PROTECT, index: 0 });
    const mis = await h.request(port, { type: 'readmem', address: 0x0002, count: 4 });
    expect(mis.status).toBe(GvcpStatus.BAD_ALIGNMENT);
    const hole = await h.request(port, { type: 'readmem', address: 0x0800, count: 8 });
    expect(hole.status).toBe(GvcpStatus.INVALID_ADDRESS);
    const big = await h.request(port, { type: 'readmem', address: 0, count: 540 });
    expect(big.status).toBe(GvcpStatus.INVALID_PARAMETER);
  });

  it('lets user code define registers and blocks, listen to writes and refuse values', async () => {
    const { dev, port } = await device();
    const h = await host();
    let counter = 0;
    dev.registers.define({ address: 0xb000, name: 'Counter', access: 'RO', read: () => ++counter });
    dev.registers.define({
      address: 0xb004,
      name: 'Even',
      write: (v) => {
        if (v % 2) throw new GvcpDeviceStatusError(GvcpStatus.INVALID_PARAMETER, 'odd');
        return v / 2;
      },
    });
    dev.registers.defineBlock({ address: 0xb100, length: 8, read: (off, len) => new Uint8Array(len).fill(0xa0 + off) });
    const seen: number[] = [];
    dev.onWrite(0xb004, (v) => seen.push(v));
    await takeControl(h, port);
    expect(await readRegs(h, port, [0xb000, 0xb000])).toMatchObject({ values: [1, 2] });
    expect(await writeRegs(h, port, [{ address: 0xb004, value: 8 }])).toMatchObject({ status: GvcpStatus.SUCCESS });
    expect(dev.registers.get(0xb004)).toBe(4);
    expect(seen).toEqual([8]);
    expect(await writeRegs(h, port, [{ address: 0xb004, value: 3 }])).toMatchObject({
      status: GvcpStatus.INVALID_PARAMETER,
    });
    const mem = await h.request(port, { type: 'readmem', address: 0xb100, count: 8 });
    expect(mem.type === 'readmem' && Array.from(mem.data)).toEqual(new Array(8).fill(0xa0));
    expect(() => dev.registers.define({ address: 0xb004 })).toThrow(/overlaps/);
    expect(dev.registers.undefine(0xb004)).toBe(true);
    expect((await readRegs(h, port, [0xb004])).status).toBe(GvcpStatus.INVALID_ADDRESS);
  });

  it('answers unknown commands with NOT_IMPLEMENTED and device-bound EVENTs too', async () => {
    const { dev, port } = await device();
    const h = await host();
    await h.sendRaw(Uint8Array.from([0x42, 0x01, 0x12, 0x34, 0, 0, 0, 9]), port);
    const a = await h.next();
    expect(decodeAckHeader(a!.bytes)).toEqual({
      status: GvcpStatus.NOT_IMPLEMENTED,
      ackCode: 0x1235,
      length: 0,
      ackId: 9,
    });
    const e = await h.request(port, {
      type: 'event',
      extendedId: false,
      events: [{ eventId: 1, streamChannel: 0, blockId: 0n, timestamp: 0n }],
    });
    expect(e.status).toBe(GvcpStatus.NOT_IMPLEMENTED);
    expect(dev.stats.notImplemented).toBe(2);
  });

  it('enforces TLParamsLocked on the payload-defining features', async () => {
    const { port } = await device();
    const h = await host();
    await takeControl(h, port);
    await writeRegs(h, port, [{ address: F.TLParamsLocked, value: 1 }]);
    expect((await writeRegs(h, port, [{ address: F.Width, value: 64 }])).status).toBe(GvcpStatus.WRITE_PROTECT);
    expect((await writeRegs(h, port, [{ address: F.Gain, value: 0x40000000 }])).status).toBe(GvcpStatus.SUCCESS);
    await writeRegs(h, port, [{ address: F.TLParamsLocked, value: 0 }]);
    expect((await writeRegs(h, port, [{ address: F.Width, value: 64 }])).status).toBe(GvcpStatus.SUCCESS);
  });
});

describe('GvcpDevice: privileges', () => {
  it('gives control to one application; others may read but not write', async () => {
    const { dev, port } = await device();
    const a = await host();
    const b = await host();
    expect((await writeRegs(b, port, [{ address: F.Width, value: 64 }])).status).toBe(GvcpStatus.ACCESS_DENIED);
    await takeControl(a, port);
    expect(dev.control.primary).toMatchObject({ address: '127.0.0.1', port: a.port, privilege: 'control' });
    expect((await readRegs(a, port, [B.CCP, B.PRIMARY_APPLICATION_PORT])).type === 'readreg').toBe(true);
    expect(
      await readRegs(b, port, [B.CCP, B.PRIMARY_APPLICATION_PORT, B.PRIMARY_APPLICATION_IP_ADDRESS]),
    ).toMatchObject({
      status: GvcpStatus.SUCCESS,
      // Another application reads CCP as 0 (it holds nothing); who holds control is in 0x0A04/0x0A14.
      values: [0, a.port, 0x7f000001],
    });
    expect((await writeRegs(b, port, [{ address: B.CCP, value: 2 }])).status).toBe(GvcpStatus.ACCESS_DENIED);
    expect((await writeRegs(b, port, [{ address: F.Width, value: 64 }])).status).toBe(GvcpStatus.ACCESS_DENIED);
    expect(
      (await b.request(port, { type: 'writemem', address: B.USER_DEFINED_NAME, data: new Uint8Array(4) })).status,
    ).toBe(GvcpStatus.ACCESS_DENIED);
    expect((await writeRegs(a, port, [{ address: F.Width, value: 64 }])).status).toBe(GvcpStatus.SUCCESS);
    // Release: the other one may take control now.
    await takeControl(a, port, 0);
    expect(dev.control.primary).toBeUndefined();
    await takeControl(b, port);
    expect(dev.control.primary?.port).toBe(b.port);
  });

  it('exclusive access keeps even readers out, but not DISCOVERY', async () => {
    const { port } = await device();
    const a = await host();
    const b = await host();
    await takeControl(a, port, 0x1);
    expect((await readRegs(b, port, [B.VERSION])).status).toBe(GvcpStatus.ACCESS_DENIED);
    expect((await b.request(port, { type: 'readmem', address: 0, count: 4 })).status).toBe(GvcpStatus.ACCESS_DENIED);
    expect((await b.request(port, { type: 'discovery', allowBroadcastAck: false })).type).toBe('discovery');
    expect((await readRegs(a, port, [B.CCP])).type === 'readreg').toBe(true);
  });

  it('switchover: another application with the right key takes control', async () => {
    const { dev, port } = await device();
    const a = await host();
    const b = await host();
    const changes: string[] = [];
    dev.on('controlChange', (c) => changes.push(c.reason));
    await takeControl(a, port, 0x2 | 0x4);
    await writeRegs(a, port, [{ address: B.CONTROL_SWITCHOVER_KEY, value: 0xbeef }]);
    expect((await writeRegs(b, port, [{ address: B.CCP, value: (0x1234 << 16) | 0x2 }])).status).toBe(
      GvcpStatus.ACCESS_DENIED,
    );
    expect((await writeRegs(b, port, [{ address: B.CCP, value: ((0xbeef << 16) | 0x2) >>> 0 }])).status).toBe(
      GvcpStatus.SUCCESS,
    );
    expect(dev.control.primary?.port).toBe(b.port);
    expect((await writeRegs(a, port, [{ address: F.Width, value: 64 }])).status).toBe(GvcpStatus.ACCESS_DENIED);
    expect(changes).toEqual(['granted', 'taken-over']);
  });

  it('drops control when the heartbeat times out (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const { dev, port } = await device();
    const h = await host();
    const reasons: string[] = [];
    dev.on('controlChange', (c) => reasons.push(c.reason));
    await takeControl(h, port);
    await writeRegs(h, port, [
      { address: B.MCP, value: 5000 },
      { address: B.MCDA, value: 0x7f000001 },
    ]);
    vi.advanceTimersByTime(2500);
    // Any command is a heartbeat.
    expect((await readRegs(h, port, [B.CCP])).status).toBe(GvcpStatus.SUCCESS);
    vi.advanceTimersByTime(2500);
    expect(dev.control.primary).toBeDefined();
    vi.advanceTimersByTime(600);
    expect(dev.control.primary).toBeUndefined();
    expect(reasons).toEqual(['granted', 'heartbeat-timeout']);
    expect(dev.stats.heartbeatTimeouts).toBe(1);
    // The channels the application opened are closed with it.
    expect(dev.registers.get(B.MCP)).toBe(0);
    expect((await writeRegs(h, port, [{ address: F.Width, value: 64 }])).status).toBe(GvcpStatus.ACCESS_DENIED);
  });

  it('keeps control without heartbeat when the host disables it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const { dev, port } = await device();
    const h = await host();
    await takeControl(h, port);
    await writeRegs(h, port, [{ address: B.GVCP_CONFIGURATION, value: GvcpConfigurationBits.HEARTBEAT_DISABLE }]);
    vi.advanceTimersByTime(60_000);
    expect(dev.control.primary).toBeDefined();
  });

  it('raises a too small heartbeat timeout to its minimum', async () => {
    const { port } = await device({ minHeartbeatTimeoutMs: 500 });
    const h = await host();
    await takeControl(h, port);
    await writeRegs(h, port, [{ address: B.HEARTBEAT_TIMEOUT, value: 10 }]);
    expect(await readRegs(h, port, [B.HEARTBEAT_TIMEOUT])).toMatchObject({ values: [500] });
  });
});

describe('RetransmitCache', () => {
  it('matches only the same sender, req_id and bytes, and forgets the least recently used sender', () => {
    const cache = new RetransmitCache(2);
    const a = cache.begin('a:1', 5, Uint8Array.of(1, 2, 3));
    a.ack = Uint8Array.of(9);
    expect(cache.match('a:1', 5, Uint8Array.of(1, 2, 3))?.ack).toEqual(Uint8Array.of(9));
    expect(cache.match('a:1', 6, Uint8Array.of(1, 2, 3))).toBeUndefined();
    expect(cache.match('a:1', 5, Uint8Array.of(1, 2, 4))).toBeUndefined();
    expect(cache.match('a:2', 5, Uint8Array.of(1, 2, 3))).toBeUndefined();
    cache.begin('b:1', 1, Uint8Array.of(1));
    cache.begin('a:1', 6, Uint8Array.of(7)); // a is now the most recent
    cache.begin('c:1', 1, Uint8Array.of(1)); // evicts b
    expect(cache.size).toBe(2);
    expect(cache.match('b:1', 1, Uint8Array.of(1))).toBeUndefined();
    expect(cache.match('a:1', 6, Uint8Array.of(7))).toBeDefined();
  });
});

describe('GvcpDevice: reliability', () => {
  it('answers a retransmitted request from its cache without executing it twice', async () => {
    const { dev, port } = await device();
    const h = await host();
    await takeControl(h, port);
    let writes = 0;
    dev.registers.define({ address: 0xb000, write: () => void writes++ });
    const bytes = await h.send(port, { type: 'writereg', writes: [{ address: 0xb000, value: 1 }], reqId: 777 });
    const first = await h.next();
    await h.sendRaw(bytes, port);
    const second = await h.next();
    expect(first && second && toHex(second.bytes)).toBe(first && toHex(first.bytes));
    expect(writes).toBe(1);
    expect(dev.stats.retransmissionsAnswered).toBe(1);
    // Same id, different bytes: a new command.
    await h.send(port, { type: 'writereg', writes: [{ address: 0xb000, value: 2 }], reqId: 777 });
    expect((await h.ack()).status).toBe(GvcpStatus.SUCCESS);
    expect(writes).toBe(2);
  });

  it('sends PENDING_ACK for a slow handler when enabled, then the real ack', async () => {
    const { dev, port } = await device({ pendingTimeoutMs: 20, pendingAckTimeMs: 200 });
    const h = await host();
    dev.registers.define({
      address: 0xb000,
      access: 'RO',
      read: () => new Promise<number>((resolve) => setTimeout(() => resolve(42), 120)),
    });
    // Disabled: no PENDING_ACK.
    const slow1 = await readRegs(h, port, [0xb000]);
    expect(slow1).toMatchObject({ values: [42] });
    await takeControl(h, port);
    await writeRegs(h, port, [{ address: B.GVCP_CONFIGURATION, value: GvcpConfigurationBits.PENDING_ACK_ENABLE }]);
    const sent = await h.send(port, { type: 'readreg', addresses: [0xb000] });
    const reqId = decodeCommand(sent).reqId;
    const pending = await h.ack();
    expect(pending).toMatchObject({ type: 'pending', ackId: reqId, timeToCompletion: 200 });
    expect(await h.ack()).toMatchObject({ type: 'readreg', ackId: reqId, values: [42] });
    expect(dev.stats.pendingAcksSent).toBe(1);
    // A retransmission while the command still runs is not executed again: it gets another PENDING_ACK.
    let reads = 0;
    dev.registers.define({
      address: 0xb004,
      access: 'RO',
      read: () => new Promise<number>((resolve) => setTimeout(() => resolve(++reads), 150)),
    });
    const again = await h.send(port, { type: 'readreg', addresses: [0xb004] });
    await h.sendRaw(again, port);
    const answers = [await h.ack(), await h.ack(), await h.ack()];
    expect(answers.map((a) => a.type).sort()).toEqual(['pending', 'pending', 'readreg']);
    expect(answers.find((a) => a.type === 'readreg')).toMatchObject({ values: [1] });
    expect(reads).toBe(1);
    expect(dev.stats.retransmissionsWhileBusy).toBe(1);
  });

  it('answers DISCOVERY while a slow command is running', async () => {
    const { dev, port } = await device();
    const h = await host();
    const other = await host();
    dev.registers.define({
      address: 0xb000,
      access: 'RO',
      read: () => new Promise<number>((r) => setTimeout(() => r(1), 150)),
    });
    await h.send(port, { type: 'readreg', addresses: [0xb000] });
    expect((await other.request(port, { type: 'discovery', allowBroadcastAck: false })).type).toBe('discovery');
    expect(await h.ack()).toMatchObject({ type: 'readreg', values: [1] });
  });

  it('counts and drops bad datagrams and keeps answering', async () => {
    const { dev, port } = await device();
    const h = await host();
    await h.sendRaw(new Uint8Array([1, 2, 3]), port);
    await h.sendRaw(new Uint8Array(600).fill(0x42), port);
    // Valid header, READMEM with a wrong payload length: INVALID_HEADER.
    await h.sendRaw(Uint8Array.from([0x42, 0x01, 0x00, 0x84, 0x00, 0x04, 0x00, 0x05, 0, 0, 0, 0]), port);
    const a = await h.ack();
    expect(a).toMatchObject({ status: GvcpStatus.INVALID_HEADER, ackId: 5 });
    expect((await h.request(port, { type: 'discovery', allowBroadcastAck: false })).type).toBe('discovery');
    expect(dev.stats.badDatagrams).toBe(3);
  });
});

describe('GvcpDevice: ACTION, events, PACKETRESEND, FORCEIP, acquisition', () => {
  it('acknowledges ACTION only when device key and a group key/mask match', async () => {
    const { dev, port } = await device();
    const h = await host();
    await takeControl(h, port);
    await writeRegs(h, port, [
      { address: B.ACTION_DEVICE_KEY, value: 0x1234 },
      { address: 0x9800, value: 0x10 },
      { address: 0x9804, value: 0x0f },
      { address: 0x9810, value: 0x20 },
      { address: 0x9814, value: 0xf0 },
    ]);
    const fired: number[] = [];
    dev.on('action', (s) => fired.push(s.signal));
    expect(await h.request(port, { type: 'action', deviceKey: 0x1234, groupKey: 0x20, groupMask: 0x10 })).toMatchObject(
      {
        type: 'action',
        status: GvcpStatus.SUCCESS,
      },
    );
    expect(fired).toEqual([1]);
    await h.send(port, { type: 'action', deviceKey: 0x1234, groupKey: 0x20, groupMask: 0x01 });
    await h.send(port, { type: 'action', deviceKey: 0x9999, groupKey: 0x10, groupMask: 0x01 });
    expect(await h.next(300)).toBeUndefined();
    expect(dev.stats.actionsIgnored).toBe(2);
    const late = await h.request(port, {
      type: 'action',
      deviceKey: 0x1234,
      groupKey: 0x10,
      groupMask: 0x01,
      actionTime: 1n,
    });
    expect(late.status).toBe(GvcpStatus.ACTION_LATE);
    const later = dev.timestamp() + 50_000_000n;
    expect(
      (await h.request(port, { type: 'action', deviceKey: 0x1234, groupKey: 0x10, groupMask: 0x01, actionTime: later }))
        .status,
    ).toBe(GvcpStatus.SUCCESS);
    await new Promise((r) => setTimeout(r, 120));
    expect(fired).toEqual([1, 0, 0]);
  });

  it('sends events on the message channel and retries until acknowledged', async () => {
    const { dev, port } = await device();
    const h = await host();
    const mc = createSocket('udp4');
    opened.push({ close: () => new Promise<void>((r) => mc.close(() => r())) });
    await new Promise<void>((r) => mc.bind(0, '127.0.0.1', r));
    const received: Array<{ type: string; reqId: number }> = [];
    mc.on('message', (msg, rinfo) => {
      const cmd = decodeCommand(new Uint8Array(msg));
      received.push({ type: cmd.type, reqId: cmd.reqId });
      // Ignore the first copy of each event to exercise the retry.
      if (received.filter((r) => r.reqId === cmd.reqId).length < 2) return;
      const ack = encodeAck({
        type: cmd.type === 'event' ? 'event' : 'eventdata',
        ackId: cmd.reqId,
        status: GvcpStatus.SUCCESS,
      });
      mc.send(ack, rinfo.port, rinfo.address);
    });
    const closed = await dev.sendEvent({ eventId: 0x9001 });
    expect(closed).toEqual({ sent: false, acknowledged: false, attempts: 0 });
    await takeControl(h, port);
    await writeRegs(h, port, [
      { address: B.MCP, value: mc.address().port },
      { address: B.MCDA, value: 0x7f000001 },
      { address: B.MCTT, value: 50 },
      { address: B.MCRC, value: 3 },
    ]);
    expect(await dev.sendEvent({ eventId: 0x9001, data: Uint8Array.of(1, 2, 3, 4) })).toEqual({
      sent: true,
      acknowledged: true,
      attempts: 2,
    });
    // The TestEventGenerate command sends the test event.
    await writeRegs(h, port, [{ address: F.TestEventGenerate, value: 1 }]);
    await vi.waitFor(() => expect(received.filter((r) => r.type === 'event')).toHaveLength(2), { timeout: 2000 });
    expect(dev.stats.eventRetries).toBeGreaterThanOrEqual(2);
    expect(TEST_EVENT_ID).toBe(0x9000);
    const mcsp = await readRegs(h, port, [B.MCSP]);
    expect(mcsp.type === 'readreg' && mcsp.values[0]).toBeGreaterThan(0);
  });

  it('gives up on an event after MCRC retries', async () => {
    const { dev, port } = await device();
    const h = await host();
    const silent = await host();
    await takeControl(h, port);
    await writeRegs(h, port, [
      { address: B.MCP, value: silent.port },
      { address: B.MCDA, value: 0x7f000001 },
      { address: B.MCTT, value: 20 },
      { address: B.MCRC, value: 2 },
    ]);
    expect(await dev.sendEvent({ eventId: 1 })).toEqual({ sent: true, acknowledged: false, attempts: 3 });
    expect(silent.pending).toBe(3);
  });

  it('hands PACKETRESEND to listeners and never acknowledges it', async () => {
    const { dev, port } = await device();
    const h = await host();
    const got: bigint[] = [];
    dev.on('packetResend', (cmd) => got.push(cmd.blockId));
    // only the stream host or the control holder may ask (issue #22): this host holds control
    await takeControl(h, port);
    await h.send(port, {
      type: 'packetresend',
      ackRequired: false,
      extendedId: false,
      streamChannel: 0,
      blockId: 7n,
      firstPacketId: 1,
      lastPacketId: 3,
    });
    await h.send(port, {
      type: 'packetresend',
      ackRequired: true,
      extendedId: true,
      streamChannel: 0,
      blockId: 1n << 40n,
      firstPacketId: 1,
      lastPacketId: 3,
    });
    expect(await h.next(200)).toBeUndefined();
    expect(got).toEqual([7n, 1n << 40n]);
  });

  it('FORCEIP for its MAC changes the IP configuration and drops control; others are ignored', async () => {
    const applied: string[] = [];
    const { dev, port } = await device({ mac: '02:aa:bb:cc:dd:ee', applyIpConfig: (c) => void applied.push(c.ip) });
    const h = await host();
    await takeControl(h, port);
    await h.send(port, {
      type: 'forceip',
      allowBroadcastAck: false,
      mac: '02:00:00:00:00:01',
      ip: '10.1.2.3',
      mask: '255.255.0.0',
      gateway: '0.0.0.0',
    });
    expect(await h.next(200)).toBeUndefined();
    const ack = await h.request(port, {
      type: 'forceip',
      allowBroadcastAck: true,
      mac: '02:AA:BB:CC:DD:EE',
      ip: '10.1.2.3',
      mask: '255.255.0.0',
      gateway: '10.1.0.1',
    });
    expect(ack).toMatchObject({ type: 'forceip', status: GvcpStatus.SUCCESS });
    expect(dev.ipConfig).toEqual({ ip: '10.1.2.3', subnetMask: '255.255.0.0', gateway: '10.1.0.1' });
    expect(applied).toEqual(['10.1.2.3']);
    expect(dev.control.primary).toBeUndefined();
    const disc = await h.request(port, { type: 'discovery', allowBroadcastAck: false });
    expect(disc.type === 'discovery' && disc.device.ip).toBe('10.1.2.3');
    // Nonsense configurations are refused and change nothing.
    for (const [ip, mask] of [
      ['10.1.2.3', '255.0.255.0'],
      ['10.1.2.255', '255.255.255.0'],
      ['224.0.0.1', '255.255.255.0'],
      ['10.1.2.3', '0.0.0.0'],
    ] as const) {
      const refused = await h.request(port, {
        type: 'forceip',
        allowBroadcastAck: false,
        mac: '02:aa:bb:cc:dd:ee',
        ip,
        mask,
        gateway: '0.0.0.0',
      });
      expect(refused.status).toBe(GvcpStatus.INVALID_PARAMETER);
    }
    expect(dev.ipConfig.ip).toBe('10.1.2.3');
    // 0.0.0.0 restarts the IP configuration: back to the start-up address.
    await h.request(port, {
      type: 'forceip',
      allowBroadcastAck: false,
      mac: '02:aa:bb:cc:dd:ee',
      ip: '0.0.0.0',
      mask: '0.0.0.0',
      gateway: '0.0.0.0',
    });
    expect(dev.ipConfig.ip).toBe('127.0.0.1');
  });

  it('announces AcquisitionStart/Stop and keeps the stream channel registers', async () => {
    const { dev, port } = await device();
    const h = await host();
    const log: string[] = [];
    dev.on('acquisitionStart', () => log.push('start'));
    dev.on('acquisitionStop', (s) => log.push(`stop:${s.reason}`));
    await takeControl(h, port);
    const sc = (r: number) => streamChannelRegister(0, r);
    await writeRegs(h, port, [
      { address: sc(SC.SCDA), value: 0x7f000001 },
      { address: sc(SC.SCP), value: 40000 },
      { address: sc(SC.SCPS), value: 0x4000_0000 | 1400 },
      { address: sc(SC.SCPD), value: 1000 },
      { address: F.AcquisitionStart, value: 1 },
    ]);
    expect(dev.acquiring).toBe(true);
    expect(dev.streamChannel(0)).toMatchObject({
      hostAddress: '127.0.0.1',
      hostPort: 40000,
      packetSize: 1400,
      doNotFragment: true,
      packetDelay: 1000,
    });
    expect(await readRegs(h, port, [sc(SC.SCPS), F.AcquisitionStart, F.AcquisitionStatus])).toMatchObject({
      values: [0x4000_0000 | 1400, 0, 1],
    });
    await writeRegs(h, port, [{ address: F.AcquisitionStop, value: 1 }]);
    await writeRegs(h, port, [{ address: F.AcquisitionStart, value: 1 }]);
    await takeControl(h, port, 0);
    expect(log).toEqual(['start', 'stop:command', 'start', 'stop:control-lost']);
    expect(dev.streamChannel(0).hostPort).toBe(0);
  });
});

describe('GvcpDevice: bootstrap behaviour', () => {
  it('latches and resets the timestamp, hides write-only registers, fires test packets, delays discovery', async () => {
    const { dev, port } = await device();
    const h = await host();
    await takeControl(h, port);
    await new Promise((r) => setTimeout(r, 20));
    await writeRegs(h, port, [{ address: B.TIMESTAMP_CONTROL, value: 2 }]);
    const t1 = await readRegs(h, port, [B.TIMESTAMP_VALUE_HIGH, B.TIMESTAMP_VALUE_LOW, B.TIMESTAMP_TICK_FREQUENCY_LOW]);
    if (t1.type !== 'readreg') throw new Error(t1.type);
    const first = (BigInt(t1.values[0]!) << 32n) | BigInt(t1.values[1]!);
    expect(first).toBeGreaterThan(0n);
    expect(t1.values[2]).toBe(1_000_000_000);
    await writeRegs(h, port, [{ address: B.TIMESTAMP_CONTROL, value: 3 }]); // reset, then latch
    const t2 = await readRegs(h, port, [B.TIMESTAMP_VALUE_HIGH, B.TIMESTAMP_VALUE_LOW]);
    const second = t2.type === 'readreg' ? (BigInt(t2.values[0]!) << 32n) | BigInt(t2.values[1]!) : -1n;
    expect(second).toBeLessThan(first);
    // Write-only registers cannot be read back.
    for (const a of [B.TIMESTAMP_CONTROL, B.CONTROL_SWITCHOVER_KEY, B.ACTION_DEVICE_KEY]) {
      expect((await readRegs(h, port, [a])).status).toBe(GvcpStatus.INVALID_ADDRESS);
    }
    // SCPS bit 31 fires one test packet and does not stick; a packet size out of range is refused.
    const fired: number[] = [];
    dev.on('fireTestPacket', (e) => fired.push(e.streamChannel));
    const scps = streamChannelRegister(0, SC.SCPS);
    await writeRegs(h, port, [{ address: scps, value: (0x8000_0000 | 1500) >>> 0 }]);
    expect(fired).toEqual([0]);
    expect(await readRegs(h, port, [scps])).toMatchObject({ values: [1500] });
    expect((await writeRegs(h, port, [{ address: scps, value: 100 }])).status).toBe(GvcpStatus.INVALID_PARAMETER);
    // The discovery ACK delay spreads answers over up to that many ms.
    await writeRegs(h, port, [{ address: B.DISCOVERY_ACK_DELAY, value: 150 }]);
    expect((await h.request(port, { type: 'discovery', allowBroadcastAck: false })).type).toBe('discovery');
    // Current IP configuration keeps LLA on and only supported bits.
    await writeRegs(h, port, [{ address: B.CURRENT_IP_CONFIGURATION, value: 0xff }]);
    expect(await readRegs(h, port, [B.CURRENT_IP_CONFIGURATION])).toMatchObject({ values: [0x7] });
    await writeRegs(h, port, [{ address: B.CURRENT_IP_CONFIGURATION, value: 0x1 }]);
    expect(await readRegs(h, port, [B.CURRENT_IP_CONFIGURATION])).toMatchObject({ values: [0x5] });
  });
});

describe('GvcpDevice: lifecycle', () => {
  it('rejects listen on a taken port and closes idempotently', async () => {
    const { port } = await device();
    const second = new GvcpDevice({ address: '127.0.0.1', port });
    await expect(second.listen()).rejects.toThrow(/EADDRINUSE/);
    await second.close();
    await second.close();
  });

  it('supports await using', async () => {
    let port = 0;
    {
      await using dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
      port = dev.address().port;
    }
    const h = await host();
    await h.send(port, { type: 'discovery', allowBroadcastAck: false });
    expect(await h.next(200)).toBeUndefined();
  });

  it('closes when its AbortSignal aborts', async () => {
    const ac = new AbortController();
    const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, signal: ac.signal });
    const port = dev.address().port;
    ac.abort();
    const h = await host();
    await h.send(port, { type: 'discovery', allowBroadcastAck: false });
    expect(await h.next(200)).toBeUndefined();
    await expect(new GvcpDevice({ signal: AbortSignal.abort() }).listen()).rejects.toThrow(/closed/);
  });

  it('survives listeners that throw (counted as handler errors)', async () => {
    const { dev, port } = await device();
    const h = await host();
    dev.on('packetResend', () => {
      throw new Error('listener bug');
    });
    dev.on('handlerError', () => {
      throw new Error('error listener bug too');
    });
    dev.on('controlChange', () => {
      throw new Error('control listener bug');
    });
    await takeControl(h, port); // PACKETRESEND is honoured from the control holder (issue #22)
    await h.send(port, {
      type: 'packetresend',
      ackRequired: false,
      extendedId: false,
      streamChannel: 0,
      blockId: 1n,
      firstPacketId: 1,
      lastPacketId: 1,
    });
    expect((await h.request(port, { type: 'discovery', allowBroadcastAck: false })).type).toBe('discovery');
    expect(dev.stats.handlerErrors).toBe(2);
  });

  it('rejects bad options with typed errors', () => {
    expect(() => new GvcpDevice({ address: 'nope' })).toThrow(/IPv4/);
    expect(() => new GvcpDevice({ port: 70000 })).toThrow(/port/);
    expect(() => new GvcpDevice({ serialNumber: 'x'.repeat(40) })).toThrow(/bytes/);
  });

  it('decodes what it sends with the codec (every ack is well-formed)', async () => {
    const { port } = await device();
    const h = await host();
    await h.send(port, { type: 'readreg', addresses: [B.VERSION] });
    const r = await h.next();
    expect(() => decodeAck(r!.bytes)).not.toThrow();
  });
});

beforeEach(() => {
  vi.useRealTimers();
});
