import { describe, expect, it } from 'vitest';
import targets from '../fuzz/targets.js';

/**
 * A short run of this package's fuzz targets (the long one is `pnpm fuzz`): each target on its seeds plus a few
 * hundred deterministic mutations (bit flips, byte changes, inserts, deletes, truncation, splices), each fed split at
 * random cuts. Anything thrown must be the package's typed error.
 */

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

function mutate(seed: Uint8Array, other: Uint8Array, r: () => number): Uint8Array {
  const a = Array.from(seed);
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * (a.length + 1));
    switch (Math.floor(r() * 6)) {
      case 0:
        if (a.length) a[at % a.length]! ^= 1 << Math.floor(r() * 8);
        break;
      case 1:
        if (a.length) a[at % a.length] = [0, 0xff, 0x7f, 0x80, 0x3c, 0x26][Math.floor(r() * 6)]!;
        break;
      case 2:
        a.splice(at, 0, Math.floor(r() * 256));
        break;
      case 3:
        a.splice(at, 1 + Math.floor(r() * 8));
        break;
      case 4:
        a.length = at;
        break;
      default:
        a.splice(at, 0, ...other.subarray(0, Math.floor(r() * other.byteLength)));
    }
  }
  return Uint8Array.from(a);
}

describe('fuzz targets, short run', () => {
  it.each(targets.map((t) => [t.name, t] as const))('%s: seeds and 400 mutations', async (_, target) => {
    const seeds = target.seeds();
    expect(seeds.length).toBeGreaterThan(0);
    const r = rng(0x5eed ^ target.name.length);
    const inputs = [...seeds];
    for (let i = 0; i < 400; i++) {
      inputs.push(mutate(seeds[i % seeds.length]!, seeds[(i * 7) % seeds.length]!, r));
    }
    let accepted = 0;
    for (const input of inputs) {
      const cuts = Array.from({ length: Math.floor(r() * 4) }, () => Math.floor(r() * input.byteLength)).sort(
        (x, y) => x - y,
      );
      try {
        await target.run(input, cuts);
        accepted++;
      } catch (error) {
        if (!target.isExpectedError(error)) {
          throw new Error(`${target.name}: untyped ${String(error)} for input ${Buffer.from(input).toString('hex')}`);
        }
      }
    }
    // The seeds themselves are valid input.
    expect(accepted).toBeGreaterThanOrEqual(seeds.length);
  });
});
