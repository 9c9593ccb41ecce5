import { createHash } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AbortError, TimeoutError } from '@cam/net-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DeviceOfflineError,
  DeviceStatusError,
  EhomeDevice,
  type EhomeEvent,
  type EhomeServer,
  encodeMessage,
  request,
  response,
} from '../src/index.js';
import { Cleanup, nextEvent, RawPeer, registerParams, sleepMs, startServer, track } from './helpers.js';

const c = new Cleanup();
afterEach(async () => {
  vi.useRealTimers();
  await c.run();
});

function device(
  server: EhomeServer | number,
  options: Partial<ConstructorParameters<typeof EhomeDevice>[0]> = {},
): EhomeDevice {
  return track(
    c,
    new EhomeDevice({
      server: { host: '127.0.0.1', port: typeof server === 'number' ? server : server.addresses().port },
      deviceId: 'dev1',
      localAddress: '127.0.0.1',
      recordingDay: '2026-01-01',
      backoff: { initialMs: 50, maxMs: 400 },
      ...options,
    }),
  );
}

describe('registration and heartbeat', () => {
  it('registers a device, creates its session and tells it the servers', async () => {
    const server = await startServer(c, { ntp: { ip: '127.0.0.9', intervalMinutes: 30 } });
    const online = nextEvent(server, 'online');
    const dev = device(server, { version: '2.0', firmwareVersion: 'V5.4.5 中文 170124', devType: 31 });
    await dev.start();
    const e = await online;
    expect(e.reRegistered).toBe(false);
    expect(e.session).toMatchObject({
      deviceId: 'dev1',
      address: '127.0.0.1',
      port: dev.address().port,
      firmwareVersion: 'V5.4.5 中文 170124',
      devType: 31,
      version: '2.0',
      encoding: 'GB2312',
    });
    const { alarmPort, picturePort } = server.addresses();
    expect(dev.registration).toMatchObject({
      keepAliveSeconds: 15,
      alarmServerIp: '127.0.0.1',
      alarmServerPort: alarmPort,
      pictureServer: '127.0.0.1',
      pictureServerPort: picturePort,
      pictureServerType: 1,
      ntpServerIp: '127.0.0.9',
      ntpServerPort: 123,
      ntpInterval: 30,
    });
    expect(server.devices().map((s) => s.deviceId)).toEqual(['dev1']);
  });

  it('retries REGISTER with backoff until the platform answers', async () => {
    const server = await startServer(c);
    const port = server.addresses().port;
    await server.close();
    const dev = device(port, { registerAttemptMs: 100 });
    const started = dev.start();
    await sleepMs(600);
    expect(dev.registered).toBe(false);
    expect(dev.stats.registerAttempts).toBeGreaterThanOrEqual(2);
    const again = await startServer(c, { port });
    await started;
    expect(again.registry.get('dev1')).toBeDefined();
  });

  it('heartbeats at the interval the platform set', async () => {
    const server = await startServer(c, { keepAliveSeconds: 1 });
    const dev = device(server);
    await dev.start();
    const registeredAt = server.registry.get('dev1')!.lastSeen;
    await sleepMs(2600);
    expect(dev.stats.keepalivesSent).toBeGreaterThanOrEqual(2);
    expect(server.stats.keepalives).toBeGreaterThanOrEqual(2);
    expect(server.registry.get('dev1')!.lastSeen).toBeGreaterThan(registeredAt);
    expect(dev.stats.keepalivesMissed).toBe(0);
  });

  it('sends each KEEPALIVE exactly one interval after the last (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const server = await startServer(c, { keepAliveSeconds: 15 });
    const dev = device(server);
    await dev.start();
    // Real I/O, fake clock: yield to the event loop until the condition holds (bounded).
    const until = async (cond: () => boolean): Promise<void> => {
      for (let i = 0; i < 20_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
      expect(cond()).toBe(true);
    };
    vi.advanceTimersByTime(14_999);
    expect(dev.stats.keepalivesSent).toBe(0);
    vi.advanceTimersByTime(1);
    expect(dev.stats.keepalivesSent).toBe(1);
    await until(() => server.stats.keepalives === 1 && dev.stats.keepalivesAnswered === 1);
    vi.advanceTimersByTime(15_000);
    expect(dev.stats.keepalivesSent).toBe(2);
    await until(() => server.stats.keepalives === 2 && dev.stats.keepalivesAnswered === 2);
    expect(dev.stats.keepalivesMissed).toBe(0);
  });

  it('registers again after a server restart (unknown-device answer to KEEPALIVE)', async () => {
    const first = await startServer(c, { keepAliveSeconds: 1 });
    const port = first.addresses().port;
    const dev = device(first);
    await dev.start();
    await first.close();
    const reregistered = new Promise((r) => dev.once('registered', r));
    const second = await startServer(c, { keepAliveSeconds: 1, port });
    const online = await nextEvent(second, 'online', 8000);
    await reregistered;
    expect(online.deviceId).toBe('dev1');
    expect(second.stats.unknownDevice).toBeGreaterThanOrEqual(1);
    expect(dev.stats.registrations).toBe(2);
  });

  it('answers a KEEPALIVE or any request from an unknown device with the re-register status', async () => {
    const server = await startServer(c);
    const peer = await RawPeer.open(c);
    const port = server.addresses().port;
    peer.send(request('KEEPALIVE', 5, { deviceId: 'ghost' }), port);
    expect(await peer.next()).toMatchObject({ kind: 'response', command: 'KEEPALIVE', sequence: 5, status: 403 });
    peer.send(
      request('DEVICESTATUS', 6, { deviceId: 'ghost', time: '2026-01-01 00:00:00', statusType: 'DISKFULL' }),
      port,
    );
    expect(await peer.next()).toMatchObject({ command: 'DEVICESTATUS', status: 403 });
    expect(server.stats.unknownDevice).toBe(2);
    expect(server.devices()).toEqual([]);
  });

  it('marks a silent device offline after 6 missed 15 s intervals (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const server = await startServer(c);
    const peer = await RawPeer.open(c);
    const port = server.addresses().port;
    peer.send(request('REGISTER', 1, registerParams('silent')), port);
    expect(await peer.next()).toMatchObject({ status: 200, params: { keepAliveSeconds: 15 } });
    const events: EhomeEvent[] = [];
    server.on('offline', (e) => events.push(e));
    vi.advanceTimersByTime(60_000);
    peer.send(request('KEEPALIVE', 2, { deviceId: 'silent' }), port);
    expect(await peer.next()).toMatchObject({ command: 'KEEPALIVE', status: 200 });
    vi.advanceTimersByTime(89_000);
    expect(events).toEqual([]);
    expect(server.registry.get('silent')).toBeDefined();
    vi.advanceTimersByTime(2_000);
    expect(events).toMatchObject([{ type: 'offline', deviceId: 'silent', reason: 'timeout' }]);
    expect(server.registry.get('silent')).toBeUndefined();
    // Offline means unknown: its next KEEPALIVE is told to register again.
    peer.send(request('KEEPALIVE', 3, { deviceId: 'silent' }), port);
    expect(await peer.next()).toMatchObject({ command: 'KEEPALIVE', status: 403 });
  });

  it('takes the interval count and the interval from options', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const server = await startServer(c, { keepAliveSeconds: 10, offlineAfterMissed: 2 });
    const peer = await RawPeer.open(c);
    peer.send(request('REGISTER', 1, registerParams('d2')), server.addresses().port);
    expect(await peer.next()).toMatchObject({ params: { keepAliveSeconds: 10 } });
    vi.advanceTimersByTime(19_500);
    expect(server.registry.get('d2')).toBeDefined();
    vi.advanceTimersByTime(1_600);
    expect(server.registry.get('d2')).toBeUndefined();
  });

  it('drops the links of a device that goes offline: outstanding requests fail', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const server = await startServer(c, { requestAttemptMs: 600_000 });
    const peer = await RawPeer.open(c);
    peer.send(request('REGISTER', 1, registerParams('mute')), server.addresses().port);
    await peer.next();
    const pending = server.device('mute').workStatus();
    const failed = expect(pending).rejects.toBeInstanceOf(DeviceOfflineError);
    await peer.next(); // the request reached it; it never answers
    vi.advanceTimersByTime(92_000);
    await failed;
  });

  it('logs out on LOGOUT', async () => {
    const server = await startServer(c);
    const dev = device(server);
    await dev.start();
    const offline = nextEvent(server, 'offline');
    await dev.logout();
    expect(await offline).toMatchObject({ deviceId: 'dev1', reason: 'logout' });
  });

  it('delivers events as an async iterable', async () => {
    const server = await startServer(c);
    const ac = new AbortController();
    const seen: string[] = [];
    const loop = (async () => {
      try {
        for await (const e of server.events({ signal: ac.signal })) {
          seen.push(`${e.type}:${'deviceId' in e ? e.deviceId : ''}`);
          if (e.type === 'gps') break;
        }
      } catch (e) {
        if (!AbortError.isInstance(e)) throw e;
      }
    })();
    const dev = device(server);
    await dev.start();
    await dev.sendGps({ latitude: -33.5, longitude: 151.25 });
    await loop;
    expect(seen).toEqual(['online:dev1', 'gps:dev1']);
  });
});

