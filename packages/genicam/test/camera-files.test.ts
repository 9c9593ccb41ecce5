import { readFileSync } from 'node:fs';
import { WireError } from '@cam/net-utils';
import { describe, expect, it } from 'vitest';
import { NodeMap, type Port } from '../src/index.js';

/** A port over a sparse 64-bit address space: unwritten bytes are a fixed function of their address. */
class SparsePort implements Port {
  private readonly written = new Map<bigint, number>();
  reads = 0;
  async read(address: bigint, length: number): Promise<Uint8Array> {
    this.reads++;
    const out = new Uint8Array(length);
    for (let k = 0; k < length; k++) {
      const a = address + BigInt(k);
      out[k] = this.written.get(a) ?? Number((a * 2654435761n) >> 7n) & 0xff;
    }
    return out;
  }
  async write(address: bigint, data: Uint8Array): Promise<void> {
    for (let k = 0; k < data.length; k++) this.written.set(address + BigInt(k), data[k] as number);
  }
}

// Our own description files (see fixtures/README.md), written like vendor files: Group and nested Category trees,
// Extension blocks, ImposedAccessMode, selectors, chunk and event ports, 32- and 64-bit register spaces, a Port not
// named Device, schema 1.0 (legacy big-endian registers) and 1.1. The CLI's vendor-style file is ours too.
const FIXTURES = [
  { file: 'camera-schema10.xml', schema: '1.0', features: 80 },
  { file: 'camera-schema11-indexed.xml', schema: '1.1', features: 62 },
  { file: 'tl-system-schema11.xml', schema: '1.1', features: 16 },
  { file: '../../../cli/test/fixtures/genicam-vendor-style.xml', schema: '1.1', features: 30 },
] as const;

describe('camera description files', () => {
  it.each(FIXTURES)(
    '$file loads, walks its categories and reads every feature to a value or a typed error',
    async (fx) => {
      const xml = readFileSync(new URL(`./fixtures/${fx.file}`, import.meta.url));
      const port = new SparsePort();
      const map = await NodeMap.load(xml, port);
      expect(`${map.schemaVersion.major}.${map.schemaVersion.minor}`).toBe(fx.schema);
      expect(map.legacyEndianness).toBe(fx.schema === '1.0');
      expect(map.vendorName).toBe('cam');
      expect(map.unsupported.size).toBe(0);
      expect(map.danglingReferences()).toEqual([]);
      expect(map.warnings).toEqual([]);
      const features = map.features();
      expect(features.length).toBeGreaterThanOrEqual(fx.features);
      expect(features[0]?.type).toBe('Category');
      const readings = await map.values();
      let values = 0;
      for (const r of readings) {
        if (r.error !== undefined) expect(WireError.isInstance(r.error), `${r.name}: ${r.error.message}`).toBe(true);
        if ('value' in r) values++;
      }
      expect(values).toBeGreaterThan(5);
      expect(port.reads).toBeGreaterThan(0);
      // Describing every feature never throws anything but typed errors either.
      for (const f of features) {
        await map
          .describe(f.name)
          .catch((e: unknown) => expect(WireError.isInstance(e), `${f.name}: ${String(e)}`).toBe(true));
      }
    },
  );

  it('the GenTL module file serves its TLPort from the default port, at pIndex-computed addresses', async () => {
    const port = new SparsePort();
    const map = await NodeMap.load(readFileSync(new URL('./fixtures/tl-system-schema11.xml', import.meta.url)), port);
    await port.write(0x28n, new Uint8Array([3, 0, 0, 0])); // three interfaces
    await port.write(0x1000n + 2n * 128n, new TextEncoder().encode('cxp-board-2\0'));
    expect(await map.describe('InterfaceSelector')).toMatchObject({ min: 0, max: 2 });
    await map.set('InterfaceSelector', 2);
    expect(await map.get('InterfaceID')).toBe('cxp-board-2');
    expect(await map.accessMode('TLVersion')).toBe('RO'); // RW register, ImposedAccessMode RO
    expect(await map.accessMode('TLType')).toBe('RO');
    expect(await map.get('TLType')).toBe('CoaXPress');
    await port.write(0x10n, new Uint8Array([1, 0, 0, 0]));
    await port.write(0x14n, new Uint8Array([6, 0, 0, 0]));
    expect(await map.get('GenTLVersion')).toBe(0x10006);
  });
});
