/**
 * Exercises this package's fuzz targets and attack scenarios before the root runners (`pnpm fuzz`, `pnpm attack`)
 * run them: each target on its seeds plus a few hundred seeded mutations, each scenario with budget 'short'.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import scenarios from '../attack/scenarios.js';
import targets from '../fuzz/targets.js';

/** A few hundred inputs per seed set: flips, inserts, deletes, truncations, splices and random bytes (seeded). */
function mutations(seeds: Uint8Array[], count: number, maxBytes: number): Uint8Array[] {
  const rnd = fc.sample(fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), { numRuns: count, seed: 22 });
  return rnd.map((r, i) => {
    const base = seeds[r[0]! % seeds.length]!;
    const b = Buffer.from(base);
    switch (i % 6) {
      case 0:
        for (let k = 0; k < 1 + (r[1]! % 8) && b.length > 0; k++) {
          const at = (r[2]! + k * 7919) % b.length;
          b[at] = b[at]! ^ (1 << (r[3]! % 8));
        }
        return b;
      case 1:
        return b.subarray(0, r[1]! % (b.length + 1));
      case 2: {
        const at = r[1]! % (b.length + 1);
        return Buffer.concat([b.subarray(0, at), Buffer.alloc(1 + (r[2]! % 64), r[3]! % 256), b.subarray(at)]);
      }
      case 3: {
        const at = r[1]! % (b.length + 1);
        return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + (r[2]! % 32)))]);
      }
      case 4: {
        const other = seeds[r[4]! % seeds.length]!;
        return Buffer.concat([b.subarray(0, r[1]! % (b.length + 1)), other.subarray(r[2]! % (other.length + 1))]);
      }
      default:
        return Buffer.from(
          fc.sample(fc.uint8Array({ maxLength: Math.min(maxBytes, 2048) }), { numRuns: 1, seed: r[5]! })[0]!,
        );
    }
  });
}

describe('fuzz targets', () => {
  for (const t of targets) {
    it(`${t.name}: seeds and 300 mutations give results or typed errors only`, async () => {
      const seeds = t.seeds();
      expect(seeds.length).toBeGreaterThan(0);
      const inputs = [...seeds, ...mutations(seeds, 300, t.maxInputBytes ?? 64 * 1024)];
      let accepted = 0;
      let typed = 0;
      for (const [i, input] of inputs.entries()) {
        const cuts = [...new Set([i % (input.length + 1), (i * 31) % (input.length + 1)])].sort((a, b) => a - b);
        try {
          await t.run(input, cuts);
          accepted++;
        } catch (e) {
          if (!t.isExpectedError(e)) throw new Error(`${t.name}: untyped ${String(e)} on input #${i}`, { cause: e });
          typed++;
        }
      }
      // The seeds themselves are valid.
      expect(accepted).toBeGreaterThanOrEqual(seeds.length);
      expect(accepted + typed).toBe(inputs.length);
    });
  }
});

describe('attack scenarios (budget short)', () => {
  for (const s of scenarios) {
    it(`${s.target}: ${s.attack}`, async () => {
      const timeoutMs = 40_000;
      const outcome = await s.run({ budget: 'short', timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
      expect(outcome.detail).not.toBe('');
      expect(outcome.survived, outcome.detail).toBe(true);
    }, 60_000);
  }
});
