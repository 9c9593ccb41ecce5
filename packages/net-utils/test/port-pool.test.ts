import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, PortPool, PortPoolExhaustedError } from '../src/index.js';

const HOST = '127.0.0.1';
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function listen(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen({ port, host: HOST, exclusive: true }, () => resolve(s));
  });
}

function bindUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, HOST, () => s.close(() => resolve(true)));
  });
}

/**
 * `n` consecutive ports above the kernel's ephemeral range (so port-0 sockets of parallel tests do not take them)
 * that are free for TCP and UDP right now.
 */
async function freeRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 61_000 + Math.floor(Math.random() * (65_000 - 61_000));
    let ok = true;
    for (let p = base; p < base + n && ok; p++) {
      const s = await listen(p);
      if (!s) ok = false;
      else await new Promise((r) => s.close(r));
      if (ok && !(await bindUdp(p))) ok = false;
    }
    if (ok) return base;
  }
  throw new Error('no free port range found');
}

function pool(min: number, max: number): PortPool {
  const p = new PortPool({ min, max, host: HOST });
  cleanups.push(() => p.close());
  return p;
}

async function canConnect(port: number): Promise<boolean> {
  const socket = connect(port, HOST);
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

describe('PortPool', () => {
  it('hands out a listening TCP server in the range and takes it back', async () => {
    const min = await freeRange(3);
    const p = pool(min, min + 2);
    const lease = await p.acquireTcp();
    expect(lease.port).toBeGreaterThanOrEqual(min);
    expect(lease.port).toBeLessThanOrEqual(min + 2);
    expect(lease.host).toBe(HOST);
    expect(lease.handle.listening).toBe(true);
    expect(lease.handle.address()).toMatchObject({ port: lease.port, address: HOST });
    expect(p.inUse).toBe(1);
    expect(p.available).toBe(2);
    expect(await canConnect(lease.port)).toBe(true);
    await lease.release();
    expect(p.inUse).toBe(0);
    expect(lease.handle.listening).toBe(false);
    expect(await canConnect(lease.port)).toBe(false);
  });

  it('hands out a bound UDP socket that receives datagrams', async () => {
    const min = await freeRange(2);
    const p = pool(min, min + 1);
    const lease = await p.acquireUdp();
    expect(lease.handle.address()).toMatchObject({ port: lease.port, address: HOST });
    const sender = createSocket('udp4');
    cleanups.push(() => new Promise((r) => sender.close(() => r(undefined))));
    const received = once(lease.handle, 'message');
    sender.send(Uint8Array.of(1, 2, 3), lease.port, HOST);
    const [msg] = (await received) as [Buffer];
    expect([...msg]).toEqual([1, 2, 3]);
    await lease.release();
    expect(p.inUse).toBe(0);
  });

  it('skips a port taken by another socket', async () => {
    const min = await freeRange(2);
    const taken = await listen(min);
    expect(taken).not.toBeNull();
    cleanups.push(() => new Promise((r) => taken!.close(r)));
    const p = pool(min, min + 1);
    const lease = await p.acquireTcp();
    expect(lease.port).toBe(min + 1);
    await expect(p.acquireTcp()).rejects.toBeInstanceOf(PortPoolExhaustedError);
  });

  it('throws PortPoolExhaustedError when every port is leased; a release makes room', async () => {
    const min = await freeRange(2);
    const p = pool(min, min + 1);
    const a = await p.acquireUdp();
    const b = await p.acquireTcp();
    expect(new Set([a.port, b.port])).toEqual(new Set([min, min + 1]));
    const error = await p.acquireUdp().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortPoolExhaustedError);
    expect((error as Error).message).toBe(`no free UDP port in ${min}-${min + 1}: release some or widen the range`);
    await a.release();
    const c = await p.acquireUdp();
    expect(c.port).toBe(a.port);
  });

  it('double release is harmless', async () => {
    const min = await freeRange(2);
    const p = pool(min, min + 1);
    const a = await p.acquireTcp();
    await Promise.all([a.release(), a.release()]);
    await a.release();
    await a[Symbol.asyncDispose]();
    expect(p.inUse).toBe(0);
    const b = await p.acquireTcp();
    const c = await p.acquireTcp();
    expect(p.inUse).toBe(2);
    await a.release(); // an old lease must not free a port someone else now holds
    expect(p.inUse).toBe(2);
    expect(b.handle.listening && c.handle.listening).toBe(true);
  });

  it('goes round-robin so a released port is not handed out again at once', async () => {
    const min = await freeRange(3);
    const p = pool(min, min + 2);
    const a = await p.acquireTcp();
    await a.release();
    const b = await p.acquireTcp();
    expect(b.port).not.toBe(a.port);
  });

  it('release does not wait for connections the server accepted', async () => {
    const min = await freeRange(1);
    const p = pool(min, min);
    const lease = await p.acquireTcp();
    const accepted = once(lease.handle, 'connection');
    const client = connect(lease.port, HOST);
    cleanups.push(() => client.destroy());
    const [serverSide] = (await accepted) as [import('node:net').Socket];
    cleanups.push(() => serverSide.destroy());
    await lease.release();
    expect(p.inUse).toBe(0);
    expect(serverSide.destroyed).toBe(false);
    const again = await p.acquireTcp();
    expect(again.port).toBe(min);
  });

  it('close() releases every lease and refuses new ones', async () => {
    const min = await freeRange(3);
    const p = new PortPool({ min, max: min + 2, host: HOST });
    const leases = [await p.acquireTcp(), await p.acquireUdp(), await p.acquireTcp()];
    await p.close();
    expect(p.inUse).toBe(0);
    expect(leases.every((l) => !('listening' in l.handle) || l.handle.listening === false)).toBe(true);
    await expect(p.acquireTcp()).rejects.toBeInstanceOf(AbortError);
    await p[Symbol.asyncDispose]();
  });

  it('an aborted signal stops the acquisition', async () => {
    const min = await freeRange(1);
    const p = pool(min, min);
    await expect(p.acquireUdp({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(p.inUse).toBe(0);
  });

  it('validates the range', () => {
    expect(() => new PortPool({ min: 0, max: 10 })).toThrow(RangeError);
    expect(() => new PortPool({ min: 10, max: 9 })).toThrow(RangeError);
    expect(() => new PortPool({ min: 1, max: 65536 })).toThrow(RangeError);
    const p = new PortPool({ min: 100, max: 109 });
    expect(p.size).toBe(10);
    expect(p.host).toBe('0.0.0.0');
  });
});
