import { type FeatureValue, NodeMap, portFromRegisterAccess } from '@cam/genicam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { arvTool, FakeCamera } from '../../../test-support/aravis.js';
import { describeInterop } from '../../../test-support/interop.js';
import { LOCKED_HOOK_TIMEOUT_MS } from '../../../test-support/port-lock.js';
import { discover, FeatureRegister, fetchGenicamXml, GvcpClient, GvcpDevice } from '../src/index.js';

// Owned by @cam/genicam: our node map over GvcpClient (through portFromRegisterAccess) must agree with Aravis.

async function answers(): Promise<boolean> {
  return (await discover({ address: '127.0.0.1', timeoutMs: 300 })).length > 0;
}

/** `arv-tool features` lines such as `    Integer      : [RW] 'Width'`. */
function readableFeatures(listing: string): { type: string; name: string }[] {
  const out: { type: string; name: string }[] = [];
  for (const line of listing.split('\n')) {
    const m = /^\s*(\w+)\s*:\s*\[(RO|RW|WO)\]\s*'([^']+)'/.exec(line);
    if (m !== null && m[2] !== 'WO') out.push({ type: m[1] as string, name: m[3] as string });
  }
  return out;
}

/** `arv-tool control A B` lines such as `Width = 512 min:1 max:2048`. */
function controlValues(out: string): Map<string, { value: string; min?: string; max?: string }> {
  const values = new Map<string, { value: string; min?: string; max?: string }>();
  for (const line of out.split('\n')) {
    const m = /^(\w+) = (.*?)(?: min:(\S+) max:(\S+))?$/.exec(line);
    if (m === null) continue;
    values.set(m[1] as string, {
      value: m[2] as string,
      ...(m[3] !== undefined ? { min: m[3] } : {}),
      ...(m[4] !== undefined ? { max: m[4] } : {}),
    });
  }
  return values;
}

