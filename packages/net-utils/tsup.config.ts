import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/wire.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
});
