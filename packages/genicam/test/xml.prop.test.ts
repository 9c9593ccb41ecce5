import { readFileSync } from 'node:fs';
import { WireError } from '@cam/net-utils';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { MemoryPort, NodeMap } from '../src/index.js';

// Our own camera description files (fixtures/README.md): schema 1.0 with 32-bit, schema 1.1 with 64-bit addresses.
const CAMERAS = ['camera-schema10.xml', 'camera-schema11-indexed.xml'].map((f) =>
  readFileSync(new URL(`./fixtures/${f}`, import.meta.url), 'utf8'),
);
const LONGEST = Math.max(...CAMERAS.map((c) => c.length));
const camera = fc.constantFrom(...CAMERAS);

/** Loads and reads every feature; anything thrown must be one of our typed errors. */
async function loadAndReadAll(xml: string | Uint8Array): Promise<void> {
  let map: NodeMap;
  try {
    map = await NodeMap.load(xml, new MemoryPort(0x10000));
  } catch (e) {
    expect(WireError.isInstance(e), String(e)).toBe(true);
    return;
  }
  for (const r of await map.values()) {
    if (r.error !== undefined) expect(WireError.isInstance(r.error), `${r.name}: ${String(r.error)}`).toBe(true);
  }
}

describe('XML robustness', () => {
  test.prop([fc.string({ maxLength: 300 })], { numRuns: 300 })('any text loads or throws a typed error', async (s) => {
    await loadAndReadAll(s);
  });

  test.prop([fc.uint8Array({ maxLength: 300 })], { numRuns: 300 })(
    'any bytes load or throw a typed error',
    async (b) => {
      await loadAndReadAll(b);
    },
  );

  test.prop([camera, fc.nat(LONGEST)], { numRuns: 100 })(
    'a truncated camera XML throws a typed error',
    async (xml, cut) => {
      await loadAndReadAll(xml.slice(0, cut));
    },
  );

  test.prop(
    [
      camera,
      fc.array(
        fc.record({
          at: fc.nat(LONGEST),
          del: fc.nat(8),
          ins: fc.constantFrom('', '0', '-1', 'x', '0xFFFFFFFFFFFFFFFFF', ')', '**', '&amp;', '99999', '<', 'Width'),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    ],
    { numRuns: 150 },
  )('a mutated camera XML loads and reads, or fails with typed errors only', async (original, edits) => {
    let xml = original;
    for (const e of edits) {
      const at = Math.min(e.at, xml.length);
      xml = xml.slice(0, at) + e.ins + xml.slice(at + e.del);
    }
    await loadAndReadAll(xml);
  });
});
