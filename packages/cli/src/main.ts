import { CommanderError } from 'commander';
import { exitCodeForSignal, forcedExitCode, interruptedBy, noteSignal, resetInterruption } from './interrupt.js';
import { ExitCode, printJson, reportError } from './output.js';
import { createProgram } from './program.js';

/** Codes commander uses when it showed help or the version on request (not a mistake). */
const INFORMATIONAL = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/**
 * Runs `cam` with `argv` (as process.argv: node, script, args...) and returns the exit code of the contract:
 * 0 success, 1 runtime failure, 2 command-line mistake (commander's parse errors included), 130 after a clean stop
 * on SIGINT (0 after a clean stop on SIGTERM). A command that has no signal handling of its own is ended at once
 * with 130 (143 for SIGTERM); a second signal ends any command at once.
 */
export async function main(argv: string[]): Promise<number> {
  process.exitCode = undefined;
  resetInterruption();
  const json = argv.includes('--json');
  let usageMessage = '';
  const program = createProgram({
    outputError: (text, write) => {
      usageMessage += text;
      if (!json) write(text);
    },
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    noteSignal(signal);
    // a command that stops cleanly listens itself; when nobody else does, or on a second signal, end now
    if (++signals > 1 || process.listenerCount(signal) <= 1) process.exit(forcedExitCode(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (INFORMATIONAL.has(e.code)) return ExitCode.OK;
      if (json) printJson({ ok: false, error: { name: 'UsageError', message: cleanUsage(usageMessage || e.message) } });
      return ExitCode.USAGE;
    }
    reportError(e, json);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const code = Number(process.exitCode ?? ExitCode.OK);
  const signal = interruptedBy();
  // SIGINT: 130 whatever the interrupted work ended in; SIGTERM: the command's own code (0 after a clean stop)
  if (signal === 'SIGINT' && code !== ExitCode.USAGE) return exitCodeForSignal(signal);
  return code;
}

function cleanUsage(text: string): string {
  return text
    .replace(/^error: /, '')
    .split('\n')[0]!
    .trim();
}
