#!/usr/bin/env bash
# Compiles src/ and workers/ to dist/ (tsc, tsconfig.build.json), which npm start runs: a node
# process that loads TypeScript through tsx carries its compiler for good, ~30-40 MiB of RSS more
# per process (BENCHMARKS.md, round 11). Run at every start, so dist/ is never older than src/;
# several starts at once (npm run start:intake and start:worker) take turns on one lock.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>.build.lock
flock 9
rm -rf dist.new
node node_modules/typescript/bin/tsc -p tsconfig.build.json --outDir dist.new
rm -rf dist
mv dist.new dist
