/**
 * The contracts of the hostile-peer suites (`pnpm fuzz`, `pnpm attack`). Each package keeps its own targets beside
 * its code and the root runners discover them:
 *
 * - `packages/<pkg>/fuzz/targets.ts` default-exports `FuzzTarget[]`: every exported decoder and streaming decoder
 *   of the package, seeded from the package's own encoders and fixtures.
 * - `packages/<pkg>/attack/scenarios.ts` default-exports `AttackScenario[]`: every server and device of the package
 *   (and every host command that trusts a device), each attacked on loopback only, bounded in count and time.
 *
 * This file holds types only, so a package can write targets before it knows the runners.
 */

/** One decoder (or streaming decoder) under fuzz. */
export interface FuzzTarget {
  /** `<package> <function>`, e.g. `gvcp decodeAck`; unique across the repository (used in file names). */
  name: string;
  /** Valid inputs built with the package's own encoders and fixtures; mutations start from these. */
  seeds: () => Uint8Array[];
  /**
   * Feeds one input to the decoder. A streaming decoder is fed the input split at the given cut points (the runner
   * chooses them; ascending offsets inside the input). Returns normally for accepted input or throws.
   */
  run: (input: Uint8Array, cuts: readonly number[]) => void | Promise<void>;
  /** True for the package's own typed errors: any other exception is a finding. */
  isExpectedError: (error: unknown) => boolean;
  /** Largest input the runner builds for this target (default 64 KiB). */
  maxInputBytes?: number;
  /** Largest growth of heap plus array buffers one call may cause (default 16 MiB): more is a finding. */
  maxAllocationBytes?: number;
}

/** The result of one attack. */
export interface AttackOutcome {
  /** True when the server kept serving a legitimate client during and after the attack, within its bounds. */
  survived: boolean;
  /** One line a person can read: what was seen, e.g. `legit client 3/3 during, 3/3 after; 200 sockets closed`. */
  detail: string;
  /** Resident set size (MiB) of the process under attack before and after (after a settle time). */
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** Bytes the target sent divided by bytes the attacker sent, where the attack is about amplification. */
  amplification?: number;
}

/** One attack on one server, device or host command, on loopback only. */
export interface AttackScenario {
  /** What is attacked, e.g. `Huidu device (TCP 10001)`. */
  target: string;
  /** How, e.g. `slowloris: 200 connections at 1 B/s`. */
  attack: string;
  /**
   * Starts the target, attacks it, checks a legitimate client during and after, stops everything it started.
   * Bounded: `budget` says how hard to hit (CI passes a small one); the scenario must end well within `timeoutMs`.
   */
  run: (options: { budget: 'short' | 'full'; timeoutMs: number; signal: AbortSignal }) => Promise<AttackOutcome>;
}
