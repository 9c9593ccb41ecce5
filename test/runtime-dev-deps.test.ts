/**
 * Shipped code never loads a development tool at run time: no file under any package's src/ imports, requires or
 * resolves `tsx` (the TypeScript loader the tests and benchmarks use). Workers started from sources go through
 * test-support/source-worker.ts instead; the build ships each worker as its own entry.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (/\.(ts|mts|js|mjs|cjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** An import, require, dynamic import or module resolution naming tsx (or a tsx subpath). */
const LOADS_TSX = /(?:from\s+|import\s*\(\s*|require(?:\.resolve)?\s*\(\s*|resolve\s*\(\s*)['"`]tsx(?:\/[^'"`]*)?['"`]/;

describe('no dev tool at run time', () => {
  it('the pattern catches the ways code loads tsx', () => {
    for (const line of [
      "import { register } from 'tsx/esm/api';",
      "await import('tsx/esm/api')",
      "createRequire(import.meta.url).resolve('tsx/esm/api')",
      "require('tsx')",
    ]) {
      expect(LOADS_TSX.test(line), line).toBe(true);
    }
    expect(LOADS_TSX.test('// tests run from sources with tsx')).toBe(false);
  });

  it('no package source loads tsx', () => {
    const offenders: string[] = [];
    const packages = join(root, 'packages');
    let checked = 0;
    for (const name of readdirSync(packages)) {
      const src = join(packages, name, 'src');
      if (!statSync(src, { throwIfNoEntry: false })?.isDirectory()) continue;
      for (const f of files(src)) {
        checked++;
        if (LOADS_TSX.test(readFileSync(f, 'utf8'))) offenders.push(relative(root, f));
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(offenders).toEqual([]);
  });
});
