/**
 * Issue 22, EHome items: each test reproduces the attack first (it failed before the fix), then checks the limit.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FrameTooLargeError } from '@cam/net-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeMessageText,
  EhomeDevice,
  type EhomeServer,
  encodeMessage,
  implausibleSignal,
  request,
  SignalTooLargeError,
} from '../src/index.js';
import { Cleanup, nextEvent, RawPeer, registerParams, sleepMs, startServer, track } from './helpers.js';

const c = new Cleanup();
afterEach(() => c.run());

function device(server: EhomeServer | number, options: Partial<ConstructorParameters<typeof EhomeDevice>[0]> = {}) {
  return track(
    c,
    new EhomeDevice({
      server: { host: '127.0.0.1', port: typeof server === 'number' ? server : server.addresses().port },
      deviceId: 'dev1',
      localAddress: '127.0.0.1',
      backoff: { initialMs: 50, maxMs: 400 },
      ...options,
    }),
  );
}

describe('item 6: session takeover, session cap, REGISTER rate', () => {
  it('a REGISTER for an online DeviceID from another address is held and refused while the device answers', async () => {
    const server = await startServer(c, { takeoverProbeMs: 600, requestAttemptMs: 200 });
    const dev = device(server);
    await dev.start();
    const real = dev.address();
    const attacker = await RawPeer.open(c, '127.0.0.2');
    const port = server.addresses().port;
    const moved: unknown[] = [];
    server.on('moved', (e) => moved.push(e));
    // Before the fix the attacker got 200 at once and the session moved to 127.0.0.2.
    attacker.send(request('REGISTER', 1, registerParams('dev1')), port);
    // Held while the registered address is probed; the real device answered the probe: the claim is refused.
    expect(await attacker.next(3000)).toMatchObject({ command: 'REGISTER', status: 403 });
    expect(server.registry.get('dev1')).toMatchObject({ address: '127.0.0.1', port: real.port });
    // Further claims right after are refused at once, without probing the device again.
    const probes = server.stats.requestsSent;
    for (let i = 2; i <= 4; i++) attacker.send(request('REGISTER', i, registerParams('dev1')), port);
    for (let i = 2; i <= 4; i++) expect(await attacker.next(3000)).toMatchObject({ status: 403 });
    expect(server.stats.requestsSent).toBe(probes);
    expect(moved).toHaveLength(0);
    expect(server.registry.get('dev1')).toMatchObject({ address: '127.0.0.1', port: real.port });
    expect(server.stats.registersHeld).toBe(1);
    await expect(server.device('dev1').workStatus()).resolves.toMatchObject({ run: 0 });
  });

  it('a claim cannot win because the platform cannot probe (too many outstanding requests): it is refused', async () => {
    // maxPendingRequests 0: every platform request, the probe included, fails at once without reaching the device.
    const server = await startServer(c, { takeoverProbeMs: 600, maxPendingRequests: 0 });
    const dev = device(server);
    await dev.start();
    const attacker = await RawPeer.open(c, '127.0.0.2');
    attacker.send(request('REGISTER', 1, registerParams('dev1')), server.addresses().port);
    expect(await attacker.next(3000)).toMatchObject({ command: 'REGISTER', status: 403 });
    expect(server.registry.get('dev1')).toMatchObject({ address: '127.0.0.1', port: dev.address().port });
  });

  it('NAT rebinding without a password: the session moves once the old address stops answering', async () => {
    const server = await startServer(c, { takeoverProbeMs: 400, requestAttemptMs: 150 });
    const dev = device(server);
    await dev.start();
    const old = dev.address();
    await dev.close(); // the old NAT mapping is gone: nothing answers there
    const rebound = await RawPeer.open(c, '127.0.0.2');
    const moved = nextEvent(server, 'moved');
    rebound.send(request('REGISTER', 9, registerParams('dev1')), server.addresses().port);
    // The held REGISTER itself is answered when the probe ends in silence.
    expect(await rebound.next(3000)).toMatchObject({ command: 'REGISTER', status: 200, sequence: 9 });
    expect((await moved).from).toEqual({ address: '127.0.0.1', port: old.port });
    expect(server.registry.get('dev1')).toMatchObject({ address: '127.0.0.2', port: rebound.port });
  });

  it('caps sessions: REGISTERs from invented IDs beyond maxSessions are refused and do not grow the registry', async () => {
    const server = await startServer(c, { maxSessions: 5 });
    const peer = await RawPeer.open(c, '127.0.0.2');
    const port = server.addresses().port;
    for (let i = 0; i < 8; i++) {
      peer.send(request('REGISTER', i + 1, registerParams(`fake${i}`)), port);
      await peer.next();
    }
    expect(server.registry.size).toBe(5);
    expect(server.stats.sessionsRefused).toBe(3);
    // A known device registering again is not a new session: still accepted at the cap.
    peer.send(request('REGISTER', 20, registerParams('fake0')), port);
    expect(await peer.next()).toMatchObject({ status: 200 });
  });

  it('limits sessions per source: one address cannot fill the session cap and lock other devices out', async () => {
    const server = await startServer(c, { maxSessions: 10, maxSessionsPerSource: 4 });
    const peer = await RawPeer.open(c, '127.0.0.2');
    const port = server.addresses().port;
    for (let i = 0; i < 10; i++) {
      peer.send(request('REGISTER', i + 1, registerParams(`fake${i}`)), port);
      await peer.next();
    }
    expect(server.registry.size).toBe(4);
    const dev = device(server, { deviceId: 'legit' });
    await dev.start({ timeoutMs: 3000 });
    expect(server.registry.get('legit')).toBeDefined();
  });

  it('limits REGISTERs per source: a flood from one address is throttled, a device elsewhere still registers', async () => {
    const server = await startServer(c, { registerRate: { perSecond: 20, burst: 20 } });
    const flood = await RawPeer.open(c, '127.0.0.2');
    const port = server.addresses().port;
    for (let i = 0; i < 300; i++) {
      flood.send(request('REGISTER', i + 1, registerParams(`inv${i}`)), port);
      if (i % 10 === 9) await sleepMs(2); // paced, so the socket buffer keeps them and the bucket decides
    }
    const dev = device(server, { deviceId: 'legit' });
    await dev.start({ timeoutMs: 5000 });
    await sleepMs(200);
    // 20 of the burst and the tokens refilled meanwhile (20/s).
    expect(server.registry.size).toBeLessThanOrEqual(1 + 20 + 40);
    // (Some of the 300 datagrams may be lost in the socket buffer; every one that arrived beyond the bucket is dropped.)
    expect(server.stats.registersThrottled).toBeGreaterThanOrEqual(200);
    expect(server.registry.get('legit')).toBeDefined();
  });
});

describe('item 7: the simulated device reads a picture server reply with a cap', () => {
  it('an endless reply ends in a FrameTooLargeError after maxReplyBytes, not a read of everything', async () => {
    // A malicious "picture server" answering every upload with an endless body.
    let sent = 0;
    const evil = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = (): void => {
        while (sent < 512 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 512 * 1024 * 1024) res.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
    c.add(() => {
      evil.closeAllConnections();
      return new Promise<void>((r) => evil.close(() => r()));
    }, undefined);
    const server = await startServer(c);
    const dev = device(server, { maxReplyBytes: 4096 });
    await dev.start();
    // Point the device's picture server at the evil one (what a hostile platform's REGISTER answer would do).
    dev.registration!.pictureServerPort = (evil.address() as AddressInfo).port;
    await expect(dev.raiseAlarm({ pictures: 1 })).rejects.toSatisfy((e) => FrameTooLargeError.isInstance(e));
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('item 8: decodeMessageText has a size cap', () => {
  it('refuses a 900 KB text before parsing, with a typed error', () => {
    const text = `<PPVSPMessage>${'<a>'.repeat(300_000)}`;
    expect(() => decodeMessageText(text)).toThrow(SignalTooLargeError);
  });
});

/** POSTs a body to the picture server from `localAddress`; resolves with the status. */
function post(port: number, path: string, body: Uint8Array, localAddress = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, localAddress }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}
const JPEG = (n: number): Uint8Array => {
  const b = new Uint8Array(n).fill(0x11);
  b.set([0xff, 0xd8, 0xff]);
  return b;
};

