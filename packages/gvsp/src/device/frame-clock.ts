import { performance } from 'node:perf_hooks';

/** When a frame starts: at a trigger (with the device timestamp of the trigger) or on the free-running clock. */
export interface FrameStart {
  triggered: boolean;
  /** Device timestamp of the trigger, when triggered. */
  timestamp?: bigint;
}

/** What the clock needs to know before each frame. */
export interface FrameTiming {
  /** Frames start only on triggers. */
  triggerMode: boolean;
  /** Free-running frame period, ms. */
  periodMs: number;
}

/** Longest single wait: settings (trigger mode, frame rate) are looked at again at least this often. */
const RECHECK_MS = 100;

/**
 * Decides when the next frame starts: free-running at a period (catching up without bursts after a stall), or on
 * triggers, which are queued (up to `maxPending`; more are counted in {@link dropped}) when they arrive while a
 * frame is still being sent. No timers outlive a wait; {@link cancel} ends a pending wait at once.
 */
export class FrameClock {
  readonly #pending: bigint[] = [];
  readonly #maxPending: number;
  #waiter: (() => void) | undefined;
  #due: number | undefined;
  #generation = 0;
  /** Triggers dropped because `maxPending` were already waiting. */
  dropped = 0;

  constructor(maxPending = 8) {
    this.#maxPending = maxPending;
  }

  /** A trigger arrived (device timestamp). */
  trigger(timestamp: bigint): void {
    if (this.#pending.length >= this.#maxPending) {
      this.dropped++;
      return;
    }
    this.#pending.push(timestamp);
    this.#wake();
  }

  /** Forgets queued triggers and the free-running schedule; a pending {@link next} returns undefined. */
  reset(): void {
    this.#pending.length = 0;
    this.#due = undefined;
    this.#generation++;
    this.#wake();
  }

  /**
   * Waits for the next frame start; `timing` is asked again after every wake-up, so a change of trigger mode or
   * frame rate applies to a wait already running. Resolves undefined when {@link reset} is called meanwhile.
   */
  async next(timing: () => FrameTiming): Promise<FrameStart | undefined> {
    const gen = this.#generation;
    for (;;) {
      if (gen !== this.#generation) return undefined;
      const t = timing();
      if (t.triggerMode) {
        this.#due = undefined;
        const ts = this.#pending.shift();
        if (ts !== undefined) return { triggered: true, timestamp: ts };
        await this.#sleep(RECHECK_MS);
        continue;
      }
      this.#pending.length = 0;
      const now = performance.now();
      if (this.#due === undefined) this.#due = now;
      const wait = this.#due - now;
      if (wait <= 0) {
        // behind by more than a period (a stall): start from now instead of sending a burst
        this.#due = Math.max(this.#due, now - t.periodMs) + t.periodMs;
        // never a frame start without a turn of the event loop: a device behind its clock (frames that take longer
        // to send than their period) would otherwise chain frames in microtasks and never read its GVCP socket
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (gen !== this.#generation) return undefined;
        return { triggered: false };
      }
      await this.#sleep(Math.min(wait, RECHECK_MS));
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#waiter = undefined;
        resolve();
      }, ms);
      this.#waiter = () => {
        clearTimeout(t);
        this.#waiter = undefined;
        resolve();
      };
    });
  }

  #wake(): void {
    this.#waiter?.();
  }
}
