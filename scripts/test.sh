#!/usr/bin/env bash
# npm test: installs what the tests need, type-checks, and runs every test with real redis-server,
# ffmpeg, exiftool, gpg and Chromium. Each test starts the services it needs on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
npx tsc --noEmit -p .
mapfile -t files < <(find test -name '*.test.ts' | sort)
[ $# -gt 0 ] && files=("$@")
exec node --import tsx --test --test-concurrency=2 "${files[@]}"