describe('item 4: slow authorised uploads cannot hold the picture server', () => {
  it('64 uploads at 2 B/s from one registered device: a device elsewhere uploads during, the slow ones are cut', async () => {
    const server = await startServer(c, { pictureLimits: { uploadGraceMs: 1000, minUploadBytesPerSecond: 1024 } });
    const port = server.addresses().port;
    const picturePort = server.addresses().picturePort!;
    // The attacker is a registered device (it may upload) at 127.0.0.2.
    const attacker = await RawPeer.open(c, '127.0.0.2');
    attacker.send(request('REGISTER', 1, registerParams('evil')), port);
    expect(await attacker.next()).toMatchObject({ status: 200 });
    const slow: Socket[] = [];
    let closed = 0;
    for (let i = 0; i < 64; i++) {
      const s = connect({ host: '127.0.0.1', port: picturePort, localAddress: '127.0.0.2' });
      s.on('error', () => {});
      s.on('close', () => closed++);
      c.add(() => s.destroy(), undefined);
      s.write(`POST /ehome/pictures?DeviceID=evil&PicID=s${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`);
      s.write(Buffer.from([0xff, 0xd8, 0xff]));
      slow.push(s);
    }
    const drip = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write(Buffer.from([0x00]));
    }, 500);
    c.add(() => clearInterval(drip), undefined);
    await sleepMs(300);
    // During the attack (before the fix all 64 slots were the attacker's: 503 here).
    const dev = device(server);
    await dev.start();
    const alarm = nextEvent(server, 'alarm', 10_000, (e) => e.deviceId === 'dev1');
    await dev.raiseAlarm({ pictures: 1 });
    expect((await alarm).pictures).toHaveLength(1);
    expect(await post(picturePort, '/ehome/pictures?DeviceID=dev1&PicID=direct', JPEG(2000))).toBe(200);
    // The attacker got at most its per-source share of slots, and those are cut for being slower than 1 KiB/s.
    await expect.poll(() => server.pictures!.slowUploadsCut, { timeout: 5000 }).toBeGreaterThanOrEqual(8);
    await expect.poll(() => closed, { timeout: 5000 }).toBe(64);
    // After: the legitimate device still uploads.
    expect(await post(picturePort, '/ehome/pictures?DeviceID=dev1&PicID=after', JPEG(2000))).toBe(200);
  });

  it('limits connections per source address', async () => {
    const server = await startServer(c, { pictureLimits: { maxConnectionsPerSource: 4 } });
    const picturePort = server.addresses().picturePort!;
    let closed = 0;
    for (let i = 0; i < 10; i++) {
      const s = connect({ host: '127.0.0.1', port: picturePort, localAddress: '127.0.0.2' });
      s.on('error', () => {});
      s.on('close', () => closed++);
      c.add(() => s.destroy(), undefined);
    }
    await expect.poll(() => closed).toBe(6);
    expect(server.pictures!.connectionsRefused).toBe(6);
    const dev = device(server);
    await dev.start();
    await expect(dev.raiseAlarm({ pictures: 1 })).resolves.toMatchObject({ picIds: [expect.any(String)] });
  });
});

