import { GvcpClient, GvcpDevice } from '@cam/gvcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCam } from '../../../test-support/cli.js';
import { applySteps, PartialWriteError, suggestNames } from '../src/features.js';

let device: GvcpDevice;
let port: string;

beforeAll(async () => {
  device = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width: 320, height: 240, pixelFormat: 'Mono8' });
  port = String(device.address().port);
});
afterAll(async () => {
  await device.close();
});

function gige(cmd: string, ...args: string[]) {
  return runCam(['gige', cmd, '127.0.0.1', ...args, '--port', port], { timeoutMs: 30_000 });
}

describe('cam gige exec / features filters / describe all / suggestions / all-or-nothing writes', () => {
  it('exec runs command features in order and refuses non-commands with a usage error', async () => {
    let starts = 0;
    let stops = 0;
    device.on('acquisitionStart', () => starts++);
    device.on('acquisitionStop', () => stops++);
    const r = await gige('exec', 'AcquisitionStart', 'AcquisitionStop', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, executed: ['AcquisitionStart', 'AcquisitionStop'] });
    expect([starts, stops]).toEqual([1, 1]);
    const stop = await gige('exec', 'AcquisitionStop');
    expect(stop.stdout).toBe('AcquisitionStop executed\n');
    const notCommand = await gige('exec', 'Width');
    expect(notCommand.code).toBe(2);
    expect(notCommand.stderr).toMatch(/Width is a Integer, not a command/);
    // write accepts Name=1 for a command too, like arv-tool control
    const w = await gige('write', 'AcquisitionStart=1', '--json');
    expect(w.code, w.stderr).toBe(0);
    expect(starts).toBe(2);
    await gige('exec', 'AcquisitionStop');
    expect(device.registers.get(0x0a00)).toBe(0);
  }, 60_000);

  it('features --filter/--access show access, range and unit; JSON carries them', async () => {
    const r = await gige('features', '--filter', 'Exposure*', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { features: Record<string, unknown>[] };
    expect(doc.features).toEqual([
      expect.objectContaining({ name: 'ExposureTime', access: 'RW', unit: 'us', min: expect.any(Number) }),
    ]);
    const text = await gige('features', '--filter', 'gain');
    expect(text.stdout).toMatch(/^Float: Gain = [0-9.]+ \[RW\] 0\.\.48 dB$/m);
    const ro = await gige('features', '--access', 'RO', '--filter', 'Device', '--json');
    const names = (JSON.parse(ro.stdout) as { features: { name: string; access: string }[] }).features;
    expect(names.length).toBeGreaterThan(2);
    for (const f of names) expect(f.access).toBe('RO');
    expect((await gige('features', '--access', 'XX')).code).toBe(2);
  }, 60_000);

  it('describe with no names describes every feature', async () => {
    const r = await gige('describe', '--json');
    expect(r.code, r.stderr).toBe(0);
    const all = (JSON.parse(r.stdout) as { features: { name: string; type: string }[] }).features;
    const names = all.map((f) => f.name);
    for (const n of ['Width', 'Height', 'PixelFormat', 'Gain', 'AcquisitionStart']) expect(names).toContain(n);
    expect(all.find((f) => f.name === 'Root')).toBeUndefined(); // categories are not features
  }, 60_000);

  it('a misspelt name suggests the right one (read, describe, write)', async () => {
    for (const cmd of [
      ['read', 'Widht'],
      ['describe', 'widht'],
      ['write', 'Widht=64'],
    ]) {
      const r = await gige(cmd[0]!, cmd[1]!, '--json');
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({
        ok: false,
        error: {
          name: 'UnknownFeatureNameError',
          message: "unknown feature 'Widht' (did you mean Width?)".replace('Widht', cmd[1]!.split('=')[0]!),
        },
      });
    }
    const entry = await gige('write', 'PixelFormat=Mono13', '--json');
    expect(JSON.parse(entry.stdout).error.message).toMatch(/did you mean .*Mono12/);
  }, 60_000);

  it('write checks every name and value before the first write: Width=300 Bogus=1 writes nothing', async () => {
    const before = device.imageFormat().width;
    const bogus = await gige('write', 'Width=300', 'Bogus=1');
    expect(bogus.code).toBe(1);
    const range = await gige('write', 'Width=300', 'Height=99999');
    expect(range.code).toBe(1);
    expect(range.stderr).toMatch(/Height.*out of range/);
    const grid = await gige('write', 'Width=300', 'Gain=abc');
    expect(grid.code).toBe(1);
    expect(device.imageFormat().width).toBe(before);
    const ok = await gige('write', 'Width=300', 'Height=200');
    expect(ok.code, ok.stderr).toBe(0);
    expect(device.imageFormat()).toMatchObject({ width: 300, height: 200 });
  }, 60_000);
});

describe('hints', () => {
  it('ACCESS_DENIED on the CCP says another application holds control', async () => {
    const other = await GvcpClient.connect('127.0.0.1', { port: Number(port) });
    try {
      await other.takeControl();
      const r = await gige('write', 'Width=64');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/ACCESS_DENIED/);
      expect(r.stderr).toMatch(/^hint: another application holds control of this camera \(CCP register 0x0a00\)/m);
    } finally {
      await other.releaseControl();
      await other.close();
    }
  }, 60_000);
});

describe('write steps after validation', () => {
  it('a failure on the wire after some writes says exactly which happened', async () => {
    const done: string[] = [];
    const step = (label: string, fail = false) => ({
      label,
      run: async () => {
        if (fail) throw Object.assign(new Error('WRITEREG failed: ACCESS_DENIED'), { name: 'GvcpStatusError' });
        done.push(label);
        return label;
      },
    });
    const err = await applySteps([
      step('Width=300'),
      step('Height=200'),
      step('Gain=3', true),
      step('OffsetX=8'),
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialWriteError);
    const p = err as PartialWriteError;
    expect(p.written).toEqual(['Width=300', 'Height=200']);
    expect(p.failed).toBe('Gain=3');
    expect(p.notAttempted).toEqual(['OffsetX=8']);
    expect(p.message).toBe(
      'Gain=3 failed (GvcpStatusError: WRITEREG failed: ACCESS_DENIED); already written: Width=300, Height=200; not attempted: OffsetX=8',
    );
    expect(done).toEqual(['Width=300', 'Height=200']);
    // the first step failing is the device's own error: nothing was written
    const first = await applySteps([step('Width=1', true)]).catch((e: unknown) => e);
    expect((first as Error).name).toBe('GvcpStatusError');
  });

  it('suggests close names: typos, case, swapped letters; nothing for unrelated text', () => {
    const names = ['Width', 'Height', 'WidthMax', 'OffsetX', 'ExposureTime', 'Gain', 'GainAuto'];
    expect(suggestNames('Widht', names)[0]).toBe('Width');
    expect(suggestNames('width', names)[0]).toBe('Width');
    expect(suggestNames('Exposure', names)).toContain('ExposureTime');
    expect(suggestNames('Gian', names)[0]).toBe('Gain');
    expect(suggestNames('Zebra', names)).toEqual([]);
  });
});
