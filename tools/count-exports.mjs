#!/usr/bin/env node
// Counts the runtime exports of every entry (package.json `exports`) of every package, and how many of them are
// aliases (a second name for a value another export already has). Prints a Markdown table.
//
//   node tools/count-exports.mjs                 this checkout (aliases need `pnpm build`: they are read from dist)
//   node tools/count-exports.mjs --root DIR      another tree, e.g. `git archive REV packages | tar -x -C DIR`
//
// The names are those esbuild finds in the entry's module graph from its TypeScript sources (the `@cam/source`
// condition), so types are not counted and no build is needed; sibling packages are left external.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const rootArg = args.indexOf('--root');
const repo = resolve(rootArg >= 0 ? args[rootArg + 1] : new URL('..', import.meta.url).pathname);
const thisRepo = resolve(new URL('..', import.meta.url).pathname);

async function exportNames(file) {
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
    outdir: '/tmp/count-exports-out',
  });
  const out = Object.values(result.metafile.outputs).find((o) => o.entryPoint);
  return out?.exports ?? [];
}

/** Exports whose value another export of the same entry already has (functions and objects only). */
async function aliasesOf(distFile) {
  if (!existsSync(distFile)) return undefined;
  const mod = await import(pathToFileURL(distFile).href);
  const seen = new Map();
  let aliases = 0;
  for (const name of Object.keys(mod).sort()) {
    const v = mod[name];
    if ((typeof v !== 'function' && typeof v !== 'object') || v === null) continue;
    if (seen.has(v)) aliases++;
    else seen.set(v, name);
  }
  return aliases;
}

const rows = [];
for (const dir of readdirSync(join(repo, 'packages')).sort()) {
  const pj = join(repo, 'packages', dir, 'package.json');
  if (!existsSync(pj)) continue;
  const pkg = JSON.parse(readFileSync(pj, 'utf8'));
  for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
    if (typeof target !== 'object' || !target['@cam/source']) continue;
    const names = await exportNames(join(repo, 'packages', dir, target['@cam/source']));
    const aliases =
      repo === thisRepo && target.import ? await aliasesOf(join(repo, 'packages', dir, target.import)) : undefined;
    rows.push({ entry: `${pkg.name}${sub === '.' ? '' : sub.slice(1)}`, exports: names.length, aliases });
  }
}

console.log('| entry | runtime exports | aliases |');
console.log('| --- | ---: | ---: |');
for (const r of rows) console.log(`| ${r.entry} | ${r.exports} | ${r.aliases ?? '-'} |`);
