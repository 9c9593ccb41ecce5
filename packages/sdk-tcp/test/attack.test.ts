import { describe, expect, it } from 'vitest';
import scenarios from '../attack/scenarios.js';

/** Each attack scenario of this package with budget 'short' (the full run is `pnpm attack`). */
describe('attack scenarios, short budget', () => {
  it.each(scenarios.map((s) => [`${s.target}: ${s.attack}`, s] as const))('%s', { timeout: 60_000 }, async (_, s) => {
    const outcome = await s.run({ budget: 'short', timeoutMs: 50_000, signal: AbortSignal.timeout(50_000) });
    console.log(
      `${s.target} | ${s.attack} | ${outcome.detail} | rss ${outcome.rssBeforeMiB}->${outcome.rssAfterMiB} MiB${outcome.amplification === undefined ? '' : ` | x${outcome.amplification.toFixed(3)}`}`,
    );
    expect(outcome.survived, outcome.detail).toBe(true);
  });
});
