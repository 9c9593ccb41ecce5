import { describe, expect, it } from 'vitest';
import { bundleCodec, CODEC_ENTRIES, isBuilt } from '../test-support/codec-bundles.js';

/**
 * Issue #15: every codec entry bundles for a browser. esbuild with `platform: 'browser'` resolves no Node built-in,
 * so a `node:` import anywhere in an entry's graph, or a module that cannot be resolved, fails the bundle; the
 * inputs are checked too, so a built-in that slipped through a shim would still be named.
 */
describe('codec entries bundle for the browser', () => {
  for (const entry of CODEC_ENTRIES) {
    for (const from of ['source', 'dist'] as const) {
      it.skipIf(from === 'dist' && !isBuilt(entry))(`${entry} (${from})`, async () => {
        const bundle = await bundleCodec(entry, from);
        expect(bundle.errors, `esbuild errors for ${entry}`).toEqual([]);
        const builtins = bundle.inputs.filter(
          (f) => f.startsWith('node:') || /(^|\/)node_modules\/(buffer|safer-buffer)\//.test(f),
        );
        expect(builtins, `Node-only inputs of ${entry}`).toEqual([]);
        expect(bundle.code).not.toMatch(/\brequire\(["']node:/);
        expect(bundle.code).not.toMatch(/\bfrom ["']node:/);
        expect(bundle.code.length).toBeGreaterThan(0);
      });
    }
  }
});
