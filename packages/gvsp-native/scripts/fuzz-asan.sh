#!/usr/bin/env bash
# Builds the addon with AddressSanitizer (and UBSan) into build-asan/ and runs the native fuzz test and the engine
# equivalence, reassembler and loopback tests (recvmmsg and packet ring) against it, with libasan preloaded into
# Node (Node itself is not instrumented).
#   pnpm --filter @cam/gvsp-native fuzz:asan
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$here/build-asan"
mkdir -p "$out"
inc="$(dirname "$(dirname "$(command -v node)")")/include/node"
[ -f "$inc/node_api.h" ] || { echo "no Node headers at $inc" >&2; exit 1; }
cc="${CC:-gcc}"
"$cc" -shared -fPIC -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -DNODE_GYP_MODULE_NAME=gvsp_native -I"$inc" -o "$out/gvsp_native.node" "$here/src/gvsp_native.c"
asan="$("$cc" -print-file-name=libasan.so)"
ubsan="$("$cc" -print-file-name=libubsan.so)"
cd "$repo"
export CAM_GVSP_NATIVE_BINARY="$out/gvsp_native.node"
export LD_PRELOAD="$asan $ubsan"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export CAM_INTEROP=1
vitest="node node_modules/vitest/vitest.mjs run --pool=forks"
$vitest packages/gvsp-native/test/fuzz.test.ts packages/gvsp/test/engines-agree.prop.test.ts \
  packages/gvsp/test/reassembler.prop.test.ts packages/gvsp/test/sender-engines.test.ts
# the socket paths (recvmmsg, packet ring) with real traffic: only the native-engine suites (the JS engine's
# timing-bound suites are not what this run checks, and run slower under the sanitizer's allocator)
$vitest packages/gvsp/test/loopback.test.ts -t "native engine"
