import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';

/**
 * The browser-safe entries of @cam: the wire layer, every protocol package's `./codec` and GenICam as a whole. Each
 * must bundle for `platform: 'browser'` with no `node:` import and no unresolved module (issue #15).
 */
export const CODEC_ENTRIES = [
  '@cam/net-utils/wire',
  '@cam/gvcp/codec',
  '@cam/gvsp/codec',
  '@cam/sc-gvmp/codec',
  '@cam/ehome/codec',
  '@cam/sdk-tcp/codec',
  '@cam/genicam',
] as const;
export type CodecEntry = (typeof CODEC_ENTRIES)[number];

const repo = new URL('..', import.meta.url).pathname;
/** packages/all depends on every package, so every `@cam/*` specifier resolves from it as it would for a user. */
const resolveDir = join(repo, 'packages', 'all');

export interface CodecBundle {
  entry: CodecEntry;
  /** The bundle as one script (IIFE) that sets `globalThis[globalName]` to the entry's exports. */
  code: string;
  globalName: string;
  /** Every input file esbuild read: a `node:` module or a built-in would show here. */
  inputs: string[];
  /** Errors and warnings esbuild reported (an unresolved module is an error). */
  errors: string[];
}

/** `@cam/gvcp/codec` -> `cam_gvcp_codec`. */
export function globalNameOf(entry: string): string {
  return entry.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+/, '');
}

/** Whether `entry`'s package has been built (its `dist` exists). */
export function isBuilt(entry: CodecEntry): boolean {
  return existsSync(join(repo, 'packages', entry.split('/')[1] as string, 'dist'));
}

/**
 * Bundles `entry` for a browser, from the TypeScript sources (`from: 'source'`, through the `@cam/source` export
 * condition, no build needed) or from the built `dist` files a user installs (`from: 'dist'`). Resolution failures
 * are collected, not thrown, so a test can name every offending import.
 */
export async function bundleCodec(entry: CodecEntry, from: 'source' | 'dist' = 'source'): Promise<CodecBundle> {
  const globalName = globalNameOf(entry);
  const result = await build({
    stdin: { contents: `export * from '${entry}';`, resolveDir, loader: 'js' },
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    globalName,
    target: 'es2022',
    metafile: true,
    ...(from === 'source' ? { conditions: ['@cam/source'] } : {}),
    logLevel: 'silent',
    // Collect every problem instead of stopping at the first one.
    logLimit: 0,
  }).catch((error: { errors?: { text: string }[] }) => ({ error }));
  if ('error' in result) {
    const errors = (result.error.errors ?? []).map((e) => e.text);
    return { entry, code: '', globalName, inputs: [], errors: errors.length > 0 ? errors : [String(result.error)] };
  }
  const metafile = result.metafile as Metafile;
  return {
    entry,
    code: result.outputFiles[0]?.text ?? '',
    globalName,
    inputs: Object.keys(metafile.inputs),
    errors: [...result.errors, ...result.warnings].map((e) => e.text),
  };
}
