import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortError, PendingRequests, TimeoutError, ValueOutOfRangeError } from '../src/index.js';

// Fake timers: the tests count sends per elapsed attempt, they never measure time.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

type Meta = { command: string };

function table(signal?: AbortSignal): PendingRequests<number, Meta, string> {
  return new PendingRequests<number, Meta, string>({ signal });
}

describe('PendingRequests', () => {
  it('resends after each silent attempt, then fails with a TimeoutError naming the request', async () => {
    const pending = table();
    const sends: number[] = [];
    let timeouts = 0;
    const p = pending.request(
      7,
      { command: 'READ' },
      { attemptMs: 100, resends: 2, what: 'READ to dev', send: (n) => sends.push(n), onTimeout: () => timeouts++ },
    );
    const failed = expect(p).rejects.toSatisfy(
      (e) => TimeoutError.isInstance(e) && (e as TimeoutError).operation === 'READ to dev',
    );
    expect(sends).toEqual([0]);
    await vi.advanceTimersByTimeAsync(100);
    expect(sends).toEqual([0, 1]);
    await vi.advanceTimersByTimeAsync(100);
    expect(sends).toEqual([0, 1, 2]);
    await vi.advanceTimersByTimeAsync(100);
    await failed;
    expect(timeouts).toBe(1);
    expect(pending.size).toBe(0);
  });

  it('resolves with the answer handed over by key and stops resending', async () => {
    const pending = table();
    let sends = 0;
    const p = pending.request(1, { command: 'A' }, { attemptMs: 50, resends: 5, what: 'A', send: () => sends++ });
    await vi.advanceTimersByTimeAsync(50);
    expect(pending.meta(1)).toEqual({ command: 'A' });
    expect(pending.attempts(1)).toBe(2);
    expect(pending.resolve(1, 'answer')).toBe(true);
    await expect(p).resolves.toBe('answer');
    await vi.advanceTimersByTimeAsync(500);
    expect(sends).toBe(2);
    expect(pending.resolve(1, 'late')).toBe(false);
    expect(pending.has(1)).toBe(false);
  });

  it('extend keeps the current attempt waiting without a resend (a pending answer)', async () => {
    const pending = table();
    let sends = 0;
    const p = pending.request(2, { command: 'B' }, { attemptMs: 10, resends: 1, what: 'B', send: () => sends++ });
    await vi.advanceTimersByTimeAsync(5);
    expect(pending.extend(2, 1000)).toBe(true);
    await vi.advanceTimersByTimeAsync(900);
    expect(sends).toBe(1);
    pending.resolve(2, 'done');
    await expect(p).resolves.toBe('done');
    expect(pending.extend(2, 10)).toBe(false);
  });

  it('fails with what send throws, and refuses a second request under a waiting key', async () => {
    const pending = table();
    const offline = new Error('peer went offline');
    await expect(
      pending.request(
        3,
        { command: 'C' },
        {
          attemptMs: 10,
          resends: 3,
          what: 'C',
          send: () => {
            throw offline;
          },
        },
      ),
    ).rejects.toBe(offline);
    const first = pending.request(4, { command: 'D' }, { attemptMs: 10, resends: 0, what: 'D', send: () => {} });
    await expect(
      pending.request(4, { command: 'D' }, { attemptMs: 10, resends: 0, what: 'D', send: () => {} }),
    ).rejects.toSatisfy((e) => ValueOutOfRangeError.isInstance(e));
    pending.reject(4, new Error('x'));
    await expect(first).rejects.toThrow('x');
  });

  it("the caller's signal and the owner's close signal reject waiting requests; rejectWhere picks by meta", async () => {
    const closer = new AbortController();
    const pending = table(closer.signal);
    const caller = new AbortController();
    const send = (): void => {};
    const a = pending.request(
      5,
      { command: 'E' },
      { attemptMs: 10, resends: 9, what: 'E', send, signal: caller.signal },
    );
    const b = pending.request(6, { command: 'F' }, { attemptMs: 10, resends: 9, what: 'F', send });
    const c = pending.request(8, { command: 'G' }, { attemptMs: 10, resends: 9, what: 'G', send });
    caller.abort(new AbortError('stopped'));
    await expect(a).rejects.toThrow('stopped');
    expect(pending.rejectWhere(new Error('F gone'), (m) => m.command === 'F')).toBe(1);
    await expect(b).rejects.toThrow('F gone');
    closer.abort(new AbortError('closed'));
    await expect(c).rejects.toThrow('closed');
    await expect(pending.request(9, { command: 'H' }, { attemptMs: 10, resends: 0, what: 'H', send })).rejects.toThrow(
      'closed',
    );
    expect(pending.size).toBe(0);
  });

  it('an overall timeoutMs ends the request with a TimeoutError however many resends remain', async () => {
    const pending = table();
    const p = pending.request(
      10,
      { command: 'T' },
      { attemptMs: 100, resends: 99, what: 'T', send: () => {}, timeoutMs: 250 },
    );
    const failed = expect(p).rejects.toSatisfy((e) => TimeoutError.isInstance(e));
    await vi.advanceTimersByTimeAsync(250);
    await failed;
    expect(pending.size).toBe(0);
  });
});
