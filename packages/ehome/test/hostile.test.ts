/**
 * Issue 22, EHome items: each test reproduces the attack first (it failed before the fix), then checks the limit.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FrameTooLargeError } from '@cam/net-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMessageText, EhomeDevice, type EhomeServer, request, SignalTooLargeError } from '../src/index.js';
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

export { httpRequest };
