import { afterEach, describe, expect, it } from 'vitest';
import { type Rig, startRig } from './helpers.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('smoke', () => {
  it('connects and calls', async () => {
    rig = await startRig();
    const c = await rig.connect();
    expect(c.guid).toMatch(/^[0-9a-f]{32}$/);
    const r = await c.call('GetDeviceInfo');
    expect(r.body).toContain('device');
    const up = await c.upload(new Uint8Array(100_000).fill(7), { name: 'a.bin' });
    expect(up.sentBytes).toBe(100_000);
    const back = await c.readFile('a.bin');
    expect(back.data.byteLength).toBe(100_000);
  });
});
