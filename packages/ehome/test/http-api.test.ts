import { PortPool, ValueOutOfRangeError } from '@cam/net-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EhomeDevice,
  EhomeDeviceMedia,
  EhomeHttpApi,
  type EhomeHttpApiOptions,
  type EhomeServer,
  h264NalType,
  nalUnits,
} from '../src/index.js';
import { Cleanup, startServer } from './helpers.js';

const c = new Cleanup();
afterEach(() => c.run());

let base = 51_000 + (process.pid % 100) * 20;

async function rig(apiOptions: EhomeHttpApiOptions = {}, ids = ['cam1', 'cam2']) {
  const mediaPorts = new PortPool({ min: base, max: base + 9, host: '127.0.0.1' });
  base += 10;
  const server = await startServer(c, { mediaPorts, mediaAddress: '127.0.0.1' });
  const api = new EhomeHttpApi(server, { port: 0, ...apiOptions });
  c.add(() => api.close(), undefined);
  await api.listen();
  const devices: EhomeDevice[] = [];
  for (const deviceId of ids) {
    const media = new EhomeDeviceMedia({ width: 32, height: 32, fps: 50 });
    c.add(() => media.close(), undefined);
    const dev = new EhomeDevice({
      server: { host: '127.0.0.1', port: server.addresses().port },
      deviceId,
      localAddress: '127.0.0.1',
      recordingDay: '2026-01-01',
      backoff: { initialMs: 50, maxMs: 400 },
      mediaHandler: media.handler,
    });
    c.add(() => dev.close(), undefined);
    await dev.start();
    devices.push(dev);
  }
  return { server, api, devices };
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field with toMatchObject
async function json(api: EhomeHttpApi, path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${api.url}${path}`, init);
  return { status: res.status, body: await res.json() };
}

const post = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('EhomeHttpApi', () => {
  it('lists devices, answers one, and gives JSON errors with stable codes', async () => {
    const { api, devices } = await rig();
    const list = await json(api, '/api/devices');
    expect(list.status).toBe(200);
    expect(list.body.map((d: { deviceId: string }) => d.deviceId)).toEqual(['cam1', 'cam2']);
    expect(list.body[0]).toMatchObject({
      deviceId: 'cam1',
      online: true,
      address: '127.0.0.1',
      port: devices[0]!.address().port,
      firmware: expect.any(String),
      lastSeen: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect((await json(api, '/api/devices/cam2')).body).toMatchObject({ deviceId: 'cam2', online: true });
    expect(await json(api, '/api/devices/ghost')).toMatchObject({
      status: 404,
      body: { error: { code: 'DEVICE_NOT_FOUND' } },
    });
    expect(await json(api, '/api/nothing')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await json(api, '/api/devices/cam1/ptz', post({ command: 'SIDEWAYS' }))).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_REQUEST' } },
    });
    // A device that went away is listed as offline.
    await devices[1]!.logout();
    await expect.poll(async () => (await json(api, '/api/devices/cam2')).body.online).toBe(false);
    expect(await json(api, '/api/devices/cam2/ptz', post({ command: 'LEFT' }))).toMatchObject({
      status: 409,
      body: { error: { code: 'DEVICE_OFFLINE' } },
    });
    const doc = await json(api, '/api/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toContain('/api/devices/{id}/preview');
  });

  it('captures a picture and serves it, runs PTZ, config, records', async () => {
    const { api, devices } = await rig({}, ['cam1']);
    const cap = await json(api, '/api/devices/cam1/capture', post({ channel: 1 }));
    expect(cap.status).toBe(200);
    expect(cap.body.url).toMatch(/^\/api\/pictures\/\d+$/);
    const pic = await fetch(`${api.url}${cap.body.url}`);
    expect(pic.headers.get('content-type')).toBe('image/jpeg');
    const bytes = new Uint8Array(await pic.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(bytes.length).toBe(cap.body.size);

    expect((await json(api, '/api/devices/cam1/ptz', post({ command: 'left', speed: 5 }))).status).toBe(200);
    expect(devices[0]!.ptzState.get(1)).toEqual({ command: 'LEFT', action: 'Start', speed: 5 });

    const put = await json(api, '/api/devices/cam1/config/RecordCfg', {
      method: 'PUT',
      body: JSON.stringify({ RecordPlan: { Enable: 'true' } }),
    });
    expect(put.status).toBe(200);
    expect((await json(api, '/api/devices/cam1/config/RecordCfg')).body).toEqual({ RecordPlan: { Enable: 'true' } });
    expect((await json(api, '/api/devices/cam1/config/GetServerInfo')).body).toMatchObject({
      SERVERINFO: { ChannelNumber: '1' },
    });

    const records = await json(api, '/api/devices/cam1/records?from=2026-01-01 00:00:00&to=2026-01-01 23:59:59');
    expect(records.status).toBe(200);
    expect(records.body.length).toBeGreaterThan(0);
    expect(records.body[0]).toMatchObject({ name: expect.any(String), start: expect.stringMatching(/^2026-01-01/) });
  });

  it('streams two devices at once as chunked H.264, and downloads a recording as MPEG-PS', async () => {
    const { api } = await rig();
    const grab = async (id: string): Promise<Uint8Array> => {
      const res = await fetch(`${api.url}/api/devices/${id}/preview?seconds=1`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('video/h264');
      return new Uint8Array(await res.arrayBuffer());
    };
    const [a, b] = await Promise.all([grab('cam1'), grab('cam2')]);
    for (const body of [a, b]) {
      const types = [...nalUnits(body)].map((n) => h264NalType(n));
      expect(types).toContain(7); // SPS
      expect(types).toContain(5); // IDR
      expect(types.length).toBeGreaterThan(10);
    }
    const files = (await json(api, '/api/devices/cam1/records?from=2026-01-01 00:00:00&to=2026-01-01 23:59:59')).body;
    const dl = await fetch(`${api.url}/api/devices/cam1/download?file=${files[0].name}`);
    expect(dl.status).toBe(200);
    const ps = new Uint8Array(await dl.arrayBuffer());
    expect([...ps.subarray(0, 4)]).toEqual([0x00, 0x00, 0x01, 0xba]);
    expect(await json(api, '/api/devices/cam1/preview?format=avi')).toMatchObject({
      status: 400,
      body: { error: { code: 'FORMAT_UNSUPPORTED' } },
    });
  });

  it('pages events by type, device and after, and streams them live (SSE)', async () => {
    const { api, devices } = await rig();
    const sse = await fetch(`${api.url}/api/events/stream?type=alarm`);
    expect(sse.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = sse.body!.getReader();
    await devices[0]!.raiseAlarm({ pictures: 1 });
    await devices[1]!.raiseAlarm({ pictures: 1 });
    let text = '';
    const deadline = Date.now() + 8000;
    while ((text.match(/event: alarm/g) ?? []).length < 2 && Date.now() < deadline) {
      const r = await reader.read();
      if (r.done) break;
      text += new TextDecoder().decode(r.value);
    }
    await reader.cancel();
    expect((text.match(/event: alarm/g) ?? []).length).toBe(2);
    await expect
      .poll(async () => (await json(api, '/api/events?type=alarm')).body.events.length, { timeout: 8000 })
      .toBe(2);
    const cam1 = await json(api, '/api/events?type=alarm&device=cam1');
    expect(cam1.body.events).toHaveLength(1);
    expect(cam1.body.events[0]).toMatchObject({ type: 'alarm', deviceId: 'cam1', complete: true });
    const picUrl = cam1.body.events[0].pictures[0].url;
    expect((await fetch(`${api.url}${picUrl}`)).status).toBe(200);
    // Paging: one at a time with `after`.
    const seen: number[] = [];
    let after = 0;
    for (let i = 0; i < 50; i++) {
      const page = await json(api, `/api/events?limit=1&after=${after}`);
      if (page.body.events.length === 0) break;
      seen.push(page.body.events[0].id);
      after = page.body.events[0].id;
    }
    expect(seen.length).toBeGreaterThanOrEqual(4); // 2 online, 2 alarms, media...
    expect([...seen].sort((x, y) => x - y)).toEqual(seen);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('requires a bearer token when configured, and refuses to serve off loopback without one', async () => {
    const { api, server } = await rig({ token: 's3cret' }, ['cam1']);
    expect(await json(api, '/api/devices')).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    expect(await json(api, '/api/devices', { headers: { authorization: 'Bearer wrong' } })).toMatchObject({
      status: 401,
    });
    expect((await json(api, '/api/devices', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect(() => new EhomeHttpApi(server as EhomeServer, { address: '0.0.0.0' })).toThrow(ValueOutOfRangeError);
  });
});