describe('item 8: picture storage across restarts and DeviceIDs', () => {
  it('the stored-bytes budget counts files of earlier runs and .part files of a crash are removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ehome-budget-'));
    c.add(() => rmSync(dir, { recursive: true, force: true }), undefined);
    mkdirSync(join(dir, 'dev1'));
    writeFileSync(join(dir, 'dev1', 'dev1_p_1_1.jpg'), JPEG(5000));
    writeFileSync(join(dir, 'dev1', 'dev1_q_1_2.jpg.part'), JPEG(3000));
    const server = await startServer(c, { dataDirectory: dir, maxStoredBytes: 6000 });
    expect(existsSync(join(dir, 'dev1', 'dev1_q_1_2.jpg.part'))).toBe(false);
    expect(server.pictures!.partsRemoved).toBe(1);
    // Before the fix the budget started from 0 and these uploads were all accepted.
    expect(server.pictures!.storedBytes).toBe(5000);
    const dev = device(server);
    await dev.start();
    const picturePort = server.addresses().picturePort!;
    expect(await post(picturePort, '/ehome/pictures?DeviceID=dev1&PicID=a', JPEG(2000))).toBe(200);
    expect(await post(picturePort, '/ehome/pictures?DeviceID=dev1&PicID=b', JPEG(2000))).toBe(507);
  });

  it('DeviceIDs "..", "%2e%2e", "a.b:c@d", "a_b_c_d" and "__" store into directories of their own', async () => {
    const server = await startServer(c);
    const picturePort = server.addresses().picturePort!;
    const ids = ['..', 'a.b:c@d', 'a_b_c_d', '__'];
    const dirs = new Map<string, string>();
    for (const id of ids) {
      const dev = device(server, { deviceId: id });
      await dev.start();
      const media = nextEvent(server, 'media', 5000, (e) => e.media.deviceId === id);
      const q = id === '..' ? '%2e%2e' : encodeURIComponent(id);
      expect(await post(picturePort, `/ehome/pictures?DeviceID=${q}&PicID=p`, JPEG(100))).toBe(200);
      const m = (await media).media;
      expect(m.path.startsWith(`${server.pictures!.directory}/`)).toBe(true);
      dirs.set(id, dirname(m.path));
    }
    // Before the fix ".." and "__" shared "__", and "a.b:c@d" and "a_b_c_d" shared "a_b_c_d".
    expect(new Set(dirs.values()).size).toBe(ids.length);
    for (const d of dirs.values()) expect(dirname(d)).toBe(server.pictures!.directory);
  });
});

