import { GvcpDevice } from '@cam/gvcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCam } from '../../../test-support/cli.js';

let device: GvcpDevice;
let port: string;

beforeAll(async () => {
  device = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width: 320, height: 240, pixelFormat: 'Mono8' });
  port = String(device.address().port);
});
afterAll(async () => {
  await device.close();
});

/** `cam gige <cmd> 127.0.0.1 ... --port <device>` */
function gige(cmd: string, ...args: string[]) {
  return runCam(['gige', cmd, '127.0.0.1', ...args, '--port', port]);
}

interface Reading {
  name: string;
  type: string;
  interface: string;
  depth: number;
  category?: string;
  access?: string;
  value?: unknown;
  error?: { name: string; message: string };
}

describe('cam gige features / describe / read and write by name (our GvcpDevice on 127.0.0.1)', () => {
  it('features --json lists the category walk with values; text output is arv-tool-like', async () => {
    const r = await gige('features', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; features: Reading[] };
    expect(doc.ok).toBe(true);
    const byName = new Map(doc.features.map((f) => [f.name, f]));
    expect(byName.get('Root')).toMatchObject({ interface: 'ICategory', depth: 0 });
    expect(byName.get('Width')).toMatchObject({ interface: 'IInteger', access: 'RW', value: 320 });
    expect(byName.get('Height')).toMatchObject({ value: 240 });
    expect(byName.get('PixelFormat')).toMatchObject({ interface: 'IEnumeration', value: 'Mono8' });
    expect(byName.get('DeviceSerialNumber')?.value).toBe(device.serialNumber);
    // PayloadSize follows Width x Height x 1 byte
    expect(byName.get('PayloadSize')?.value).toBe(320 * 240);
    // 64-bit integers come out as decimal strings or numbers, never lost: the MAC register matches the device
    const mac = byName.get('GevMACAddress')?.value;
    expect(
      BigInt(mac as string | number)
        .toString(16)
        .padStart(12, '0'),
    ).toBe(device.mac.replaceAll(':', ''));
    expect(doc.features.filter((f) => f.error)).toEqual([]);

    const text = await gige('features');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Category: Root$/m);
    expect(text.stdout).toMatch(/^ {8}Integer: Width = 320 \[RW\] 1\.\.1024$/m);
    expect(text.stdout).toMatch(/^ {8}Enumeration: PixelFormat = Mono8 \[RW\] \{Mono8, .*\}$/m);
    expect(text.stdout).toMatch(/^ {8}Float: ExposureTime = [0-9.]+ \[RW\] [0-9.]+\.\.[0-9.]+ us$/m);
  });

  it('describe reports type, access, range and entries (bigints as strings in JSON)', async () => {
    const r = await gige('describe', 'Width', 'PixelFormat', 'DeviceSerialNumber', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; features: Record<string, unknown>[] };
    const [width, pixelFormat, serial] = doc.features;
    // a register's address is a bigint on the node map: a decimal string in JSON
    expect(serial).toMatchObject({ name: 'DeviceSerialNumber', type: 'StringReg', value: device.serialNumber });
    expect(serial?.address).toMatch(/^[0-9]+$/);
    expect(width).toMatchObject({ name: 'Width', type: 'Integer', access: 'RW', min: 1, max: 1024, value: 320 });
    expect(pixelFormat).toMatchObject({ name: 'PixelFormat', type: 'Enumeration' });
    const entries = pixelFormat?.entries as { name: string; value: number }[];
    expect(entries).toContainEqual(expect.objectContaining({ name: 'Mono16', value: 0x01100007 }));

    const text = await gige('describe', 'Width');
    expect(text.stdout).toMatch(/^Width$/m);
    expect(text.stdout).toMatch(/^ {2}max +1024$/m);
  });

  it('write Feature=VALUE goes through the node map and read Feature reads it back, mixed with addresses', async () => {
    const w = await gige('write', 'Width=256', 'PixelFormat=Mono16', 'Gain=3.5', '--json');
    expect(w.code, w.stderr).toBe(0);
    expect(JSON.parse(w.stdout)).toMatchObject({
      ok: true,
      features: [
        { name: 'Width', value: 256 },
        { name: 'PixelFormat', value: 'Mono16' },
        { name: 'Gain', value: 3.5 },
      ],
    });
    // the device itself changed
    expect(device.imageFormat()).toMatchObject({ width: 256, height: 240 });
    expect(device.acquisitionSettings().gain).toBe(3.5);

    const r = await gige('read', 'Width', '0x0934', 'PixelFormat', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      registers: { address: number; value: number }[];
      features: { name: string; value: unknown }[];
    };
    expect(doc.registers).toEqual([{ address: 0x0934, value: device.registers.get(0x0934) }]);
    expect(doc.features).toEqual([
      { name: 'Width', value: 256 },
      { name: 'PixelFormat', value: 'Mono16' },
    ]);
    const text = await gige('read', 'Height', 'PayloadSize');
    expect(text.stdout).toBe(`Height = 240\nPayloadSize = ${256 * 240 * 2}\n`);
  });

  it('unknown features and out-of-range values are typed errors with exit code 1', async () => {
    const unknown = await gige('describe', 'NoSuchFeature', '--json');
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/NoSuchFeature/) },
    });
    const range = await gige('write', 'Width=99999', '--json');
    expect(range.code).toBe(1);
    expect(JSON.parse(range.stdout)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/Width/) } });
    expect(device.imageFormat().width).toBe(256);
    const bad = await gige('write', 'Width', '--json');
    expect(bad.code).toBe(2);
  });
});
