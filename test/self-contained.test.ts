import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The repository is complete on its own: no test, tool, example, build step or CI script reads `../shared` (the
 * design notes beside the developers' checkout, absent from a user's clone) or any absolute path of one machine.
 */
const repo = new URL('..', import.meta.url).pathname;
const skipDirs = new Set(['node_modules', 'dist', '.git', '.turbo', 'coverage']);
const textFile = /\.(ts|mts|cts|js|mjs|cjs|json|sh|py|yaml|yml|toml)$|^(run|capture-fixtures|[A-Za-z-]+\.sh)$/;

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipDirs.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile() && textFile.test(entry.name) && statSync(path).size < 2_000_000) yield path;
  }
}

describe('the repository is self-contained', () => {
  it('no source, test, tool or config file refers to ../shared or to an absolute path of the developers machine', () => {
    const offenders: string[] = [];
    for (const file of files(repo)) {
      if (file.endsWith('pnpm-lock.yaml') || file === join(repo, 'test', 'self-contained.test.ts')) continue;
      const text = readFileSync(file, 'utf8');
      if (/\.\.\/(\.\.\/)*shared\//.test(text) || /(^|[\s'"`(])\/work\//m.test(text))
        offenders.push(relative(repo, file));
    }
    expect(offenders).toEqual([]);
  });
});
