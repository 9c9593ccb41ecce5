import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeChunks, MemoryPort, NodeMap } from '../src/index.js';

// Our own GenApi semantics document (fixtures/genapi-semantics-schema10.xml): one Group per topic, each value below
// follows from the GenApi rules for that node type.
const load = (): Promise<NodeMap> =>
  NodeMap.load(
    readFileSync(new URL('./fixtures/genapi-semantics-schema10.xml', import.meta.url)),
    new MemoryPort(0x10000),
  );

describe('GenApi semantics document (schema 1.0)', () => {
  it('loads, tolerating the AccessMode spelling R of its chunk registers with one warning each', async () => {
    const map = await load();
    expect(map.schemaVersion).toEqual({ major: 1, minor: 0, subMinor: 0 });
    expect(map.vendorName).toBe('cam');
    expect(map.unsupported.size).toBe(0);
    expect(map.danglingReferences()).toEqual([]);
    expect(map.warnings.filter((w) => w.includes("AccessMode 'R'")).map((w) => w.split(':')[0])).toEqual([
      'ChunkCounter',
      'ChunkLevel',
      'ChunkLabel',
      'ChunkFlagReg',
    ]);
    expect(await map.accessMode('ChunkCounter')).toBe('NA'); // no chunk data attached yet
  });

  it('Integer and Float with literal ranges and with pMin / pMax / pInc', async () => {
    const map = await load();
    expect(await map.get('Offset')).toBe(3);
    expect(await map.describe('Offset')).toMatchObject({
      access: 'RW',
      visibility: 'Expert',
      min: -12,
      max: 12,
      inc: 3,
    });
    expect(await map.describe('OffsetLimited')).toMatchObject({ access: 'RW', min: -30, max: 30, inc: 5 });
    expect(await map.get('OffsetLimited')).toBe(3);
    expect(await map.get('Level')).toBe(0.25);
    expect(await map.describe('Level')).toMatchObject({ visibility: 'Guru', min: -8, max: 8, inc: 0.5 });
    expect(await map.describe('LevelLimited')).toMatchObject({ min: -16, max: 16, inc: 4 });
    await expect(map.set('Offset', '0.4')).rejects.toMatchObject({ name: 'InvalidValueError' });
    await expect(map.set('Offset', 4)).rejects.toMatchObject({ name: 'OutOfRangeError' }); // off the 3-step grid
    await expect(map.set('Offset', 15)).rejects.toMatchObject({ name: 'OutOfRangeError' });
    // writing through the p* view writes the Integer it points at, whose own range still applies
    await map.set('OffsetLimited', 0);
    expect(await map.get('Offset')).toBe(0);
    await expect(map.set('OffsetLimited', 20)).rejects.toMatchObject({ name: 'OutOfRangeError', feature: 'Offset' });
  });

  it('pIndex with ValueIndexed / pValueIndexed: the entry for the index, else the default; writes stick to their entry', async () => {
    const map = await load();
    for (const [node, index, at3, at7, other, written] of [
      ['CountTable', 'CountTableIndex', 300, 700, 999, 450],
      ['CountMux', 'CountMuxIndex', 300, 700, 999, 450],
      ['RatioTable', 'RatioTableIndex', 3.5, 7.25, 9.75, 4.5],
      ['RatioMux', 'RatioMuxIndex', 3.5, 7.25, 9.75, 4.5],
    ] as const) {
      expect(await map.get(index)).toBe(7);
      expect(await map.get(node)).toBe(at7);
      await map.set(node, written);
      expect(await map.get(node)).toBe(written);
      await map.set(index, -1);
      expect(await map.get(node)).toBe(other);
      await map.set(index, 3);
      expect(await map.get(node)).toBe(at3);
      await map.set(index, 7);
      expect(await map.get(node), node).toBe(written);
    }
    // a multiplexer writes the node its current entry names
    expect(await map.get('CountMuxAt7')).toBe(450);
    expect(await map.get('CountMuxAt3')).toBe(300);
  });

  it('Boolean over a literal and over an Integer with OnValue / OffValue', async () => {
    const map = await load();
    expect(await map.get('Enabled')).toBe(true);
    await map.set('Enabled', false);
    expect(await map.get('Enabled')).toBe(false);
    expect(await map.get('PatternOn')).toBe(true);
    await map.set('PatternOn', false);
    expect(await map.get('PatternWord')).toBe(0xaa);
    expect(await map.get('PatternOn')).toBe(false);
  });

  it('Enumeration: two selectable entries; set by name and read back as name and value', async () => {
    const map = await load();
    expect(await map.getInteger('Mode')).toBe(0n);
    const entries = (await map.describe('Mode')).entries ?? [];
    expect(entries.filter((e) => e.available).map((e) => e.name)).toEqual(['Idle', 'Run']);
    expect(entries.map((e) => e.name)).not.toContain('Legacy'); // not implemented: not an entry at all
    await map.set('Mode', 'Run');
    expect(await map.getInteger('Mode')).toBe(1n);
    expect(await map.get('Mode')).toBe('Run');
    await expect(map.set('Mode', 'Service')).rejects.toBeInstanceOf(Error);
    await map.set('Mode', 'Idle');
    expect(await map.get('Mode')).toBe('Idle');
  });

  it('IntSwissKnife: literals, entities, logic, a long chain of nested conditionals, Constant and Expression', async () => {
    const map = await load();
    expect(await map.accessMode('FixedWord')).toBe('RO');
    expect(await map.get('FixedWord')).toBe(0xbeef);
    expect(await map.get('MaskedWord')).toBe(0x0af0f00d);
    expect(await map.get('LogicChoice')).toBe(6);
    expect(await map.get('BayerPhase')).toBe(3); // X even, Y odd, mirrored
    await map.set('PhaseMirror', 0);
    expect(await map.get('BayerPhase')).toBe(2);
    await map.set('PhaseMirror', 2); // no branch matches: the last alternative
    expect(await map.get('BayerPhase')).toBe(7);
    expect(await map.get('WithConstantAndExpression')).toBe(91);
    await map.set('Multiplier', 1);
    expect(await map.get('WithConstantAndExpression')).toBe(56);
  });

  it('Converter and IntConverter, both directions, over an Integer and over an Enumeration', async () => {
    const map = await load();
    expect(await map.accessMode('Millivolts')).toBe('RW');
    expect(await map.get('Millivolts')).toBe(1200);
    expect(await map.get('CountsPerThirty')).toBe(10);
    await map.set('Millivolts', '600.0');
    expect(await map.get('RawCounts')).toBe(150);
    expect(await map.get('Millivolts')).toBe(600);
    expect(await map.get('CountsPerThirty')).toBe(5);
    await map.set('CountsPerThirty', '100');
    expect(await map.get('RawCounts')).toBe(3000);
    expect(await map.get('CountsPerThirty')).toBe(100);
    await map.set('Mode', 1);
    expect(await map.get('ModePlusTen')).toBe(11);
    expect(await map.accessMode('ModePlusTen')).toBe('RW');
    await map.set('ModePlusTen', 10);
    expect(await map.get('Mode')).toBe('Idle');
    expect(await map.get('ScaledWithConstants')).toBe(2000);
    await map.set('ScaledWithConstants', 500);
    expect(await map.get('ScaledRaw')).toBe(50);
    expect(await map.get('ScaledWithConstants')).toBe(2500);
  });

  it('register addresses from Address, pAddress, an address IntSwissKnife and pIndex (Offset, pOffset, none)', async () => {
    const map = await load();
    expect((await map.describe('BlockRegister')).address).toBe(0x200n + 0x40n + 256n * 3n + 64n * 5n + 8n * 2n);
    expect((await map.describe('WindowRegister')).address).toBe(0x1000n + 0x300n + 0x20n);
    await map.set('BlockIndexB', 6);
    expect((await map.describe('BlockRegister')).address).toBe(1680n + 64n);
  });

  it('chunk registers read the attached chunk data', async () => {
    const map = await load();
    const be = (n: number, bytes: number): Uint8Array => {
      const b = new Uint8Array(bytes);
      new DataView(b.buffer).setUint32(bytes - 4, n);
      return b;
    };
    const level = new Uint8Array(8);
    new DataView(level.buffer).setFloat64(0, -2.5);
    const found = map.attachChunkData(
      encodeChunks([
        { id: 0x5e01, data: be(4242, 4) },
        { id: 0x5e02, data: level },
        { id: 0x5e03, data: new TextEncoder().encode('frame-1\0') },
        { id: 0x5e04, data: be(1, 4) },
      ]),
    );
    expect(found.sort()).toEqual([0x5e01, 0x5e02, 0x5e03, 0x5e04]);
    expect(await map.accessMode('ChunkCounter')).toBe('RO');
    expect(await map.get('ChunkCounter')).toBe(4242);
    expect(await map.get('ChunkLevel')).toBe(-2.5);
    expect(await map.get('ChunkLabel')).toBe('frame-1');
    expect(await map.get('ChunkFlag')).toBe(true);
  });
});
