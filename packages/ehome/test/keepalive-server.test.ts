import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMessage, type EhomeServer, encodeMessage, request, response } from '../src/index.js';
import { Cleanup, RawPeer, registerParams, startServer } from './helpers.js';

const c = new Cleanup();
afterEach(async () => {
  await c.run();
});

/** A UDP peer that keeps the raw bytes of what it receives. */
async function rawSocket(): Promise<{ socket: Socket; next: (ms?: number) => Promise<Buffer> }> {
  const socket = createSocket('udp4');
  const inbox: Buffer[] = [];
  let wake: (() => void) | undefined;
  socket.on('message', (m) => {
    inbox.push(m);
    wake?.();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  c.add(() => new Promise<void>((r) => socket.close(() => r())), undefined);
  const next = async (ms = 3000): Promise<Buffer> => {
    const deadline = Date.now() + ms;
    while (inbox.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no datagram');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
    return inbox.shift()!;
  };
  return { socket, next };
}

async function registered(
  server: EhomeServer,
  id: string,
  encoding: 'UTF-8' | 'GB2312',
  version = '2.0',
): Promise<Awaited<ReturnType<typeof rawSocket>>> {
  const peer = await rawSocket();
  peer.socket.send(
    encodeMessage(request('REGISTER', 1, registerParams(id), { encoding, version })),
    server.addresses().port,
    '127.0.0.1',
  );
  expect(decodeMessage(await peer.next())).toMatchObject({ command: 'REGISTER', status: 200 });
  return peer;
}

describe('KEEPALIVE hot path of the server', () => {
  for (const [encoding, version] of [
    ['GB2312', '2.0'],
    ['UTF-8', '4.0'],
  ] as const) {
    it(`answers a ${encoding} ${version} KEEPALIVE with exactly the encoder's bytes and refreshes the session`, async () => {
      const server = await startServer(c, { alarmPort: false, picturePort: false });
      const peer = await registered(server, 'ka1', encoding, version);
      const session = server.registry.get('ka1')!;
      session.lastSeen = 0;
      for (const sequence of [7, 4_294_967_295, 12, 100_000]) {
        const req = request('KEEPALIVE', sequence, { deviceId: 'ka1' }, { encoding, version });
        peer.socket.send(encodeMessage(req), server.addresses().port, '127.0.0.1');
        const expected = encodeMessage(response(req, 200, 'OK', {}, { version: version === '2.0' ? '2.5' : version }));
        expect(Buffer.from(await peer.next())).toEqual(Buffer.from(expected));
      }
      expect(session.lastSeen).toBeGreaterThan(0);
      expect(server.stats.keepalives).toBe(4);
    });
  }

  it('answers a burst of KEEPALIVEs, each with its own sequence, whatever their digit counts', async () => {
    const server = await startServer(c, { alarmPort: false, picturePort: false });
    const peer = await registered(server, 'burst', 'GB2312');
    const sent: number[] = [];
    const got: number[] = [];
    // Batches of 25 back to back (more could overflow a default socket buffer on loopback).
    for (let batch = 0; batch < 12; batch++) {
      for (let i = batch * 25; i < (batch + 1) * 25; i++) {
        const sequence = ((i * 2_654_435_761) % 4_294_967_296) >>> (i % 32);
        sent.push(sequence);
        const req = request('KEEPALIVE', sequence, { deviceId: 'burst' }, { encoding: 'GB2312' });
        peer.socket.send(encodeMessage(req), server.addresses().port, '127.0.0.1');
      }
      for (let i = 0; i < 25; i++) {
        const m = decodeMessage(await peer.next());
        expect(m).toMatchObject({ kind: 'response', command: 'KEEPALIVE', status: 200 });
        got.push(m.sequence);
      }
    }
    expect(got.sort((a, b) => a - b)).toEqual([...sent].sort((a, b) => a - b));
  });

  it('answers a KEEPALIVE outside the canonical shape through the general path', async () => {
    const server = await startServer(c, { alarmPort: false, picturePort: false });
    const peer = await registered(server, 'odd', 'UTF-8');
    const text =
      "<?xml version='1.0' encoding='UTF-8'?><!-- from a device --><PPVSPMessage><Version>2.0</Version>" +
      '<Sequence>31</Sequence><CommandType>REQUEST</CommandType><Command>KEEPALIVE</Command>' +
      '<Params><DeviceID>o&#100;d</DeviceID></Params></PPVSPMessage>';
    peer.socket.send(Buffer.from(text), server.addresses().port, '127.0.0.1');
    expect(decodeMessage(await peer.next())).toMatchObject({ command: 'KEEPALIVE', sequence: 31, status: 200 });
    expect(server.stats.keepalives).toBe(1);
  });

  it('sends a KEEPALIVE from another port or for an unknown device to re-register, session untouched', async () => {
    const server = await startServer(c, { alarmPort: false, picturePort: false });
    await registered(server, 'home', 'UTF-8');
    const before = { ...server.registry.get('home')! };
    const other = await RawPeer.open(c);
    other.send(request('KEEPALIVE', 3, { deviceId: 'home' }), server.addresses().port);
    expect(await other.next()).toMatchObject({ command: 'KEEPALIVE', sequence: 3, status: 403 });
    other.send(request('KEEPALIVE', 4, { deviceId: 'nobody' }), server.addresses().port);
    expect(await other.next()).toMatchObject({ command: 'KEEPALIVE', sequence: 4, status: 403 });
    expect(server.registry.get('home')).toEqual(before);
    expect(server.stats).toMatchObject({ keepalives: 0, addressMismatch: 1, unknownDevice: 1 });
  });
});
