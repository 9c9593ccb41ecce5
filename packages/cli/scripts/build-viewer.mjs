// Bundles the viewer's browser app (src/viewer/web) into dist/viewer/: index.html, main.js, main.css. Everything
// the page needs is in there: nothing is fetched from elsewhere at run time.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/viewer`;
mkdirSync(out, { recursive: true });
await build({
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
});
copyFileSync(`${root}src/viewer/web/index.html`, `${out}/index.html`);
