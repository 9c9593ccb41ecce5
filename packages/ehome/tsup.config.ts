import { defineConfig } from 'tsup';

export default defineConfig({
  // the embedded store's worker is its own entry: openEmbeddedStore starts dist/pglite-worker.js
  entry: { index: 'src/index.ts', codec: 'src/codec/index.ts', 'pglite-worker': 'src/store/pglite-worker.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { entry: { index: 'src/index.ts', codec: 'src/codec/index.ts' } },
  sourcemap: true,
  clean: true,
});
