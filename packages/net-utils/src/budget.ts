/**
 * A count allowed per wall-clock second window: `take()` is true while the current window has room. Used where a
 * flood must cost a counter rather than work per datagram (error answers, diagnostic events). Pure: no `node:`.
 */
export class PerSecondBudget {
  #left = 0;
  #windowStart = Number.NEGATIVE_INFINITY;

  /** @param perSecond how many `take()` calls succeed per window of 1000 ms (0: none). */
  constructor(readonly perSecond: number) {}

  /** True (and one less left) when the window that `now` falls in still has room. */
  take(now: number = Date.now()): boolean {
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#left = this.perSecond;
    }
    if (this.#left <= 0) return false;
    this.#left--;
    return true;
  }
}
