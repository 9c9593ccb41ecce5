/**
 * parseXml before/after (issue #15): this checkout's parser against another checkout's, interleaved in one process so
 * both see the same machine load. The other one is named by BENCH_XML_BEFORE (the path of its src/xml/tree.ts, e.g.
 * of a `git worktree` of the previous commit with its dependencies installed):
 *   BENCH_XML_BEFORE=/path/to/old/packages/genicam/src/xml/tree.ts \
 *     node --conditions=@cam/source --import tsx bench/xml-ab.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseXml as after } from '../src/xml/tree.js';

const beforePath = process.env.BENCH_XML_BEFORE;
if (!beforePath) throw new Error('set BENCH_XML_BEFORE to the src/xml/tree.ts of the checkout to compare with');
const { parseXml: before } = (await import(beforePath)) as { parseXml: (xml: string) => unknown };
const dir = new URL('../test/fixtures/', import.meta.url);
const docs = readdirSync(dir)
  .filter((f) => f.endsWith('.xml'))
  .map((f) => readFileSync(new URL(f, dir), 'utf8'));
const total = docs.reduce((a, d) => a + d.length, 0);
const time = (fn: (x: string) => unknown): number => {
  const t = performance.now();
  for (const d of docs) fn(d);
  return performance.now() - t;
};
for (let i = 0; i < 5; i++) {
  time(before);
  time(after);
}
const b: number[] = [];
const a: number[] = [];
for (let i = 0; i < 30; i++) {
  b.push(time(before));
  a.push(time(after));
}
const median = (x: number[]): string => ([...x].sort((p, q) => p - q)[x.length >> 1] as number).toFixed(1);
console.log(
  `${docs.length} GenICam files, ${(total / 1024).toFixed(0)} KiB: parseXml median before ${median(b)} ms, ` +
    `after ${median(a)} ms (30 interleaved rounds)`,
);
