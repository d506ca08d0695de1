#!/usr/bin/env bash
# Compiles src/ and workers/ to dist/ (tsc, tsconfig.build.json), which npm start runs: a node
# process that loads TypeScript through tsx carries its compiler for good, ~30-40 MiB of RSS more
# per process (BENCHMARKS.md, round 11). Called at every start; it compiles only when the sources
# differ from those of the last build (a hash of their content, taken before compiling, so an edit
# made during a build, or a copy that kept older times, is not missed), so a restart does not touch
# a dist/ that other processes run. After an update, restart every process: one still running may
# load a file of the new build. Several starts at once take turns on one lock.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>.build.lock
flock 9
sources=$( { find src workers -type f -print0 | sort -z | xargs -0 sha256sum
  sha256sum tsconfig.json tsconfig.build.json package.json package-lock.json
  node node_modules/typescript/bin/tsc --version; } | sha256sum | cut -d' ' -f1)
if [ -f dist/.built ] && [ "$(cat dist/.built)" = "$sources" ]; then
  exit 0
fi
rm -rf dist.new
node node_modules/typescript/bin/tsc -p tsconfig.build.json --outDir dist.new
echo "$sources" > dist.new/.built
rm -rf dist
mv dist.new dist
