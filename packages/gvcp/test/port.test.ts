import { afterEach, describe, expect, it } from 'vitest';
import { GvcpClient, GvcpPort } from '../src/index.js';
import { FakePeer, memoryHandler, storeBytes } from './fake-peer.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('GvcpPort (GenICam Port over GVCP)', () => {
  it('uses READREG/WRITEREG for 4-byte register accesses and READMEM/WRITEMEM otherwise', async () => {
    const memory = new Map<number, number>();
    storeBytes(memory, 0x1000, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const peer = await FakePeer.start(memoryHandler(memory));
    cleanups.push(() => peer.close());
    const client = await GvcpClient.connect('127.0.0.1', { port: peer.port, tryTimeoutMs: 200 });
    cleanups.push(() => client.close());
    const port = new GvcpPort(client);

    expect(await port.read(0x1000n, 4, { register: true })).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(peer.received.at(-1)?.type).toBe('readreg');
    expect(await port.read(0x1001n, 6)).toEqual(Uint8Array.of(2, 3, 4, 5, 6, 7));
    expect(peer.received.at(-1)?.type).toBe('readmem');

    await port.write(0x1004n, Uint8Array.of(9, 9, 9, 9), { register: true });
    expect(peer.received.at(-1)).toMatchObject({ type: 'writereg', writes: [{ address: 0x1004, value: 0x09090909 }] });
    await port.write(0x1000n, Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd));
    expect(peer.received.at(-1)?.type).toBe('writemem');
    // Unaligned: read-modify-write of the touched words.
    await port.write(0x1003n, Uint8Array.of(0x11, 0x22));
    expect(await port.read(0x1000n, 8)).toEqual(Uint8Array.of(0xaa, 0xbb, 0xcc, 0x11, 0x22, 9, 9, 9));
    await expect(port.read(0xfffffffen, 4)).rejects.toThrow(/32-bit/);
  });
});
