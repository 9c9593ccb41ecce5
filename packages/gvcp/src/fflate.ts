import { createRequire } from 'node:module';
import { WireError } from '@cam/net-utils';
import type * as Fflate from 'fflate';

/**
 * fflate (zip) is an optional peer dependency of @cam/gvcp: only a zipped GenICam file needs it (a camera that serves
 * `.zip`, or the simulated device with `genicamZip: true`), so `@cam/gvsp` installed alone pulls no zip library.
 * It is loaded on first use, synchronously (Node's require of fflate's CommonJS build): the callers are synchronous.
 */
export class FflateMissingError extends WireError {
  static override readonly errorName: string = 'FflateMissingError';

  constructor(purpose: string, options?: { cause?: unknown }) {
    super(`${purpose} needs the optional peer dependency fflate: npm install fflate`, options);
  }
}

let loaded: typeof Fflate | undefined;

/** fflate, or {@link FflateMissingError} naming what needed it. */
export function requireFflate(purpose: string): typeof Fflate {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('fflate') as typeof Fflate;
  } catch (cause) {
    throw new FflateMissingError(purpose, { cause });
  }
  return loaded;
}
