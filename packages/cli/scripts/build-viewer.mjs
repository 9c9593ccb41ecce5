// Bundles the viewer's browser app (src/viewer/web) into dist/viewer/: index.html, main.js, main.css (and source
// maps). Everything the page needs is in there: nothing is fetched from elsewhere at run time. Each file is written
// to a temporary name and renamed into place, so a viewer starting while another build runs (tests build it too)
// never reads half a file.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/viewer`;
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: { main: `${root}src/viewer/web/main.ts` },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: true,
  legalComments: 'eof',
  logLevel: 'warning',
  write: false,
});
const files = [
  ...result.outputFiles.map((f) => ({ name: basename(f.path), bytes: f.contents })),
  { name: 'index.html', bytes: readFileSync(`${root}src/viewer/web/index.html`) },
];
for (const f of files) {
  const tmp = `${out}/.${f.name}.${process.pid}.tmp`;
  writeFileSync(tmp, f.bytes);
  renameSync(tmp, `${out}/${f.name}`);
}
