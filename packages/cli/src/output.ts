import { clipText, WireError } from '@cam/net-utils';
import { hintFor } from './hints.js';

/**
 * The exit-code contract of every `cam` command: 0 success, 1 runtime failure, 2 command-line mistake (the parser's
 * own errors included), 130 stopped by SIGINT after a clean stop (0 for SIGTERM, 143 when ended at once).
 */
export const ExitCode = { OK: 0, FAILURE: 1, USAGE: 2, INTERRUPTED: 130, TERMINATED: 143 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Options every network command takes. */
export interface OutputOptions {
  json?: boolean;
}

/** Prints one JSON document (bigint as decimal strings, bytes as hex) to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** Parses `0x0A00`, `0A00h` or `2560` into a non-negative integer; throws a message for the user otherwise. */
export function parseNumber(text: string, what = 'number'): number {
  const t = text.trim();
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(t)) v = Number.parseInt(t.slice(2), 16);
  else if (/^[0-9]+$/.test(t)) v = Number.parseInt(t, 10);
  else throw new UsageError(`${what} "${text}" is neither decimal nor hex (0x...)`);
  if (!Number.isSafeInteger(v)) throw new UsageError(`${what} "${text}" is too large`);
  return v;
}

/** A mistake on the command line: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Prints an error for a person (or as JSON) with a one-line hint of what to do when there is one, and sets the exit
 * code (2 for a UsageError, else 1).
 */
export function reportError(error: unknown, json: boolean): void {
  const e = error instanceof Error ? error : new Error(String(error));
  process.exitCode = e instanceof UsageError ? ExitCode.USAGE : ExitCode.FAILURE;
  const hint = hintFor(e);
  if (json) {
    printJson({ ok: false, error: { name: e.name, message: clipText(e.message), ...(hint ? { hint } : {}) } });
    return;
  }
  const label = WireError.isInstance(e) || e instanceof UsageError ? e.name : 'Error';
  // messages can quote a peer's bytes: bounded and made safe for the terminal
  process.stderr.write(`cam: ${label}: ${terminalSafe(clipText(e.message), true)}\n`);
  if (hint) process.stderr.write(`hint: ${hint}\n`);
  if (process.env.CAM_DEBUG && e.stack) process.stderr.write(`${e.stack}\n`);
}

// C0 controls but tab and newline, DEL, C1 controls (U+0080-U+009F: 8-bit CSI and friends), and the invisible
// direction marks and overrides that reorder what a terminal shows. Matching control characters is the point here.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to escape
const UNSAFE_MULTILINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to escape
const UNSAFE_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * A string a device (or any peer) supplied, made safe to print to a terminal: escape sequences, carriage returns
 * (which let a peer overwrite what was printed before), other control characters and bidirectional overrides are
 * shown as visible `\xNN` / `\uNNNN` escapes. `multiline` keeps newlines and tabs (a whole document such as the
 * GenICam XML); otherwise they are escaped too, so a device name cannot forge an extra line of output.
 */
export function terminalSafe(text: string, multiline = false): string {
  return text.replace(multiline ? UNSAFE_MULTILINE : UNSAFE_LINE, escapeChar);
}

/**
 * Wraps a command action: errors are reported (JSON with --json) and set the exit code instead of escaping.
 * The options object is the second-to-last argument commander passes.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const opts = args[args.length - 2] as { json?: boolean } | undefined;
    try {
      await fn(...args);
    } catch (e) {
      reportError(e, Boolean(opts?.json));
    }
  };
}
