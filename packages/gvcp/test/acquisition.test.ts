import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AcquisitionMode,
  BootstrapRegister as B,
  derivedMac,
  derivedSerialNumber,
  FeatureRegister as F,
  type FrameTrigger,
  GvcpDevice,
  type GvcpDeviceOptions,
  GvcpStatus,
  TriggerActivation,
  TriggerSource,
  UserSetSelector,
} from '../src/index.js';
import { RawHost } from './fixtures/device/raw-host.js';

const opened: Array<{ close(): Promise<void> }> = [];

async function device(options: GvcpDeviceOptions = {}): Promise<{ dev: GvcpDevice; port: number; h: RawHost }> {
  const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, serialNumber: 'ACQ1', ...options });
  opened.push(dev);
  const h = await RawHost.open();
  opened.push(h);
  const port = dev.address().port;
  await write(h, port, B.CCP, 0x2);
  return { dev, port, h };
}

async function write(h: RawHost, port: number, address: number, value: number): Promise<number> {
  const ack = await h.request(port, { type: 'writereg', writes: [{ address, value }] });
  return ack.status;
}

async function read(h: RawHost, port: number, address: number): Promise<number> {
  const ack = await h.request(port, { type: 'readreg', addresses: [address] });
  if (ack.type !== 'readreg') throw new Error(`READREG failed: ${ack.status}`);
  return ack.values[0]!;
}

afterEach(async () => {
  vi.useRealTimers();
  while (opened.length > 0) await opened.pop()?.close();
});

describe('GvcpDevice acquisition and FrameStart trigger', () => {
  it('emits one frameTrigger per TriggerSoftware only while acquiring with TriggerMode On and source Software', async () => {
    const { dev, port, h } = await device();
    const triggers: FrameTrigger[] = [];
    dev.on('frameTrigger', (t) => triggers.push(t));
    // trigger mode off: the software trigger is ignored
    await write(h, port, F.AcquisitionStart, 1);
    await write(h, port, F.TriggerSoftware, 1);
    expect(triggers).toHaveLength(0);
    expect(dev.acquisitionSettings().triggerMode).toBe(false);
    await write(h, port, F.TriggerMode, 1);
    expect(dev.acquisitionSettings()).toMatchObject({ triggerMode: true, triggerSource: 'Software' });
    for (let i = 0; i < 3; i++) expect(await write(h, port, F.TriggerSoftware, 1)).toBe(GvcpStatus.SUCCESS);
    expect(triggers.map((t) => t.source)).toEqual(['Software', 'Software', 'Software']);
    expect(triggers[1]!.timestamp).toBeGreaterThan(triggers[0]!.timestamp);
    // another source selected: the software trigger no longer fires
    await write(h, port, F.TriggerSource, TriggerSource.Line0);
    await write(h, port, F.TriggerSoftware, 1);
    expect(triggers).toHaveLength(3);
    // not acquiring: ignored
    await write(h, port, F.TriggerSource, TriggerSource.Software);
    await write(h, port, F.AcquisitionStop, 1);
    await write(h, port, F.TriggerSoftware, 1);
    expect(triggers).toHaveLength(3);
    expect(dev.triggerStats).toMatchObject({ triggersAccepted: 3, triggersIgnored: 3 });
    // the command register reads 0 (done)
    expect(await read(h, port, F.TriggerSoftware)).toBe(0);
  });

  it('fires Line0 triggers on the edges TriggerActivation selects', async () => {
    const { dev, port, h } = await device();
    const triggers: string[] = [];
    dev.on('frameTrigger', (t) => triggers.push(t.source));
    await write(h, port, F.TriggerMode, 1);
    await write(h, port, F.TriggerSource, TriggerSource.Line0);
    await write(h, port, F.AcquisitionStart, 1);
    const pulse = (): void => {
      dev.setLine(0, true);
      dev.setLine(0, false);
    };
    pulse(); // rising edge (default) once
    expect(triggers).toHaveLength(1);
    await write(h, port, F.TriggerActivation, TriggerActivation.FallingEdge);
    pulse();
    expect(triggers).toHaveLength(2);
    await write(h, port, F.TriggerActivation, TriggerActivation.AnyEdge);
    pulse();
    expect(triggers).toEqual(['Line0', 'Line0', 'Line0', 'Line0']);
    // a level that does not change is no edge
    dev.setLine(0, false);
    expect(triggers).toHaveLength(4);
    expect(() => dev.setLine(3, true)).toThrow(/no input line 3/);
  });

  it('refuses trigger and acquisition values outside their enumerations', async () => {
    const { port, h } = await device();
    expect(await write(h, port, F.TriggerSource, 7)).toBe(GvcpStatus.INVALID_PARAMETER);
    expect(await write(h, port, F.TriggerActivation, 9)).toBe(GvcpStatus.INVALID_PARAMETER);
    expect(await write(h, port, F.TriggerSelector, 1)).toBe(GvcpStatus.INVALID_PARAMETER);
    expect(await write(h, port, F.TriggerMode, 2)).toBe(GvcpStatus.INVALID_PARAMETER);
    expect(await write(h, port, F.AcquisitionMode, 3)).toBe(GvcpStatus.INVALID_PARAMETER);
    expect(await write(h, port, F.AcquisitionFrameCount, 0)).toBe(GvcpStatus.INVALID_PARAMETER);
    // locked while streaming parameters are locked
    await write(h, port, F.TLParamsLocked, 1);
    expect(await write(h, port, F.AcquisitionFrameCount, 5)).toBe(GvcpStatus.WRITE_PROTECT);
    expect(await write(h, port, F.AcquisitionMode, AcquisitionMode.MultiFrame)).toBe(GvcpStatus.WRITE_PROTECT);
  });

  it('ends SingleFrame after one frame and MultiFrame after AcquisitionFrameCount frames', async () => {
    const { dev, port, h } = await device();
    const stops: string[] = [];
    dev.on('acquisitionStop', (e) => stops.push(e.reason));
    await write(h, port, F.AcquisitionMode, AcquisitionMode.SingleFrame);
    await write(h, port, F.AcquisitionStart, 1);
    expect(await read(h, port, F.AcquisitionStatus)).toBe(1);
    expect(dev.frameDone()).toBe(false);
    expect(await read(h, port, F.AcquisitionStatus)).toBe(0);
    expect(dev.acquiring).toBe(false);
    expect(stops).toEqual(['complete']);

    await write(h, port, F.AcquisitionMode, AcquisitionMode.MultiFrame);
    await write(h, port, F.AcquisitionFrameCount, 3);
    await write(h, port, F.AcquisitionStart, 1);
    expect([dev.frameDone(), dev.frameDone(), dev.frameDone()]).toEqual([true, true, false]);
    expect(dev.acquiring).toBe(false);
    expect(dev.frameDone()).toBe(false);
    expect(stops).toEqual(['complete', 'complete']);

    await write(h, port, F.AcquisitionMode, AcquisitionMode.Continuous);
    await write(h, port, F.AcquisitionStart, 1);
    for (let i = 0; i < 10; i++) expect(dev.frameDone()).toBe(true);
    await write(h, port, F.AcquisitionStop, 1);
    expect(stops).toEqual(['complete', 'complete', 'command']);
  });
});

