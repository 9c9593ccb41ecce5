import { ValueOutOfRangeError } from '@cam/net-utils';
import { describe, expect, it } from 'vitest';
import { MemoryPort, NodeMap, portFromRegisterAccess, type RegisterMemoryAccess } from '../src/index.js';
import { doc, intReg } from './helpers.js';

/** A GVCP-like device over a MemoryPort: word-aligned WRITEMEM only, and a log of the commands used. */
function device(): { access: RegisterMemoryAccess; mem: MemoryPort; calls: string[] } {
  const mem = new MemoryPort(0x100);
  const calls: string[] = [];
  const access: RegisterMemoryAccess = {
    async readRegister(address) {
      calls.push(`readreg ${address}`);
      return mem.getUint32(address);
    },
    async writeRegister(address, value) {
      calls.push(`writereg ${address}`);
      mem.setUint32(address, value);
    },
    async readMemory(address, length) {
      calls.push(`readmem ${address} ${length}`);
      return mem.read(BigInt(address), length);
    },
    async writeMemory(address, data) {
      calls.push(`writemem ${address} ${data.byteLength}`);
      if (address % 4 !== 0 || data.byteLength % 4 !== 0) throw new ValueOutOfRangeError('data', 'not word aligned');
      await mem.write(BigInt(address), data);
    },
  };
  return { access, mem, calls };
}

describe('portFromRegisterAccess', () => {
  it('uses READREG / WRITEREG for legacy 4-byte registers and READMEM / WRITEMEM otherwise', async () => {
    const { access, mem, calls } = device();
    const body = `${intReg('R', 0x10, '<Endianess>BigEndian</Endianess>')}
      <StringReg Name="S"><Address>0x21</Address><Length>6</Length><AccessMode>RW</AccessMode><pPort>Device</pPort></StringReg>`;
    const legacy = await NodeMap.load(doc(body, '1.0'), portFromRegisterAccess(access));
    mem.setUint32(0x10, 0xdeadbeef);
    expect(await legacy.get('R')).toBe(0xdeadbeef);
    await legacy.set('R', 7);
    expect(mem.getUint32(0x10)).toBe(7);
    expect(calls).toEqual(['readreg 16', 'writereg 16']);
    calls.length = 0;
    mem.memory.fill(0xaa, 0x20, 0x28);
    await legacy.set('S', 'hi');
    // 6 bytes at 0x21 widen to the words 0x20..0x27, the bytes around them kept.
    expect(calls).toEqual(['readmem 32 8', 'writemem 32 8']);
    expect(Array.from(mem.memory.subarray(0x20, 0x28))).toEqual([0xaa, 0x68, 0x69, 0, 0, 0, 0, 0xaa]);
    expect(await legacy.get('S')).toBe('hi');
    calls.length = 0;
    const modern = await NodeMap.load(doc(body, '1.1'), portFromRegisterAccess(access));
    expect(await modern.get('R')).toBe(7);
    expect(calls).toEqual(['readmem 16 4']);
  });

  it('refuses addresses beyond 32 bits before any traffic', async () => {
    const { access, calls } = device();
    const port = portFromRegisterAccess(access);
    await expect(port.read(0x1_0000_0000n, 4)).rejects.toBeInstanceOf(ValueOutOfRangeError);
    await expect(port.write(0xffff_fffen, new Uint8Array(4))).rejects.toBeInstanceOf(ValueOutOfRangeError);
    expect(calls).toEqual([]);
  });
});
