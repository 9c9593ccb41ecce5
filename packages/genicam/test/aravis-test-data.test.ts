import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryPort, NodeMap } from '../src/index.js';

// Aravis's GenApi test document; the expectations below are the values Aravis's tests/genicam.c asserts for it.
const load = (): Promise<NodeMap> =>
  NodeMap.load(readFileSync(new URL('./fixtures/aravis-tests-genicam.xml', import.meta.url)), new MemoryPort(0x10000));

describe("Aravis's genicam.xml test document", () => {
  it('loads, tolerating its unknown AccessMode spelling with a warning', async () => {
    const map = await load();
    expect(map.schemaVersion).toMatchObject({ major: 1, minor: 0 });
    expect(map.warnings.some((w) => w.includes("AccessMode 'R'"))).toBe(true);
  });

  it('Integer and Float with p* ranges', async () => {
    const map = await load();
    expect(await map.get('RWInteger')).toBe(1);
    expect(await map.describe('RWInteger')).toMatchObject({ access: 'RW', min: -10, max: 10, inc: 2 });
    expect(await map.describe('P_RWInteger')).toMatchObject({ access: 'RW', min: -20, max: 20, inc: 3 });
    expect(await map.get('RWFloat')).toBe(0.1);
    expect(await map.describe('RWFloat')).toMatchObject({ min: -10, max: 10, inc: 2 });
    expect(await map.describe('P_RWFloat')).toMatchObject({ min: -20, max: 20, inc: 3 });
    await expect(map.set('RWInteger', '0.4')).rejects.toMatchObject({ name: 'InvalidValueError' });
  });

  it('Table / Multiplexer (pIndex with ValueIndexed / pValueIndexed and a default)', async () => {
    const map = await load();
    for (const [table, selector, a, b, dflt] of [
      ['Table', 'TableSelector', 100, 200, 600],
      ['Multiplexer', 'MultiplexerSelector', 100, 200, 600],
      ['FloatTable', 'FloatTableSelector', 100.1, 200.2, 600.6],
      ['FloatMultiplexer', 'FloatMultiplexerSelector', 100.1, 200.2, 600.6],
    ] as const) {
      const changed = typeof a === 'number' && Number.isInteger(a) ? 150 : 150.15;
      expect(await map.get(selector)).toBe(20);
      expect(await map.get(table)).toBe(b);
      await map.set(table, changed);
      expect(await map.get(table)).toBe(changed);
      await map.set(selector, -1);
      expect(await map.get(table)).toBe(dflt);
      await map.set(selector, 10);
      expect(await map.get(table)).toBe(a);
      await map.set(selector, 20);
      expect(await map.get(table)).toBe(changed);
    }
  });

  it('Boolean over an Integer', async () => {
    const map = await load();
    expect(await map.get('RWBoolean')).toBe(true);
    await map.set('RWBoolean', false);
    expect(await map.get('RWBoolean')).toBe(false);
    expect(await map.get('P_RWBoolean')).toBe(true);
  });

  it('Enumeration: two selectable entries; set by name and read back as name and value', async () => {
    const map = await load();
    expect(await map.getInteger('Enumeration')).toBe(0n);
    expect((await map.describe('Enumeration')).entries?.filter((e) => e.available).map((e) => e.name)).toEqual([
      'Entry0',
      'Entry1',
    ]);
    await map.set('Enumeration', 'Entry1');
    expect(await map.getInteger('Enumeration')).toBe(1n);
    expect(await map.get('Enumeration')).toBe('Entry1');
    await map.set('Enumeration', 'Entry0');
    expect(await map.get('Enumeration')).toBe('Entry0');
  });

  it('IntSwissKnife with entities, sub-expressions and constants', async () => {
    const map = await load();
    expect(await map.accessMode('IntSwissKnifeTest')).toBe('RO');
    expect(await map.get('IntSwissKnifeTest')).toBe(0x1234);
    expect(await map.get('IntSwissKnifeTestEntity')).toBe(0x10305070);
    expect(await map.get('IntSwissKnifeTestEntity2')).toBe(3);
    expect(await map.get('IntSwissKnifeBug699228')).toBe(4);
    expect(await map.get('IntSwissKnifeTestSubAndConstant')).toBe(140);
  });

  it('Converter and IntConverter', async () => {
    const map = await load();
    expect(await map.accessMode('Converter')).toBe('RW');
    expect(await map.get('Converter')).toBe(200);
    await map.set('Converter', '100.0');
    expect(await map.get('Converter')).toBe(100);
    expect(await map.get('IntConverter')).toBe(5);
    await map.set('IntConverter', '100');
    expect(await map.get('IntConverter')).toBe(100);
    await map.set('Enumeration', 1);
    expect(await map.get('ConverterEnumeration')).toBe(5);
    expect(await map.accessMode('ConverterEnumeration')).toBe('RW');
    expect(await map.get('IntConverterTestSubAndConstant')).toBe(10000);
    await map.set('IntConverterTestSubAndConstant', 100);
    expect(await map.get('IntConverterTestSubAndConstant')).toBe(1000);
  });

  it('register address from pIndex', async () => {
    const map = await load();
    expect((await map.describe('IndexedRegister')).address).toBe(35128n);
  });
});