describe('GvcpDevice heartbeat timeout', () => {
  it('applies a lowered heartbeat timeout at once, not after the old timer (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const { dev, port, h } = await device({ heartbeatTimeoutMs: 10_000, minHeartbeatTimeoutMs: 100 });
    expect(dev.control.primary).toBeDefined();
    expect(await write(h, port, B.HEARTBEAT_TIMEOUT, 1000)).toBe(GvcpStatus.SUCCESS);
    vi.advanceTimersByTime(900);
    expect(dev.control.primary).toBeDefined();
    vi.advanceTimersByTime(200);
    expect(dev.control.primary).toBeUndefined();
    expect(dev.stats.heartbeatTimeouts).toBe(1);
  });

  it('applies a raised heartbeat timeout at once too', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const { dev, port, h } = await device({ heartbeatTimeoutMs: 1000, minHeartbeatTimeoutMs: 100 });
    expect(await write(h, port, B.HEARTBEAT_TIMEOUT, 5000)).toBe(GvcpStatus.SUCCESS);
    vi.advanceTimersByTime(4500);
    expect(dev.control.primary).toBeDefined();
    vi.advanceTimersByTime(600);
    expect(dev.control.primary).toBeUndefined();
  });
});

describe('GvcpDevice identity', () => {
  it('derives its serial number from its address and port, and its MAC from the serial number', async () => {
    expect(derivedSerialNumber('127.0.0.2', 3956)).toBe('CAM7F0000020F74');
    const a = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    opened.push(a);
    const b = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    opened.push(b);
    expect(a.serialNumber).toBe(derivedSerialNumber('127.0.0.1', a.address().port));
    expect(b.serialNumber).not.toBe(a.serialNumber);
    expect(a.mac).toBe(derivedMac(a.serialNumber));
    expect(b.mac).not.toBe(a.mac);
    // what is given is kept
    const c = await GvcpDevice.start({ address: '127.0.0.1', port: 0, serialNumber: 'MINE', mac: '02:11:22:33:44:55' });
    opened.push(c);
    expect([c.serialNumber, c.mac]).toEqual(['MINE', '02:11:22:33:44:55']);
  });
});

