import { getEventListeners } from 'node:events';
import { fc, test } from '@fast-check/vitest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortError, Backoff } from '../src/index.js';

describe('Backoff', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('goes 1 s -> 2 s -> 4 s and stays at the cap', () => {
    const b = new Backoff({ initialMs: 1000, factor: 2, maxMs: 4000 });
    expect(b.peek()).toBe(1000);
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([1000, 2000, 4000, 4000, 4000]);
    expect(b.attempts).toBe(5);
  });

  it('reset() starts again from the initial delay', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 4000 });
    b.next();
    b.next();
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(1000);
  });

  it('applies jitter downwards from the delay with a fixed random', () => {
    const lowest = new Backoff({ initialMs: 1000, maxMs: 4000, jitter: 0.5, random: () => 0.999999 });
    expect([lowest.next(), lowest.next(), lowest.next()]).toEqual([500, 1000, 2000]);
    const none = new Backoff({ initialMs: 1000, maxMs: 4000, jitter: 0.5, random: () => 0 });
    expect([none.next(), none.next(), none.next()]).toEqual([1000, 2000, 4000]);
    const half = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0.5 });
    expect(half.next()).toBe(900);
    // A broken random source cannot push a delay out of bounds.
    expect(new Backoff({ initialMs: 1000, jitter: 1, random: () => 7 }).next()).toBe(0);
    expect(new Backoff({ initialMs: 1000, jitter: 1, random: () => Number.NaN }).next()).toBe(1000);
  });

  test.prop([
    fc.integer({ min: 0, max: 10_000 }),
    fc.double({ min: 1, max: 4, noNaN: true }),
    fc.integer({ min: 0, max: 100_000 }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 30 }),
  ])('every delay lies in [d * (1 - jitter), d] and never above the cap', (initialMs, factor, maxMs, jitter, rs) => {
    let k = 0;
    const b = new Backoff({ initialMs, factor, maxMs, jitter, random: () => rs[k++ % rs.length]! });
    const plain = new Backoff({ initialMs, factor, maxMs });
    for (let i = 0; i < rs.length; i++) {
      const d = plain.next();
      const j = b.next();
      expect(d).toBeLessThanOrEqual(maxMs);
      expect(j).toBeLessThanOrEqual(d + 0.5); // jittered delays are rounded to whole ms
      expect(j).toBeGreaterThanOrEqual(d * (1 - jitter) - 0.5);
    }
  });

  it('does not overflow after many attempts', () => {
    const capped = new Backoff({ initialMs: 1000, maxMs: 4000 });
    for (let i = 0; i < 2000; i++) capped.next();
    expect(capped.next()).toBe(4000);
    const uncapped = new Backoff({ initialMs: 1000 });
    for (let i = 0; i < 2000; i++) uncapped.next();
    expect(uncapped.peek()).toBe(Number.POSITIVE_INFINITY);
    const zero = new Backoff({ initialMs: 0 });
    for (let i = 0; i < 2000; i++) zero.next();
    expect(zero.next()).toBe(0);
  });

  it('wait() sleeps the next delay on timers', async () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 4000 });
    let done = 0;
    const p = b.wait().then((d) => {
      done = d;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(1000);
    const q = b.wait();
    await vi.advanceTimersByTimeAsync(2000);
    await expect(q).resolves.toBe(2000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('wait() rejects with the abort reason and clears its timer and listener', async () => {
    const b = new Backoff({ initialMs: 1000 });
    const controller = new AbortController();
    const p = b.wait(controller.signal);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort(new AbortError('shutting down'));
    await expect(p).rejects.toThrowError('shutting down');
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort').length).toBe(0);
    await expect(b.wait(controller.signal)).rejects.toBeInstanceOf(AbortError);
  });

  it('an uncapped wait far in the future is not cut short by the setTimeout limit', async () => {
    const b = new Backoff({ initialMs: 2 ** 31 + 10 });
    let done = false;
    const p = b.wait().then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(11);
    await p;
    expect(done).toBe(true);
  });

  it('validates its settings', () => {
    expect(() => new Backoff({ initialMs: -1 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: Number.NaN })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 1, factor: 0.5 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 1, maxMs: Number.NaN })).toThrow(RangeError);
    expect(new Backoff({ initialMs: 1, jitter: 5 }).jitter).toBe(1);
  });
});
