// prepack: puts a prebuilt binary for this platform into prebuilds/ (prebuildify --napi: one binary for every
// Node with N-API 8), so the packed tarball installs without a compiler. Uses Node's own headers when they are
// installed beside it (no download).
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const env = { ...process.env };
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!env.npm_config_nodedir && existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  env.npm_config_nodedir = prefix;
}
// the node-gyp npm or pnpm runs scripts with, when it says which (an executable script)
if (!env.PREBUILD_NODE_GYP && env.npm_config_node_gyp && existsSync(env.npm_config_node_gyp)) {
  env.PREBUILD_NODE_GYP = env.npm_config_node_gyp;
}
const bin = require.resolve('prebuildify/bin.js');
const args = [bin, '--napi', '--strip', '--target', `node@${process.versions.node}`];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });
process.exit(r.status ?? 1);
