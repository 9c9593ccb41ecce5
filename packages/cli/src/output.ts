import { WireError } from '@cam/net-utils';

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

/** Prints an error for a person (or as JSON) and sets the exit code. */
export function reportError(error: unknown, json: boolean): void {
  const e = error instanceof Error ? error : new Error(String(error));
  process.exitCode = e instanceof UsageError ? 2 : 1;
  if (json) {
    printJson({ ok: false, error: { name: e.name, message: e.message } });
    return;
  }
  const label = WireError.isInstance(e) || e instanceof UsageError ? e.name : 'Error';
  process.stderr.write(`cam: ${label}: ${e.message}\n`);
  if (process.env.CAM_DEBUG && e.stack) process.stderr.write(`${e.stack}\n`);
}
