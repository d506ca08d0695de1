#!/usr/bin/env bash
# npm run bench: every figure of BENCHMARKS.md, each with its baseline measured in the same run.
# Loopback only; every load is bounded in count and time. Takes about 10-25 minutes on 2 cores (11 on a
# quiet machine, round 13).
# Knobs: BENCH_RUNS, VIDEO_SIZES_MIB, VIDEO_SETTLE_SECONDS, VIDEO_CODEC, SEAL_MIB, NOTES_SECONDS, CONCURRENT_UPLOADS, DRAIN_TIPS, PHOTOS,
# SMALL_SEALS, BENCH_NODE_OPTIONS (replaces the service's NODE_OPTIONS, for an A/B), BENCH_INTAKE_ARGS (node options
# for the intake's command line, for an A/B; none by default, as npm start).
# One figure only: bash bench/run.sh seal|seal-small|video|concurrent|notes|drain|photos
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test >&2
bash scripts/build.sh >&2
command -v curl >/dev/null || { echo "bench: curl is needed (apt-get install curl)" >&2; exit 1; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB RAM, kernel $(uname -r)"
echo "tools: node $(node --version), $(gpg --version | head -1), $(ffmpeg -version | head -1 | cut -d' ' -f1-3), $(redis-server --version | cut -d' ' -f1-3), mat2 $(mat2 --version 2>/dev/null | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
all=(seal seal-small video concurrent notes drain photos)
[ $# -gt 0 ] && all=("$@")
for b in "${all[@]}"; do
  case $b in
    seal) script=bench/seal.ts ;;
    seal-small) script=bench/seal-small.ts ;;
    video) script=bench/video-e2e.ts ;;
    concurrent) script=bench/concurrent.ts ;;
    notes) script=bench/notes.ts ;;
    drain) script=bench/worker-drain.ts ;;
    photos) script=bench/photos.ts ;;
    *) echo "bench: unknown figure $b" >&2; exit 2 ;;
  esac
  echo "== $b ($script)"
  timeout 1800 node --import tsx "$script"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
