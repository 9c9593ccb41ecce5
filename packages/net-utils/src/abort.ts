import { AbortError, TimeoutError } from './errors.js';

/** Longest delay `setTimeout` honours (Node fires larger ones after 1 ms). */
const MAX_TIMER_MS = 0x7fffffff;

/** Options every async call in `@cam` accepts. */
export interface CallOptions {
  /** Cancels the call; it rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Gives up after this many milliseconds with a {@link TimeoutError}. */
  timeoutMs?: number | undefined;
}

/** A signal that fires on the caller's signal or after a timeout; `dispose()` clears the timer. */
export interface DeadlineSignal extends Disposable {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * Combines an optional AbortSignal and an optional timeout into one signal. The timeout aborts with a
 * {@link TimeoutError} naming `operation`. Uses `setTimeout` (so fake timers drive it) and always call
 * `dispose()` (or `using`) so no timer outlives the call. Whichever source fires first drops the other (the timer
 * is cleared, the listener removed). A timeout above 2^31-1 ms (about 24.8 days) is clamped to it.
 */
export function deadlineSignal(options: CallOptions = {}, operation = 'operation'): DeadlineSignal {
  const controller = new AbortController();
  const { signal, timeoutMs } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const dispose = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    signal?.removeEventListener('abort', onAbort);
  };
  // Whichever fires first aborts the combined signal and drops the other source.
  const onAbort = (): void => {
    dispose();
    controller.abort(signal?.reason ?? new AbortError());
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  if (timeoutMs !== undefined && Number.isFinite(timeoutMs) && !controller.signal.aborted) {
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, timeoutMs));
    timer = setTimeout(() => {
      timer = undefined;
      dispose();
      controller.abort(new TimeoutError(operation, timeoutMs));
    }, ms);
  }
  return { signal: controller.signal, dispose, [Symbol.dispose]: dispose };
}

/** Throws the signal's reason if it has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/** The reason of an aborted signal as an Error (an {@link AbortError} when the reason is not one). */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new AbortError(r === undefined ? undefined : String(r));
}

/**
 * Resolves after `ms` (via `setTimeout`, so fake timers drive it), or rejects with the signal's reason.
 * The timer is cleared when the signal fires. Delays beyond `setTimeout`'s 2^31-1 ms limit are waited in steps
 * (`Infinity` waits until the signal fires); a negative or NaN `ms` waits 0 ms.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    let left = Number.isNaN(ms) ? 0 : Math.max(ms, 0);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const arm = (): void => {
      const step = Math.min(left, MAX_TIMER_MS);
      left -= step;
      timer = setTimeout(() => {
        if (left > 0) return arm();
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, step);
    };
    arm();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it fires. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {}); // its later rejection is moot, not unhandled
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
