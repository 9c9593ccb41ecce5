import { sleep } from './abort.js';

/** Settings of an exponential backoff. */
export interface BackoffOptions {
  /** First delay in ms. */
  initialMs: number;
  /** Growth factor per attempt. Default 2. */
  factor?: number;
  /** Upper bound of a delay in ms. Default: no cap. */
  maxMs?: number;
  /**
   * Share of randomness, 0..1: a delay `d` becomes a value in `[d * (1 - jitter), d]` ("equal jitter" style,
   * never above the cap). Default 0 (deterministic).
   */
  jitter?: number;
  /** Random source in [0, 1), for tests. Default Math.random. */
  random?: () => number;
}

/**
 * Exponential backoff: `initialMs`, then times `factor` per attempt, capped at `maxMs`, with optional jitter.
 * With `{ initialMs: 1000, factor: 2, maxMs: 4000 }` the delays are 1 s, 2 s, 4 s, 4 s ...
 */
export class Backoff {
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  readonly jitter: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: BackoffOptions) {
    if (!(options.initialMs >= 0)) throw new RangeError('initialMs must be >= 0');
    this.initialMs = options.initialMs;
    this.factor = options.factor ?? 2;
    if (!(this.factor >= 1)) throw new RangeError('factor must be >= 1');
    this.maxMs = options.maxMs ?? Number.POSITIVE_INFINITY;
    if (!(this.maxMs >= 0)) throw new RangeError('maxMs must be >= 0');
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0));
    this.random = options.random ?? Math.random;
  }

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay the next call to {@link next} returns before jitter. */
  peek(): number {
    if (this.initialMs === 0) return 0;
    // factor ** attempt overflows to Infinity after enough attempts; the cap (if any) still applies.
    return Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
  }

  /** The next delay in ms; advances the attempt counter. */
  next(): number {
    const base = this.peek();
    this.attempt++;
    if (this.jitter === 0 || !Number.isFinite(base)) return base;
    const raw = this.random();
    const r = raw >= 0 ? Math.min(1, raw) : 0;
    return Math.round(base * (1 - this.jitter * r));
  }

  /** Back to the initial delay (call after a success). */
  reset(): void {
    this.attempt = 0;
  }

  /** Waits the next delay (rejects with the signal's reason when aborted); resolves with the delay waited. */
  async wait(signal?: AbortSignal): Promise<number> {
    const d = this.next();
    await sleep(d, signal);
    return d;
  }
}
