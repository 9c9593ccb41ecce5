import { ExitCode } from './output.js';

/** What stopped a long-running command early, if anything. */
let stoppedBy: NodeJS.Signals | undefined;

/** The signal that stopped the current command, if one did (for the exit code). */
export function interruptedBy(): NodeJS.Signals | undefined {
  return stoppedBy;
}

/** Forgets an earlier interruption (for running several commands in one process, as tests do). */
export function resetInterruption(): void {
  stoppedBy = undefined;
}

/**
 * The exit code a command ends with once it stopped cleanly after `signal`: 130 for SIGINT (Ctrl-C: the user cut it
 * short), 0 for SIGTERM (an orderly shutdown asked for by a service manager, which counts it as success).
 */
export function exitCodeForSignal(signal: NodeJS.Signals): ExitCode {
  return signal === 'SIGTERM' ? ExitCode.OK : ExitCode.INTERRUPTED;
}

/** The exit code when the process is ended at once (nothing to stop cleanly, or a second signal): 128 + signal. */
export function forcedExitCode(signal: NodeJS.Signals): ExitCode {
  return signal === 'SIGTERM' ? ExitCode.TERMINATED : ExitCode.INTERRUPTED;
}

/**
 * An AbortSignal for a long-running command that aborts on the first SIGINT or SIGTERM, so the command can stop
 * cleanly (release the device, print its summary) and end with 130 (0 for SIGTERM). A second signal while
 * stopping ends the process at once (see main). `dispose()` removes the listeners.
 */
export function interruptSignal(): { signal: AbortSignal; dispose(): void; [Symbol.dispose](): void } {
  const controller = new AbortController();
  const on = (signal: NodeJS.Signals): void => {
    stoppedBy ??= signal;
    controller.abort(new InterruptedError(signal));
    dispose();
  };
  const dispose = (): void => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return { signal: controller.signal, dispose, [Symbol.dispose]: dispose };
}

/** The reason an interrupted command's signal carries. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor(readonly signal: NodeJS.Signals) {
    super(`stopped by ${signal}`);
  }
}

/** Notes a signal the process received (main's own listener). */
export function noteSignal(signal: NodeJS.Signals): void {
  stoppedBy ??= signal;
}
