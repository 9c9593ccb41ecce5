// Issue #22, item 2 (and the PENDING_ACK part of the attack suite): a device must not make the host read without
// limit, read local files, or hold a call forever.
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameTooLargeError, MalformedError, ProtocolError, TimeoutError } from '@cam/net-utils';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { BootstrapRegister, fetchGenicamXml, GenicamUrlRefusedError, GvcpClient, unzipOne } from '../src/index.js';
import { FakePeer, memoryHandler, storeBytes } from './fake-peer.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A device whose first URL register holds `url` (the second is empty). */
async function deviceWithUrl(url: string): Promise<GvcpClient> {
  const memory = new Map<number, number>();
  storeBytes(memory, BootstrapRegister.FIRST_URL, new TextEncoder().encode(url));
  const peer = await FakePeer.start(memoryHandler(memory));
  cleanups.push(() => peer.close());
  const client = await GvcpClient.connect('127.0.0.1', { port: peer.port, tryTimeoutMs: 200 });
  cleanups.push(() => client.close());
  return client;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** The error a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('File: GenICam URLs chosen by a device', () => {
  it('are refused unless the caller allows a directory (File:///dev/zero, /etc/passwd)', async () => {
    for (const url of ['File:///dev/zero', 'File:///etc/passwd']) {
      const client = await deviceWithUrl(url);
      const e = await failure(fetchGenicamXml(client));
      expect(ProtocolError.isInstance(e)).toBe(true);
      expect(e.message).toMatch(/File: URLs are refused unless allowFileUrlsIn/);
    }
  });

  it('are refused outside the allowed directory, through symbolic links, and for devices that are not files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gvcp-hostile-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await symlink('/etc/passwd', join(dir, 'passwd.xml'));
    await symlink('/dev/zero', join(dir, 'zero.xml'));
    for (const [url, why] of [
      ['File:///etc/passwd', /outside the allowed directories/],
      [`File://${dir}/passwd.xml`, /outside the allowed directories/],
      [`File://${dir}/../../etc/passwd`, /outside the allowed directories/],
    ] as const) {
      const client = await deviceWithUrl(url);
      const e = await failure(fetchGenicamXml(client, { allowFileUrlsIn: dir }));
      expect(e.message).toMatch(why);
    }
    // /dev itself allowed: /dev/zero is still no regular file, so nothing is read
    const zero = await deviceWithUrl('File:///dev/zero');
    expect((await failure(fetchGenicamXml(zero, { allowFileUrlsIn: '/dev' }))).message).toMatch(/not a regular file/);
    expect(GenicamUrlRefusedError.errorName).toBe('GenicamUrlRefusedError');
  });

  it('are read up to maxBytes only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gvcp-hostile-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'big.xml'), new Uint8Array(300_000).fill(0x20));
    const client = await deviceWithUrl(`File://${dir}/big.xml`);
    const e = await failure(fetchGenicamXml(client, { allowFileUrlsIn: dir, maxBytes: 100_000 }));
    expect(e.message).toMatch(/exceeds the limit of 100000 bytes/);
  });
});

describe('http: GenICam URLs chosen by a device', () => {
  it('stop reading an endless chunked body at maxBytes', async () => {
    let sent = 0;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' }); // no content-length: chunked
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = (): void => {
        while (!res.destroyed && sent < 512 * 1024 * 1024) {
          sent += chunk.byteLength;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    const port = await listen(server);
    const client = await deviceWithUrl(`http://127.0.0.1:${port}/endless.xml`);
    const e = await failure(fetchGenicamXml(client, { maxBytes: 1024 * 1024 }));
    expect(e.message).toMatch(/exceeds the limit of 1048576 bytes/);
    // the host stopped the transfer: what the server could push is the cap plus socket buffers, not 512 MiB
    await new Promise((r) => setTimeout(r, 200));
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('give up on a body that never ends after fetchTimeoutMs', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200);
      res.write('<?xml version="1.0"?>'); // and nothing more, ever
    });
    const port = await listen(server);
    const client = await deviceWithUrl(`http://127.0.0.1:${port}/slow.xml`);
    const e = await failure(fetchGenicamXml(client, { fetchTimeoutMs: 300 }));
    expect(TimeoutError.isInstance(e)).toBe(true);
  });

  it('refuse an announced content-length above maxBytes without reading the body', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(1 << 30) });
      res.write(Buffer.alloc(1024));
    });
    const port = await listen(server);
    const client = await deviceWithUrl(`http://127.0.0.1:${port}/huge.xml`);
    const e = await failure(fetchGenicamXml(client, { maxBytes: 1 << 20 }));
    expect(e.message).toMatch(/1073741824 bytes exceeds the limit/);
  });
});

