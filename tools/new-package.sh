#!/usr/bin/env bash
# Scaffold packages/<name> with the house layout. Usage: tools/new-package.sh <name> "<description>" [bin]
set -euo pipefail
name=$1; desc=$2; dir=packages/$name
mkdir -p "$dir/src" "$dir/test" "$dir/bench"
cp "$(dirname "$0")/../LICENSE" "$dir/LICENSE"
cat > "$dir/package.json" <<JSON
{
  "name": "@cam/$name",
  "version": "0.0.0",
  "description": "$desc",
  "license": "MIT",
  "type": "module",
  "sideEffects": false,
  "exports": {
    ".": {
      "types": "./dist/index.d.ts",
      "@cam/source": "./src/index.ts",
      "import": "./dist/index.js"
    },
    "./package.json": "./package.json"
  },
  "main": "./dist/index.js",
  "types": "./dist/index.d.ts",
  "files": ["dist", "src", "README.md", "CHANGELOG.md", "LICENSE"],
  "engines": { "node": ">=20.11" },
  "scripts": {
    "build": "tsup",
    "typecheck": "tsc -p tsconfig.json",
    "check:package": "publint --strict && attw --pack . --profile esm-only"
  },
  "dependencies": {}
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "include": ["src", "test", "bench"]
}
JSON
cat > "$dir/tsup.config.ts" <<'TS'
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
});
TS
[ -f "$dir/src/index.ts" ] || echo "export {};" > "$dir/src/index.ts"
[ -f "$dir/README.md" ] || printf '# @cam/%s\n\n%s\n' "$name" "$desc" > "$dir/README.md"
