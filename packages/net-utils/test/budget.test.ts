import { describe, expect, it } from 'vitest';
import { PerSecondBudget } from '../src/wire.js';

describe('PerSecondBudget', () => {
  it('allows perSecond takes per 1000 ms window, then refuses until the next window', () => {
    const b = new PerSecondBudget(3);
    expect([b.take(10_000), b.take(10_100), b.take(10_999), b.take(10_999)]).toEqual([true, true, true, false]);
    expect(b.take(11_000)).toBe(true);
    expect([b.take(11_500), b.take(11_600), b.take(11_700)]).toEqual([true, true, false]);
  });

  it('allows nothing with 0', () => {
    const b = new PerSecondBudget(0);
    expect(b.take(0)).toBe(false);
    expect(b.take(5_000)).toBe(false);
  });
});