describe('unzipOne and a zip that lies about its size (issue #22, item 8)', () => {
  const data = new Uint8Array(100_000).fill(0x41);
  /** The zip of `data` with its declared uncompressed size rewritten. */
  function lyingZip(size: number): Uint8Array {
    const zip = zipSync({ 'a.xml': data });
    const view = new DataView(zip.buffer);
    for (let i = 0; i + 4 <= zip.byteLength; i++) {
      const sig = view.getUint32(i, true);
      if (sig === 0x04034b50) view.setUint32(i + 22, size, true);
      if (sig === 0x02014b50) view.setUint32(i + 24, size, true);
    }
    return zip;
  }

  it('unpacks an honest zip', () => {
    expect(unzipOne(lyingZip(data.byteLength))).toEqual(data);
  });

  it('is a MalformedError when the file inflates past or short of its declared size', () => {
    for (const declared of [10, 99_999, 100_001, 200_000]) {
      const e = (() => {
        try {
          unzipOne(lyingZip(declared));
        } catch (x) {
          return x;
        }
        return undefined;
      })();
      expect(MalformedError.isInstance(e), `declared ${declared}`).toBe(true);
    }
  });

  it('stops inflating a bomb at maxBytes', () => {
    const bomb = zipSync({ 'bomb.xml': new Uint8Array(20 * 1024 * 1024) });
    expect(() => unzipOne(bomb, 1024 * 1024)).toThrow(FrameTooLargeError);
  });
});

describe('endless PENDING_ACK', () => {
  it('holds one call no longer than maxPendingMs', async () => {
    const peer = await FakePeer.start((cmd, ctx) => {
      // every few ms another "65 s more, please"
      for (let i = 0; i < 200; i++) {
        ctx.reply({ type: 'pending', ackId: cmd.reqId, status: 0, timeToCompletion: 65_000 }, i * 10);
      }
    });
    cleanups.push(() => peer.close());
    const client = await GvcpClient.connect('127.0.0.1', {
      port: peer.port,
      tryTimeoutMs: 100,
      maxPendingMs: 300,
      maxPendingAcks: 1000,
    });
    cleanups.push(() => client.close());
    const e = await failure(client.readRegister(0x1000));
    expect(e.message).toMatch(/pending for more than 300 ms/);
  });
});

describe('PACKETRESEND to the simulated device (issue #22, item 5)', () => {
  it('is honoured only from the stream host or the control holder', async () => {
    const { GvcpDevice, encodeCommand, streamChannelRegister, StreamChannelRegister } = await import('../src/index.js');
    const { createSocket } = await import('node:dgram');
    const device = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    cleanups.push(() => device.close());
    const seen: string[] = [];
    device.on('packetResend', (_cmd, from) => seen.push(from.address));
    const port = device.address().port;
    const resend = encodeCommand({
      type: 'packetresend',
      reqId: 1,
      ackRequired: false,
      extendedId: false,
      streamChannel: 0,
      blockId: 1n,
      firstPacketId: 0,
      lastPacketId: 0xffffff,
    });
    const sendFrom = async (address: string, count: number): Promise<void> => {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, address, () => r()));
      for (let i = 0; i < count; i++) await new Promise<void>((r) => s.send(resend, port, '127.0.0.1', () => r()));
      await new Promise<void>((r) => s.close(() => r()));
    };
    // no stream host yet, nobody in control: refused from anyone
    await sendFrom('127.0.0.2', 50);
    // the stream host is 127.0.0.1 (SCDA), the control holder is 127.0.0.1: 127.0.0.2 stays refused
    const client = await GvcpClient.connect('127.0.0.1', { port, localAddress: '127.0.0.1' });
    cleanups.push(() => client.close());
    await client.takeControl();
    await client.writeRegister(streamChannelRegister(0, StreamChannelRegister.SCDA), 0x7f000001);
    await sendFrom('127.0.0.2', 50);
    await sendFrom('127.0.0.1', 3);
    for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(device.stats.packetResendRefused).toBe(100);
    expect(device.stats.packetResendRequests).toBe(3);
    expect(seen).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });
});
