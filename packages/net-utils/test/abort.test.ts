import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  abortReason,
  deadlineSignal,
  raceSignal,
  sleep,
  TimeoutError,
  throwIfAborted,
} from '../src/index.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('deadlineSignal', () => {
  it('aborts with a TimeoutError naming the operation', async () => {
    const d = deadlineSignal({ timeoutMs: 500 }, 'readRegister');
    expect(d.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(499);
    expect(d.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(d.signal.aborted).toBe(true);
    const reason = d.signal.reason as TimeoutError;
    expect(reason).toBeInstanceOf(TimeoutError);
    expect(reason.message).toBe('readRegister timed out after 500 ms');
    expect(reason).toMatchObject({ operation: 'readRegister', timeoutMs: 500 });
    d.dispose();
  });

  it('follows the caller signal and then drops the timer', () => {
    const controller = new AbortController();
    const d = deadlineSignal({ signal: controller.signal, timeoutMs: 1000 });
    expect(vi.getTimerCount()).toBe(1);
    const reason = new AbortError('user cancelled');
    controller.abort(reason);
    expect(d.signal.reason).toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort').length).toBe(0);
  });

  it('is aborted at once by an already aborted signal, without a timer', () => {
    const d = deadlineSignal({ signal: AbortSignal.abort('gone'), timeoutMs: 10 });
    expect(d.signal.aborted).toBe(true);
    expect(d.signal.reason).toBe('gone');
    expect(abortReason(d.signal)).toBeInstanceOf(AbortError);
    expect(abortReason(d.signal).message).toBe('gone');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('dispose() clears the timer and the listener', () => {
    const controller = new AbortController();
    const d = deadlineSignal({ signal: controller.signal, timeoutMs: 1000 });
    expect(getEventListeners(controller.signal, 'abort').length).toBe(1);
    d.dispose();
    d[Symbol.dispose]();
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort').length).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(d.signal.aborted).toBe(false);
  });

  it('without a timeout never times out; an infinite one sets no timer', () => {
    expect(deadlineSignal().signal.aborted).toBe(false);
    deadlineSignal({ timeoutMs: Number.POSITIVE_INFINITY });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('sleep', () => {
  it('resolves after the delay', async () => {
    let done = false;
    const p = sleep(100).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
  });

  it('rejects with the reason and clears the timer when aborted', async () => {
    const controller = new AbortController();
    const p = sleep(100, controller.signal);
    controller.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
    await expect(sleep(1, AbortSignal.abort(new TimeoutError('x', 1)))).rejects.toBeInstanceOf(TimeoutError);
  });

  it('removes its abort listener when it resolves', async () => {
    const controller = new AbortController();
    const p = sleep(10, controller.signal);
    await vi.advanceTimersByTimeAsync(10);
    await p;
    expect(getEventListeners(controller.signal, 'abort').length).toBe(0);
  });

  it('treats negative and NaN delays as 0', async () => {
    const p = Promise.all([sleep(-5), sleep(Number.NaN)]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(p).resolves.toEqual([undefined, undefined]);
  });
});

describe('raceSignal', () => {
  it('settles like the promise', async () => {
    const controller = new AbortController();
    await expect(raceSignal(Promise.resolve(7), controller.signal)).resolves.toBe(7);
    await expect(raceSignal(Promise.reject(new Error('no')), controller.signal)).rejects.toThrow('no');
    await expect(raceSignal(Promise.resolve(1), undefined)).resolves.toBe(1);
    expect(getEventListeners(controller.signal, 'abort').length).toBe(0);
  });

  it('rejects as soon as the signal fires', async () => {
    const controller = new AbortController();
    const never = new Promise<number>(() => {});
    const p = raceSignal(never, controller.signal);
    controller.abort(new TimeoutError('connect', 5));
    await expect(p).rejects.toBeInstanceOf(TimeoutError);
  });

  it('with an already aborted signal, a later rejection of the promise is not left unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      let fail!: (e: Error) => void;
      const late = new Promise<void>((_, reject) => {
        fail = reject;
      });
      await expect(raceSignal(late, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
      fail(new Error('late'));
      vi.useRealTimers();
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('throwIfAborted', () => {
    expect(() => throwIfAborted(undefined)).not.toThrow();
    expect(() => throwIfAborted(new AbortController().signal)).not.toThrow();
    expect(() => throwIfAborted(AbortSignal.abort(new TimeoutError('op', 1)))).toThrow(TimeoutError);
  });
});