/** C printf `%g` (6 significant digits, exponent form below 1e-4 and from 1e6, trailing zeros dropped). */
function printfG(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const [mantissa, exp] = x.toExponential(5).split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) {
    const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    return `${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(Number(x.toPrecision(6)));
}

/** What arv-tool prints for a value: integers in decimal, doubles as C `%g`, booleans as true/false. */
function asAravisPrints(v: FeatureValue | undefined, type: string): string {
  if (
    typeof v === 'number' &&
    (type === 'Float' || type === 'Converter' || type === 'SwissKnife' || type === 'FloatReg')
  )
    return printfG(v);
  return String(v);
}

describeInterop(
  '@cam/genicam NodeMap against arv-fake-gv-camera-0.8',
  ['arv-fake-gv-camera-0.8', 'arv-tool-0.8'],
  () => {
    const camera = new FakeCamera(answers, ['-s', 'GENICAM1']);
    let client: GvcpClient;
    let map: NodeMap;

    /** Control may be held briefly by another suite's client; wait for it (bounded). */
    async function takeControl(): Promise<void> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await client.takeControl();
          return;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    }

    // Every suite using 127.0.0.1:3956 holds GVCP_PORT_LOCK meanwhile, so they take turns.
    beforeAll(async () => {
      await camera.start();
      client = await GvcpClient.connect('127.0.0.1');
      map = await NodeMap.load((await fetchGenicamXml(client)).xml, portFromRegisterAccess(client));
    }, LOCKED_HOOK_TIMEOUT_MS);

    // Should the camera have died in the meantime, start it again.
    beforeEach(() => camera.ensure(), 20_000);

    afterAll(async () => {
      try {
        await client?.close();
      } finally {
        await camera.stop();
      }
    });

    it('reads every feature arv-tool lists as readable with the value arv-tool prints', async () => {
      const features = readableFeatures(await arvTool('features'));
      expect(features.length).toBeGreaterThan(20);
      // Another suite may write Width in between; compare twice before calling a difference real.
      let mismatches: string[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        map.invalidateCache();
        const reference = controlValues(await arvTool('control', ...features.map((f) => f.name)));
        mismatches = [];
        for (const f of features) {
          const want = reference.get(f.name);
          expect(want, `arv-tool printed no value for ${f.name}`).toBeDefined();
          const ours = asAravisPrints(await map.get(f.name), f.type);
          if (ours !== want?.value) mismatches.push(`${f.name}: ours ${ours}, Aravis ${want?.value}`);
          if (want?.min !== undefined) {
            const d = await map.describe(f.name);
            if (
              asAravisPrints(d.min as number, f.type) !== want.min ||
              asAravisPrints(d.max as number, f.type) !== want.max
            )
              mismatches.push(`${f.name} range: ours [${d.min}, ${d.max}], Aravis [${want.min}, ${want.max}]`);
          }
        }
        if (mismatches.length === 0) break;
      }
      expect(mismatches).toEqual([]);
    });

    it('writes Width, Height, gain, exposure and PixelFormat that Aravis reads back', async () => {
      // The fake camera's XML names gain and exposure GainRaw and ExposureTimeAbs (no Gain / ExposureTime features).
      const names = ['Width', 'Height', 'GainRaw', 'ExposureTimeAbs', 'PixelFormat'];
      const original = new Map<string, FeatureValue>();
      for (const n of names) original.set(n, await map.get(n));
      const target: Record<string, FeatureValue> = {
        Width: original.get('Width') === 640 ? 320 : 640,
        Height: original.get('Height') === 480 ? 240 : 480,
        GainRaw: original.get('GainRaw') === 7 ? 3 : 7,
        ExposureTimeAbs: original.get('ExposureTimeAbs') === 12345 ? 23456 : 12345,
        PixelFormat: original.get('PixelFormat') === 'Mono16' ? 'RGB8' : 'Mono16',
      };
      const writeAll = async (values: Record<string, FeatureValue>): Promise<void> => {
        await takeControl();
        try {
          for (const n of names) await map.set(n, values[n] as FeatureValue);
        } finally {
          // Release control so arv-tool can open the camera as controller.
          await client.releaseControl();
        }
      };
      try {
        await writeAll(target);
        const seen = controlValues(await arvTool('control', ...names));
        for (const n of names) expect(seen.get(n)?.value, n).toBe(String(target[n]));
        expect(await map.get('PayloadSize')).toBe(
          Number(controlValues(await arvTool('control', 'PayloadSize')).get('PayloadSize')?.value),
        );
      } finally {
        await writeAll(Object.fromEntries(original)).catch(() => {});
      }
    });
  },
);

// No external peer: the simulated GvcpDevice's own XML must load and work through the same node map.
describe('@cam/genicam NodeMap over GvcpClient against our GvcpDevice', () => {
  it('loads the device XML, reads every feature without untyped errors, writes Width to the register', async () => {
    await using device = await GvcpDevice.start({ address: '127.0.0.1', port: 0, serialNumber: 'GENICAMRT' });
    const client = await GvcpClient.connect('127.0.0.1', { port: device.address().port });
    try {
      const map = await NodeMap.load((await fetchGenicamXml(client)).xml, portFromRegisterAccess(client));
      const readings = await map.values();
      expect(readings.length).toBeGreaterThan(10);
      // chunk and event features read a frame's chunks or an event's data: before one is attached, not available
      const failures = readings
        .filter(
          (r) => r.error !== undefined && !(/^(Chunk|Event)/.test(r.name) && r.error.name === 'NotAvailableError'),
        )
        .map((r) => `${r.name}: ${r.error?.message}`);
      expect(failures).toEqual([]);
      await client.takeControl();
      const d = await map.describe('Width');
      const width = Number(d.min) + Number(d.inc) * 3;
      await map.set('Width', width);
      expect(device.registers.get(FeatureRegister.Width)).toBe(width);
      expect(await map.get('Width')).toBe(width);
    } finally {
      await client.close();
    }
  });
});
