#!/usr/bin/env node
// Packs every package of the workspace into one folder (default ./packed), as the README's "Install from a clone"
// recipe uses them: `pnpm pack` turns the `workspace:` ranges into the packages' versions, so the tarballs install
// into any npm project. Usage: pnpm pack:all [dir]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.argv[2] ?? join(repo, 'packed'));
mkdirSync(out, { recursive: true });
for (const name of readdirSync(join(repo, 'packages'))) {
  const dir = join(repo, 'packages', name);
  if (!existsSync(join(dir, 'package.json'))) continue;
  const printed = execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: dir, encoding: 'utf8' });
  console.log(printed.trim().split('\n').pop());
}
console.log(`\ntarballs in ${out}; install them with: npm install ${join(out, '*.tgz')}`);
