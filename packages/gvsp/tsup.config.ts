import { defineConfig } from 'tsup';

export default defineConfig({
  // the receive worker is its own entry: GvspReceiver({ worker: true }) starts dist/receiver-worker.js
  entry: { index: 'src/index.ts', codec: 'src/codec/index.ts', 'receiver-worker': 'src/transport/receiver-worker.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { entry: { index: 'src/index.ts', codec: 'src/codec/index.ts' } },
  sourcemap: true,
  clean: true,
  // optional: loaded when installed (openStream's engine: 'auto' | 'native'), never bundled
  external: ['@cam/gvsp-native'],
});
