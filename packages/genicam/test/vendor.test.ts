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

const FIXTURES = [
  { file: 'vendor-AVT_Prosilica_GC655C.xml', schema: '1.0', vendor: 'Prosilica' },
  { file: 'vendor-PGR_Flea3_GE_28S4C.xml', schema: '1.0', vendor: 'Point Grey Research' },
  { file: 'vendor-Basler_piA640_210gm.xml', schema: '1.0', vendor: 'Basler' },
  { file: 'vendor-FLIR_SC6700.xml', schema: '1.0', vendor: 'FLIR Systems' },
  { file: 'vendor-Teledyne_ShadoBox.xml', schema: '1.1', vendor: undefined },
  { file: 'vendor-Mikrotron_CXP_MC206xS11.xml', schema: '1.1', vendor: undefined },
  { file: 'vendor-Euresys_Coaxlink_TLSystem.xml', schema: '1.1', vendor: 'Euresys' },
] as const;

describe('vendor GenICam XML files', () => {
  it.each(FIXTURES)(
    '$file loads, walks its categories and reads every feature to a value or a typed error',
    async (fx) => {
      const xml = readFileSync(new URL(`./fixtures/${fx.file}`, import.meta.url));
      const port = new SparsePort();
      const map = await NodeMap.load(xml, port);
      expect(`${map.schemaVersion.major}.${map.schemaVersion.minor}`).toBe(fx.schema);
      expect(map.legacyEndianness).toBe(fx.schema === '1.0');
      if (fx.vendor !== undefined) expect(map.vendorName).toContain(fx.vendor.split(' ')[0]);
      const features = map.features();
      expect(features.length).toBeGreaterThan(10);
      expect(features[0]?.type).toBe('Category');
      const readings = await map.values();
      let values = 0;
      for (const r of readings) {
        if (r.error !== undefined) expect(WireError.isInstance(r.error), `${r.name}: ${r.error.message}`).toBe(true);
        if ('value' in r) values++;
      }
      expect(values).toBeGreaterThan(5);
      // Describing every feature never throws anything but typed errors either.
      for (const f of features) {
        await map
          .describe(f.name)
          .catch((e: unknown) => expect(WireError.isInstance(e), `${f.name}: ${String(e)}`).toBe(true));
      }
    },
  );
});
