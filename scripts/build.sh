#!/usr/bin/env bash
# Compiles src/ and workers/ to dist/ (tsc, tsconfig.build.json), which npm start runs: a node
# process that loads TypeScript through tsx carries its compiler for good, ~30-40 MiB of RSS more
# per process (BENCHMARKS.md, round 11). Called at every start; it compiles only when a source is
# newer than the last build, so a restart does not touch a dist/ that other processes run. After an
# update, restart every process: one still running may load a file of the new build.
# Several starts at once (npm run start:intake and start:worker) take turns on one lock.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>.build.lock
flock 9
if [ -f dist/.built ] && [ -z "$(find src workers tsconfig.json tsconfig.build.json package-lock.json -newer dist/.built -print -quit)" ]; then
  exit 0
fi
rm -rf dist.new
node node_modules/typescript/bin/tsc -p tsconfig.build.json --outDir dist.new
touch dist.new/.built
rm -rf dist
mv dist.new dist