describe('GvcpDevice image region', () => {
  it('keeps Width + OffsetX and Height + OffsetY inside the sensor', async () => {
    const { port, h } = await device({ sensorWidth: 1024, sensorHeight: 768, width: 640, height: 480 });
    expect(await write(h, port, F.OffsetX, 385)).toBe(GvcpStatus.INVALID_PARAMETER);
    expect(await write(h, port, F.OffsetX, 384)).toBe(GvcpStatus.SUCCESS);
    expect(await write(h, port, F.Width, 641)).toBe(GvcpStatus.INVALID_PARAMETER);
    expect(await write(h, port, F.Width, 64)).toBe(GvcpStatus.SUCCESS);
    expect(await write(h, port, F.OffsetY, 288)).toBe(GvcpStatus.SUCCESS);
    expect(await write(h, port, F.Height, 481)).toBe(GvcpStatus.INVALID_PARAMETER);
    expect(await write(h, port, F.ReverseX, 2)).toBe(GvcpStatus.INVALID_PARAMETER);
    expect(await write(h, port, F.ReverseY, 1)).toBe(GvcpStatus.SUCCESS);
  });
});

describe('GvcpDevice user sets and DeviceReset', () => {
  it('saves and loads UserSet1/UserSet2, loads Default, refuses to overwrite Default or load while locked', async () => {
    const { dev, port, h } = await device({ width: 640 });
    await write(h, port, F.Width, 320);
    await write(h, port, F.TriggerMode, 1);
    await write(h, port, F.UserSetSelector, UserSetSelector.UserSet1);
    expect(await write(h, port, F.UserSetSave, 1)).toBe(GvcpStatus.SUCCESS);
    await write(h, port, F.Width, 100);
    await write(h, port, F.TriggerMode, 0);
    expect(await write(h, port, F.UserSetLoad, 1)).toBe(GvcpStatus.SUCCESS);
    expect([dev.registers.get(F.Width), dev.registers.get(F.TriggerMode)]).toEqual([320, 1]);
    await write(h, port, F.UserSetSelector, UserSetSelector.Default);
    expect(await write(h, port, F.UserSetLoad, 1)).toBe(GvcpStatus.SUCCESS);
    expect([dev.registers.get(F.Width), dev.registers.get(F.TriggerMode)]).toEqual([640, 0]);
    expect(await write(h, port, F.UserSetSave, 1)).toBe(GvcpStatus.ACCESS_DENIED);
    await write(h, port, F.UserSetSelector, UserSetSelector.UserSet2);
    expect(await write(h, port, F.UserSetLoad, 1)).toBe(GvcpStatus.INVALID_PARAMETER); // never saved
    await write(h, port, F.UserSetSelector, UserSetSelector.UserSet1);
    await write(h, port, F.TLParamsLocked, 1);
    expect(await write(h, port, F.UserSetLoad, 1)).toBe(GvcpStatus.WRITE_PROTECT);
    expect(await write(h, port, F.UserSetSelector, 3)).toBe(GvcpStatus.INVALID_PARAMETER);
  });

  it('DeviceReset releases control, stops acquisition and returns the features to Default', async () => {
    const { dev, port, h } = await device({ width: 640 });
    const reasons: string[] = [];
    dev.on('controlChange', (c) => reasons.push(c.reason));
    await write(h, port, F.Width, 64);
    await write(h, port, F.AcquisitionStart, 1);
    expect(dev.acquiring).toBe(true);
    expect(await write(h, port, F.DeviceReset, 1)).toBe(GvcpStatus.SUCCESS);
    await new Promise((r) => setImmediate(r));
    expect(dev.acquiring).toBe(false);
    expect(dev.control.primary).toBeUndefined();
    expect(reasons).toEqual(['device-reset']);
    expect(dev.registers.get(F.Width)).toBe(640);
    expect(dev.registers.get(B.MCP)).toBe(0);
  });
});
