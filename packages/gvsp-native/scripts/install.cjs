// Install step of @cam/gvsp-native: use a prebuilt binary when one fits (prebuilds/, from `prepack`), else build
// from source with node-gyp. A failed build is not a failed install: @cam/gvsp then runs its JavaScript engine and
// says why (stream.engine.reason). Set CAM_GVSP_NATIVE_REQUIRED=1 (CI) to make a failed build fail the install.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const force = process.argv.includes('--force');
const required = process.env.CAM_GVSP_NATIVE_REQUIRED === '1';

function done(message, ok) {
  process.stdout.write(`@cam/gvsp-native: ${message}\n`);
  process.exit(ok || !required ? 0 : 1);
}

if (process.platform !== 'linux') done(`no native engine on ${process.platform} (Linux only)`, false);

if (!force) {
  try {
    const found = require('node-gyp-build').path(root);
    done(`using ${path.relative(root, found)}`, true);
  } catch {
    // nothing prebuilt for this platform: build below
  }
}

// node-gyp: the one npm or pnpm runs scripts with, else the one on the PATH
const gyp = process.env.npm_config_node_gyp;
const command = gyp && existsSync(gyp) ? process.execPath : 'node-gyp';
const args = gyp && existsSync(gyp) ? [gyp, 'rebuild'] : ['rebuild'];
// Node's own headers when they are installed beside it (distribution packages): no download needed
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: false });
if (r.status === 0) done('built from source (build/Release/gvsp_native.node)', true);
done(
  `could not build (${r.error ? r.error.message : `node-gyp exited ${r.status}`}); @cam/gvsp will use its JavaScript engine`,
  false,
);
