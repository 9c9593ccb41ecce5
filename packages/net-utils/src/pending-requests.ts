/**
 * The one request/resend/pending-table loop of the UDP protocols (GVCP commands, EHome requests in both
 * directions): a request waits under a key (req_id, sequence) for its answer; with none after `attemptMs` it is
 * sent again, up to `resends` times, then fails with a {@link TimeoutError}. The caller owns the socket and the
 * decoding: it says how to send (`send`), and hands answers over with {@link PendingRequests.resolve}.
 *
 * Node part of net-utils (timers): not in the pure `./wire` entry.
 */
import { abortReason, type CallOptions, deadlineSignal } from './abort.js';
import { TimeoutError, ValueOutOfRangeError } from './errors.js';

/** How one request is sent and retried. */
export interface PendingRequestOptions extends CallOptions {
  /** Wait per attempt before sending again, ms. */
  attemptMs: number;
  /** Sends after the first one when no answer came (0: send once). */
  resends: number;
  /** What is asked, for errors ("REGISTER from dev1"): the TimeoutError reads "<what> timed out after N ms". */
  what: string;
  /**
   * Sends the request: called once per attempt (0 for the first). Throwing fails the request with that error (a
   * peer gone offline, a socket closed); sending again is the caller's choice of bytes and destination.
   */
  send(attempt: number): void;
  /** Called when the last attempt timed out, before the request rejects (statistics). */
  onTimeout?: (() => void) | undefined;
}

interface Entry<M, R> {
  readonly meta: M;
  readonly options: PendingRequestOptions;
  attempts: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve(response: R): void;
  reject(error: unknown): void;
  /** Arms the attempt timer for `ms` (a new attempt, or an extension). */
  arm(ms: number): void;
}

/**
 * Requests waiting for their answers, by key. `M` is what the caller keeps with each request to match answers
 * (the command name, the peer), `R` the answer.
 *
 * ```ts
 * const pending = new PendingRequests<number, { command: string }, Response>({ signal: closer.signal });
 * const answer = await pending.request(seq, { command }, { attemptMs: 1000, resends: 3, what: command,
 *   send: () => socket.send(bytes, port, host) });
 * // in the socket's message handler:
 * if (pending.meta(msg.sequence)?.command === msg.command) pending.resolve(msg.sequence, msg);
 * ```
 */
export class PendingRequests<K, M, R> {
  readonly #entries = new Map<K, Entry<M, R>>();
  readonly #closeSignal: AbortSignal | undefined;
  readonly #unref: boolean;

  /**
   * `signal`: the owner closed; every waiting request rejects with its reason, and new ones at once. `unref`: the
   * attempt timers do not keep the process alive (a simulated device's background retries).
   */
  constructor(options: { signal?: AbortSignal | undefined; unref?: boolean | undefined } = {}) {
    this.#closeSignal = options.signal;
    this.#unref = options.unref ?? false;
    this.#closeSignal?.addEventListener('abort', () => this.rejectWhere(abortReason(this.#closeSignal!)), {
      once: true,
    });
  }

  /** Requests waiting. */
  get size(): number {
    return this.#entries.size;
  }

  /** True while a request waits under `key`. */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** What the request waiting under `key` was started with, or undefined. */
  meta(key: K): M | undefined {
    return this.#entries.get(key)?.meta;
  }

  /** Attempts made so far by the request under `key` (0 when none waits). */
  attempts(key: K): number {
    return this.#entries.get(key)?.attempts ?? 0;
  }

  /**
   * Sends a request and waits for its answer, sending again after each `attemptMs` without one. Rejects with a
   * {@link TimeoutError} after the last attempt, with the reason of `signal` (or a TimeoutError after `timeoutMs`
   * overall), or with what `send` threw.
   */
  request(key: K, meta: M, options: PendingRequestOptions): Promise<R> {
    const closed = this.#closeSignal;
    if (closed?.aborted) return Promise.reject(abortReason(closed));
    if (this.#entries.has(key)) {
      return Promise.reject(new ValueOutOfRangeError('key', `a request ${String(key)} is already waiting`));
    }
    if (options.signal?.aborted) return Promise.reject(abortReason(options.signal));
    // a combined signal only when the caller gave a signal or an overall timeout
    const deadline =
      options.signal !== undefined || options.timeoutMs !== undefined
        ? deadlineSignal(options, options.what)
        : undefined;
    return new Promise<R>((resolve, reject) => {
      const onAbort = (): void => entry.reject(abortReason(deadline!.signal));
      const finish = (): void => {
        if (entry.timer !== undefined) clearTimeout(entry.timer);
        entry.timer = undefined;
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
        if (deadline) {
          deadline.signal.removeEventListener('abort', onAbort);
          deadline.dispose();
        }
      };
      const onTimer = (): void => {
        entry.timer = undefined;
        if (entry.attempts <= options.resends) attempt();
        else {
          options.onTimeout?.();
          entry.reject(new TimeoutError(options.what, options.attemptMs * (options.resends + 1)));
        }
      };
      let settled = false;
      const entry: Entry<M, R> = {
        meta,
        options,
        attempts: 0,
        timer: undefined,
        resolve: (r) => {
          if (settled) return;
          settled = true;
          finish();
          resolve(r);
        },
        reject: (e) => {
          if (settled) return;
          settled = true;
          finish();
          reject(e);
        },
        arm: (ms) => {
          if (entry.timer !== undefined) clearTimeout(entry.timer);
          entry.timer = setTimeout(onTimer, ms);
          if (this.#unref) entry.timer.unref?.();
        },
      };
      const attempt = (): void => {
        const n = entry.attempts++;
        try {
          options.send(n);
        } catch (e) {
          entry.reject(e);
          return;
        }
        if (!settled) entry.arm(options.attemptMs);
      };
      deadline?.signal.addEventListener('abort', onAbort, { once: true });
      this.#entries.set(key, entry);
      attempt();
    });
  }

  /** The answer to the request under `key` arrived: it resolves. False when none waits. */
  resolve(key: K, response: R): boolean {
    const e = this.#entries.get(key);
    if (!e) return false;
    e.resolve(response);
    return true;
  }

  /** Fails the request under `key` with `error`. False when none waits. */
  reject(key: K, error: unknown): boolean {
    const e = this.#entries.get(key);
    if (!e) return false;
    e.reject(error);
    return true;
  }

  /**
   * The peer says the answer will take longer (GVCP PENDING_ACK): the current attempt waits `ms` from now instead,
   * with no resend meanwhile. False when none waits.
   */
  extend(key: K, ms: number): boolean {
    const e = this.#entries.get(key);
    if (!e) return false;
    e.arm(ms);
    return true;
  }

  /** Fails every waiting request (whose `meta` matches `where`, when given) with `error`; returns how many. */
  rejectWhere(error: unknown, where?: (meta: M, key: K) => boolean): number {
    let n = 0;
    for (const [key, e] of [...this.#entries]) {
      if (where && !where(e.meta, key)) continue;
      e.reject(error);
      n++;
    }
    return n;
  }
}