describe('register/alarm flood: a byte pre-check before the XML parser', () => {
  const enc = new TextEncoder();
  it('lets every signal shape through and refuses garbage by size, start and end', () => {
    const reg = encodeMessage(request('REGISTER', 1, registerParams('dev1')));
    expect(implausibleSignal(reg)).toBeUndefined();
    const padded = new Uint8Array([0xef, 0xbb, 0xbf, 0x20, 0x0a, ...reg, 0x0d, 0x0a, 0, 0]);
    expect(implausibleSignal(padded)).toBeUndefined();
    expect(implausibleSignal(enc.encode('<PPVSPMessage></PPVSPMessage>'))).toBeUndefined();
    expect(implausibleSignal(new Uint8Array(4000).fill(0x3c))).toBe('size');
    expect(implausibleSignal(new Uint8Array(3))).toBe('size');
    expect(implausibleSignal(enc.encode(`<!DOCTYPE x>${' '.repeat(40)}<PPVSPMessage/>`))).toBe('start');
    expect(implausibleSignal(enc.encode('<PPVSPMessage><Version>2.0</Version>'))).toBe('end');
    expect(implausibleSignal(reg.subarray(0, reg.lastIndexOf(0x3e)))).toBe('end');
    // every fixture signal (shapes of public captures, UTF-8 and GB2312) passes
    for (const dir of ['signals', 'peers']) {
      const url = new URL(`fixtures/${dir}/`, import.meta.url);
      for (const name of readdirSync(url).filter((n) => n.endsWith('.xml')))
        expect(implausibleSignal(readFileSync(new URL(name, url))), name).toBeUndefined();
    }
  });

  it('a flood of garbage is counted by the pre-check; dropped events only for a listener and within the budget', async () => {
    const server = await startServer(c, { droppedEventsPerSecond: 5 });
    const peer = await RawPeer.open(c, '127.0.0.2');
    const { port, alarmPort } = server.addresses();
    const garbage = [
      new Uint8Array(4000).fill(0x3c),
      enc.encode(`x${'<PPVSPMessage>'.repeat(50)}`),
      enc.encode(`<PPVSPMessage>${'<a>'.repeat(300)}`),
    ];
    // Nobody listens: counted, no event built.
    for (let i = 0; i < 300; i++) peer.send(garbage[i % 3]!, i % 2 === 0 ? port : alarmPort!);
    await sleepMs(300);
    const arrived = server.stats.badDatagrams;
    expect(arrived).toBeGreaterThan(0);
    expect(server.stats.implausibleDatagrams).toBe(arrived);
    expect(server.stats.droppedEventsSuppressed).toBe(0);
    // Someone listens: a budget of 5 events per second, the rest counted as suppressed. Before the fix every bad
    // datagram was parsed and became an event (300 events here).
    const dropped: unknown[] = [];
    server.on('dropped', (e) => dropped.push(e));
    const started = Date.now();
    for (let i = 0; i < 300; i++) peer.send(garbage[i % 3]!, port);
    await sleepMs(300);
    const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
    const arrived2 = server.stats.badDatagrams - arrived;
    expect(arrived2).toBeGreaterThan(5 * seconds);
    expect(dropped.length).toBeLessThanOrEqual(5 * seconds);
    expect(dropped.length + server.stats.droppedEventsSuppressed).toBe(arrived2);
    expect(server.stats.implausibleDatagrams).toBe(server.stats.badDatagrams);
    // The legitimate device is served.
    peer.send(request('REGISTER', 1, registerParams('ok')), port);
    expect(await peer.next()).toMatchObject({ status: 200 });
  });
});