describe('commands from the platform', () => {
  async function pair(options: Parameters<typeof startServer>[1] = {}, version = '4.0') {
    const server = await startServer(c, options);
    const dev = device(server, { channels: 2, version });
    await dev.start();
    return { server, dev, h: server.device('dev1') };
  }

  it('CAPTUREPICTURE: the device uploads a JPEG, linked to the request', async () => {
    const { server, h, dev } = await pair();
    const media = nextEvent(server, 'media');
    const pic = await h.capturePicture({ channel: 2, resolution: '1920*1080' });
    expect(pic.response.picId).toBe(pic.picId);
    expect(pic.media).toMatchObject({ kind: 'picture', deviceId: 'dev1', id: pic.picId, channel: 2 });
    const bytes = readFileSync(pic.media!.path);
    expect(bytes.length).toBe(pic.response.picSize);
    expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect([...bytes.subarray(-2)]).toEqual([0xff, 0xd9]);
    expect((await media).linkedTo).toBe('capture');
    const pics = await h.queryPictures({ channel: 2, start: '2000-01-01 00:00:00', stop: '2099-12-31 23:59:59' });
    expect(pics).toEqual([{ picId: pic.picId, time: dev.pictures[0]!.time, size: bytes.length }]);
    await expect(h.capturePicture({ channel: 9 })).rejects.toMatchObject({ name: 'DeviceStatusError', code: 404 });
    // The failed capture left no upload waiter behind.
    expect((server as unknown as { linker: { sizes: { captures: number } } }).linker.sizes.captures).toBe(0);
  });

  it('REBOOT: answered, then the device registers again', async () => {
    const { server, h, dev } = await pair();
    const rebooted = new Promise<void>((r) => dev.once('reboot', r));
    const back = nextEvent(server, 'online', 5000, (e) => e.reRegistered);
    const reregistered = new Promise((r) => dev.once('registered', r));
    await h.reboot();
    await rebooted;
    await back;
    await reregistered;
    expect(dev.stats.registrations).toBe(2);
  });

  it('UPGRADE: the device downloads the package and reports', async () => {
    const { h, dev } = await pair();
    const pkg = Buffer.alloc(200_000, 7);
    const http = createServer((req, res) => {
      if (req.url === '/fw.bin') res.end(pkg);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    c.add(() => new Promise<void>((r) => http.close(() => r())), undefined);
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const sha256 = createHash('sha256').update(pkg).digest('hex');
    const ok = await h.upgrade(`${base}/fw.bin`, { version: 'V9.9.9', sha256, fileSize: pkg.length });
    expect(ok).toMatchObject({ deviceId: 'dev1', state: 'SUCCEEDED', progress: 100, bytes: pkg.length, sha256 });
    expect(dev.firmwareVersion).toBe('V9.9.9');
    const bad = await h.upgrade(`${base}/fw.bin`, { sha256: '0'.repeat(64) });
    expect(bad).toMatchObject({ state: 'FAILED', reason: 'SHA256 mismatch' });
    const missing = await h.upgrade(`${base}/nope.bin`);
    expect(missing).toMatchObject({ state: 'FAILED', reason: 'HTTP 404' });
  });

  it('PTZCONTROL, work status, capabilities', async () => {
    const { h, dev } = await pair();
    await h.ptz({ channel: 2, command: 'ZOOM_IN', action: 'Start', speed: 7 });
    expect(dev.ptzState.get(2)).toEqual({ command: 'ZOOM_IN', action: 'Start', speed: 7 });
    await h.ptz({ channel: 2, command: 'ZOOM_IN', action: 'Stop' });
    expect(dev.ptzState.get(2)?.action).toBe('Stop');
    const status = await h.workStatus();
    expect(status.run).toBe(0);
    expect(status.channels.map((x) => x.channel)).toEqual([1, 2]);
    expect(status.disks).toHaveLength(1);
    expect(await h.capabilities()).toMatchObject({ channelNumber: 2, ptz: 1, streamTypes: 'MAIN,SUB,THIRD' });
  });

  it('GETDEVICECONFIG / SETDEVICECONFIG, with an EHome 2.0 device speaking GB2312', async () => {
    const { h, server } = await pair({}, '2.0');
    expect(server.registry.get('dev1')?.encoding).toBe('GB2312');
    expect(await h.getConfig('GetServerInfo', { params: [0, 0, 0, 0] })).toMatchObject({
      SERVERINFO: { ChannelNumber: '2', StartChannel: '1' },
    });
    const plan = { RecordPlan: { Enable: 'true', Day: ['1', '2', '3'], Note: '全天 <all day>' } };
    await h.setConfig('RecordCfg', plan);
    expect(await h.getConfig('RecordCfg')).toEqual(plan);
    await expect(h.getConfig('NoSuchBlock')).rejects.toMatchObject({ name: 'DeviceStatusError', code: 404 });
    await expect(h.setConfig('GetServerInfo', {})).rejects.toBeInstanceOf(DeviceStatusError);
  });

  it('QUERYRECORDEDFILES pages through the simulated index', async () => {
    const { h, dev } = await pair();
    const all = await h.queryRecords({
      channel: 1,
      start: '2026-01-01 00:00:00',
      stop: '2026-01-01 23:59:59',
      chunkSize: 5,
    });
    expect(all).toHaveLength(24);
    expect(all.map((f) => f.name)).toEqual(dev.recordings.filter((r) => r.channel === 1).map((r) => r.name));
    // 16 lines do not fit in 1500 bytes: the device answers with fewer, the platform pages on until an empty page.
    const big = await h.queryRecords({
      channel: 1,
      start: '2026-01-01 00:00:00',
      stop: '2026-01-01 23:59:59',
      chunkSize: 16,
    });
    expect(big).toEqual(all);
    // Names carry the channel and start; recordings last 10..60 s at a time of the hour derived from the date.
    const first = dev.recordings[0]!;
    expect(all[0]).toEqual({ name: first.name, start: first.start, stop: first.stop, size: first.size, flag: 0 });
    expect(first.name).toBe(`ch0001_${first.start.replace(/[- :]/g, '')}`);
    expect(first.start.slice(0, 13)).toBe('2026-01-01 00');
    expect(first.durationMs).toBe(Date.parse(`${first.stop.replace(' ', 'T')}Z`) - first.startMs);
    expect(first.size).toBeGreaterThan(0);
    const alarmOnly = await h.queryRecords({
      channel: 2,
      fileType: 1,
      start: '2026-01-01 06:00:00',
      stop: '2026-01-01 18:00:00',
    });
    expect(alarmOnly.map((f) => f.start.slice(0, 13))).toEqual(['2026-01-01 07', '2026-01-01 11', '2026-01-01 15']);
    // Any day has recordings, the same ones every time it is asked.
    const otherDay = await h.queryRecords({ start: '2025-01-01 00:00:00', stop: '2025-01-01 01:59:59' });
    expect(otherDay.map((f) => f.start.slice(0, 13))).toEqual(['2025-01-01 00', '2025-01-01 01']);
    expect(await h.queryRecords({ start: '2025-01-01 00:00:00', stop: '2025-01-01 01:59:59' })).toEqual(otherDay);
  });

  it('MEDIA without a media handler is answered 501 (preview and playback are part 2)', async () => {
    const { h } = await pair();
    const r = await h.request('INVITESTREAM', { channel: 1, channelType: 'MAIN', sinkIp: '127.0.0.1', sinkPort: 9 });
    expect(r).toMatchObject({ status: 501, command: 'INVITESTREAM' });
  });

  it('hands MEDIA requests to the media handler', async () => {
    const server = await startServer(c);
    const dev = device(server, {
      mediaHandler: async (req) =>
        req.command === 'INVITESTREAM'
          ? { status: 200, description: 'OK', params: { session: `s${req.params.sinkPort}` } }
          : { status: 200, description: 'OK', params: {} },
    });
    await dev.start();
    const r = await server
      .device('dev1')
      .call('INVITESTREAM', { channel: 1, channelType: 'SUB', sinkIp: '127.0.0.1', sinkPort: 20000 });
    expect(r).toEqual({ session: 's20000' });
  });

  it('GPS, status and transparent data from the device become events', async () => {
    const { server, dev } = await pair();
    const gps = nextEvent(server, 'gps');
    await dev.sendGps({ latitude: -33.5, longitude: 151.25, speed: 1200, satellites: 9 });
    const g = await gps;
    expect(g.latitude).toBeCloseTo(-33.5, 6);
    expect(g.longitude).toBeCloseTo(151.25, 6);
    expect(g.gps).toMatchObject({ divisionNS: 'S', divisionEW: 'E', latitude: 33.5 * 360000, satellites: 9 });
    const status = nextEvent(server, 'status');
    await dev.sendStatus('DISKFULL', { description: '硬盘满' });
    expect((await status).status).toMatchObject({ statusType: 'DISKFULL', description: '硬盘满' });
    const data = nextEvent(server, 'data');
    await dev.sendData(new Uint8Array([1, 2, 3, 250]), { dataType: 'RS485' });
    expect(Buffer.from((await data).data.data, 'base64')).toEqual(Buffer.from([1, 2, 3, 250]));
  });
});

describe('requests: correlation, resends, timeout, abort', () => {
  async function rawDevice(options: Parameters<typeof startServer>[1] = {}) {
    const server = await startServer(c, { requestAttemptMs: 80, ...options });
    const peer = await RawPeer.open(c);
    peer.send(request('REGISTER', 1, registerParams('raw')), server.addresses().port);
    await peer.next();
    return { server, peer };
  }

  it('resends with the same Sequence until the reply comes', async () => {
    const { server, peer } = await rawDevice();
    const pending = server.device('raw').reboot();
    const first = await peer.next();
    const second = await peer.next();
    const third = await peer.next();
    expect(first).toMatchObject({ kind: 'request', command: 'REBOOT' });
    expect(second.sequence).toBe(first.sequence);
    expect(third.sequence).toBe(first.sequence);
    if (third.kind !== 'request' || third.command !== 'REBOOT') throw new Error('not a REBOOT');
    // A reply with another sequence is ignored; the right one resolves.
    peer.send(response({ ...third, sequence: third.sequence + 1000 }, 200, 'OK', {}), server.addresses().port);
    peer.send(response(third, 200, 'OK', {}), server.addresses().port);
    await pending;
    expect(server.stats.resends).toBe(2);
    expect(server.stats.unmatchedResponses).toBe(1);
  });

  it('times out with a typed error after 3 resends', async () => {
    const { server, peer } = await rawDevice();
    const e = await server
      .device('raw')
      .workStatus()
      .catch((x: unknown) => x);
    expect(TimeoutError.isInstance(e)).toBe(true);
    let n = 0;
    while (!(await peer.silent(0))) {
      await peer.next();
      n++;
    }
    expect(n).toBe(4);
    expect(server.stats.timeouts).toBe(1);
  });

  it('stops at once when the AbortSignal fires', async () => {
    // An attempt lasts 20 s: a call that ended well before that stopped on the signal (the margin is wide so that
    // a loaded machine cannot make the check fail).
    const { server } = await rawDevice({ requestAttemptMs: 20_000 });
    const ac = new AbortController();
    const p = server.device('raw').workStatus({ signal: ac.signal });
    setTimeout(() => ac.abort(new AbortError('user')), 50);
    const t0 = Date.now();
    await expect(p).rejects.toMatchObject({ name: 'AbortError', message: 'user' });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('rejects at once for a device that is not online', async () => {
    const server = await startServer(c);
    await expect(server.device('nobody').reboot()).rejects.toBeInstanceOf(DeviceOfflineError);
  });
});

/** The device's own UDP socket: lets a test send from the registered address what the device would not. */
const deviceSocket = (dev: EhomeDevice): Socket => (dev as unknown as { socket: Socket }).socket;

function post(port: number, path: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('alarms and their media', () => {
  async function pair(options: Parameters<typeof startServer>[1] = {}) {
    const server = await startServer(c, options);
    const dev = device(server);
    await dev.start();
    return { server, dev };
  }

  it('links pictures uploaded after the alarm', async () => {
    const { server, dev } = await pair();
    const alarm = nextEvent(server, 'alarm');
    const { picIds } = await dev.raiseAlarm({ pictures: 2, order: 'after', alarmType: 'MOTION' });
    const e = await alarm;
    expect(e.complete).toBe(true);
    expect(e.alarm).toMatchObject({ alarmType: 'MOTION', picIds });
    expect(e.pictures.map((p) => p.id)).toEqual(picIds);
    for (const p of e.pictures) expect(existsSync(p.path)).toBe(true);
  });

  it('links pictures and a video uploaded before the alarm', async () => {
    const { server, dev } = await pair();
    const alarm = nextEvent(server, 'alarm');
    const video = new Uint8Array(5000).fill(9);
    const { picIds, videoId } = await dev.raiseAlarm({ pictures: 1, video, order: 'before' });
    const e = await alarm;
    expect(e).toMatchObject({ complete: true, missing: [] });
    expect(e.pictures.map((p) => p.id)).toEqual(picIds);
    expect(e.video).toMatchObject({ kind: 'video', id: videoId, size: 5000 });
    expect(server.stats.alarms).toBe(1);
  });

  it('reports an alarm whose pictures never come, after the link timeout, listing them', async () => {
    const { server, dev } = await pair({ linkTimeoutMs: 200, sweepIntervalMs: 50 });
    const alarm = nextEvent(server, 'alarm');
    // The device's own socket is the registered address; send through it to the AMS.
    const ams = server.addresses().alarmPort!;
    const msg = request('ALARM', 900, {
      deviceId: 'dev1',
      channel: 1,
      alarmType: 'IO',
      alarmTime: '2026-01-01 00:00:00',
      picIds: ['never1'],
      needsResponse: 0,
    });
    deviceSocket(dev).send(encodeMessage(msg), ams, '127.0.0.1');
    const e = await alarm;
    expect(e).toMatchObject({ complete: false, missing: ['never1'], pictures: [] });
  });

  it('answers a resent alarm again but reports it once', async () => {
    const { server, dev } = await pair();
    const a = dev.address();
    const peerLike = deviceSocket(dev);
    const msg = encodeMessage(
      request('ALARM', 901, {
        deviceId: 'dev1',
        channel: 1,
        alarmType: 'IO',
        alarmTime: '2026-01-01 00:00:00',
        picIds: [],
      }),
    );
    const events: EhomeEvent[] = [];
    server.on('alarm', (e) => events.push(e));
    peerLike.send(msg, server.addresses().alarmPort!, '127.0.0.1');
    peerLike.send(msg, server.addresses().alarmPort!, '127.0.0.1');
    await sleepMs(200);
    expect(events).toHaveLength(1);
    expect(a.port).toBeGreaterThan(0);
  });
});

describe('access control and spoofing', () => {
  it('refuses a spoofed DeviceID from another address and keeps the real session', async () => {
    const logs: string[] = [];
    const server = await startServer(c, {
      passwords: { dev1: 'pw-1' },
      allowlist: ['dev1', 'dev2'],
      log: (_l, m) => logs.push(m),
    });
    const dev = device(server, { password: 'pw-1' });
    await dev.start();
    const real = { ...server.registry.get('dev1')! };
    const spoofer = await RawPeer.open(c, '127.0.0.2');
    const port = server.addresses().port;

    spoofer.send(request('REGISTER', 1, registerParams('dev1')), port);
    expect(await spoofer.next()).toMatchObject({ command: 'REGISTER', status: 401 });
    spoofer.send(request('REGISTER', 2, registerParams('dev1', 'guess')), port);
    expect(await spoofer.next()).toMatchObject({ command: 'REGISTER', status: 401 });
    spoofer.send(request('KEEPALIVE', 3, { deviceId: 'dev1' }), port);
    expect(await spoofer.next()).toMatchObject({ command: 'KEEPALIVE', status: 403 });
    spoofer.send(
      request('ALARM', 4, {
        deviceId: 'dev1',
        channel: 1,
        alarmType: 'X',
        alarmTime: '2026-01-01 00:00:00',
        picIds: [],
      }),
      server.addresses().alarmPort!,
    );
    expect(await spoofer.next()).toMatchObject({ command: 'ALARM', status: 403 });
    // A picture upload claiming dev1 from 127.0.0.2 is refused too.
    const { picturePort } = server.addresses();
    const upload = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: picturePort,
          method: 'POST',
          path: '/ehome/pictures?DeviceID=dev1&PicID=x',
          localAddress: '127.0.0.2',
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    });
    expect(upload).toBe(403);

    expect(server.registry.get('dev1')).toMatchObject({ address: real.address, port: real.port });
    expect(server.stats.refused).toBe(2);
    expect(server.stats.addressMismatch).toBe(2);
    // The real device is unaffected.
    await expect(server.device('dev1').workStatus()).resolves.toMatchObject({ run: 0 });

    // Not on the allowlist: refused whatever the password.
    spoofer.send(request('REGISTER', 5, registerParams('dev3')), port);
    expect(await spoofer.next()).toMatchObject({ status: 403 });
    expect(logs.filter((m) => m === 'register refused')).toHaveLength(3);
  });

  it('moves the session on a REGISTER from a new address with the right password (NAT rebinding), and logs it', async () => {
    const logs: { message: string; fields: Record<string, unknown> }[] = [];
    const server = await startServer(c, {
      passwords: { dev1: 'pw-1' },
      log: (_l, message, fields) => logs.push({ message, fields }),
    });
    const dev = device(server, { password: 'pw-1' });
    await dev.start();
    const old = dev.address();
    const moved = nextEvent(server, 'moved');
    const rebound = await RawPeer.open(c, '127.0.0.2');
    rebound.send(request('REGISTER', 7, registerParams('dev1', 'pw-1')), server.addresses().port);
    expect(await rebound.next()).toMatchObject({ status: 200 });
    const e = await moved;
    expect(e.from).toEqual({ address: '127.0.0.1', port: old.port });
    expect(e.to).toEqual({ address: '127.0.0.2', port: rebound.port });
    expect(server.registry.get('dev1')).toMatchObject({ address: '127.0.0.2', port: rebound.port });
    expect(logs.some((l) => l.message.startsWith('session moved'))).toBe(true);
  });
});

describe('robustness', () => {
  it('counts and drops bad datagrams on both UDP servers and keeps working', async () => {
    const server = await startServer(c);
    const peer = await RawPeer.open(c);
    const { port, alarmPort } = server.addresses();
    const dropped: EhomeEvent[] = [];
    server.on('dropped', (e) => dropped.push(e));
    const garbage = [
      new Uint8Array([1, 2, 3]),
      new TextEncoder().encode('<!DOCTYPE x [<!ENTITY a "b">]><PPVSPMessage/>'),
      new Uint8Array(1600).fill(0x41),
      new TextEncoder().encode('<PPVSPMessage><Version>2.0</Version>'),
    ];
    for (const g of garbage) {
      peer.send(g, port);
      peer.send(g, alarmPort!);
    }
    await sleepMs(150);
    expect(server.stats.badDatagrams).toBe(8);
    expect(dropped).toHaveLength(8);
    expect(await peer.silent(50)).toBe(true);
    peer.send(request('REGISTER', 1, registerParams('ok')), port);
    expect(await peer.next()).toMatchObject({ status: 200 });
    // A platform command sent to the platform is answered, not ignored.
    peer.send(request('REBOOT', 2, {}), port);
    expect(await peer.next()).toMatchObject({ command: 'REBOOT', status: 400 });
    // Anything but ALARM at the alarm server is dropped and counted.
    peer.send(request('KEEPALIVE', 3, { deviceId: 'ok' }), alarmPort!);
    await sleepMs(100);
    expect(server.stats.badDatagrams).toBe(9);
  });

  it('picture server: size limit, JPEG check, safe names, unknown paths', async () => {
    const server = await startServer(c, { maxPictureBytes: 1000 });
    const dev = device(server, { deviceId: 'cam.01' });
    await dev.start();
    const port = server.addresses().picturePort!;
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
    const big = new Uint8Array(5000);
    big.set([0xff, 0xd8, 0xff]);
    expect(await post(port, '/ehome/pictures?DeviceID=cam.01&PicID=big', big)).toBe(413);
    expect(
      await post(port, '/ehome/pictures?DeviceID=cam.01&PicID=png', new Uint8Array([0x89, 0x50, 0x4e, 0x47])),
    ).toBe(415);
    expect(await post(port, '/ehome/pictures?DeviceID=cam.01&PicID=..%2F..%2Fetc', jpeg)).toBe(400);
    expect(await post(port, '/ehome/pictures?DeviceID=ghost&PicID=p', jpeg)).toBe(403);
    expect(await post(port, '/elsewhere', jpeg)).toBe(404);
    const media = nextEvent(server, 'media');
    expect(await post(port, '/ehome/pictures?DeviceID=cam.01&PicID=..', jpeg)).toBe(200);
    const m = (await media).media;
    expect(m.path.startsWith(server.pictures!.directory)).toBe(true);
    expect(m.path).not.toContain('/../');
    expect(m.path.split('/').pop()).toMatch(/^cam~2e01_~2e~2e_[_0-9]+\.jpg$/);
    expect(readFileSync(m.path)).toEqual(Buffer.from(jpeg));
    expect(server.pictures!.refused).toBe(5);
  });
});
