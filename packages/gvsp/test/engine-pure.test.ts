/**
 * The engines under src/engine/ are pure: no `node:` module and nothing that reaches one (the main entry of
 * @cam/net-utils re-exports socket helpers; the engines take its `./wire` entry). Sockets, timers and workers stay in
 * src/transport/ and src/device/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../src/engine/', import.meta.url);

describe('src/engine is pure', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

  it('holds the engines', () => {
    expect(files).toEqual(expect.arrayContaining(['reassembler.ts', 'frame.ts', 'packetizer.ts']));
  });

  it.each(files)('%s imports no node: module and not the Node entry of @cam/net-utils', (f) => {
    const text = readFileSync(new URL(f, dir), 'utf8');
    const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.filter((s) => s?.startsWith('node:') || s === '@cam/net-utils')).toEqual([]);
  });
});
