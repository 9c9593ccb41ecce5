#!/bin/sh
# Interleaved before/after comparison of the reassembly engine, one fresh process per run, same harness
# (this tree's bench/engine.ts) for both builds:
#   git worktree add --detach /tmp/gvsp-before <old commit> && (cd /tmp/gvsp-before && pnpm install --offline &&
#     pnpm --filter "@cam/gvsp..." build)
#   pnpm --filter @cam/gvsp build
#   BEFORE_DIST=/tmp/gvsp-before/packages/gvsp/dist/index.js ROUNDS=10 BENCH_FRAMES=1000 \
#     flock /tmp/cam-bench.lock sh packages/gvsp/bench/engine-ab.sh
# Each line starts with the side and the 1-minute load average; compare CPU ns (steady under load), not wall.
set -eu
cd "$(dirname "$0")/.."
: "${BEFORE_DIST:?set BEFORE_DIST to the older build's dist/index.js}"
i=0
while [ "$i" -lt "${ROUNDS:-8}" ]; do
  i=$((i + 1))
  for side in before after; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [ "$side" = before ]; then
      BENCH_GVSP_DIST="$BEFORE_DIST" node --conditions=@cam/source --import tsx bench/engine.ts | sed "s/^/$side load=$load: /"
    else
      node --conditions=@cam/source --import tsx bench/engine.ts | sed "s/^/$side load=$load: /"
    fi
  done
done
