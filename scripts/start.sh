#!/usr/bin/env bash
# npm start: the intake, the editorial worker and, unless REDIS_URL is set, an embedded Redis that
# keeps its data on disk (AOF, fsync every second) under ./data/redis. It is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
# Compiled before anything starts: a signal during the build (tsc takes seconds) then ends the script
# with nothing left running.
bash scripts/build.sh
if [ -f .env ]; then set -a; . ./.env; set +a; fi
# No core dumps, for the intake, the worker or Redis: a crash while cleaning a hostile file would
# write the tips in memory, and the keys of unfinished uploads, to disk. 1 byte, not 0: with a crash
# handler in core_pattern (apport, systemd-coredump) the kernel ignores 0 and pipes the whole dump to
# it; 1 is its "no dump". (ulimit counts KiB, so prlimit, on this shell; children inherit it.)
prlimit --core=1 --pid $$
# The `debug` module of a library (@tus/server) would print raw request headers, the upload's
# metadata with its file name among them, to stderr.
unset DEBUG

redis_pid=''
pids=()
# The intake and the worker stop first and are waited for: they finish the tips in flight, which
# needs Redis. Redis stops last when the script alone is signalled (a supervisor, kill); Ctrl-C
# reaches all three at once (see below).
cleanup() {
  # A second signal while we stop the rest must not end the script before Redis is stopped.
  trap - EXIT
  trap '' HUP INT TERM
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$redis_pid" ]; then kill -TERM "$redis_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
}
# A signal ends the script once everything is stopped; it does not go on to start what is left.
trap cleanup EXIT
trap 'cleanup; exit 129' HUP
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

if [ -z "${REDIS_URL:-}" ]; then
  data="$PWD/data/redis"
  mkdir -p "$data"; chmod 700 "$data"
  sock="$data/redis.sock"
  # Not in a session of its own, though Ctrl-C (which signals the whole process group) then stops it
  # while the intake and worker drain: nothing is lost (a tip committed meanwhile waits in the vault's
  # outbox, a delivery is redone), whereas a Redis left running by a second Ctrl-C or a closed
  # terminal would share ./data/redis with the next start's.
  redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --dir "$data" \
    --appendonly yes --appendfsync everysec --save 60 1 --daemonize no --loglevel warning \
    --logfile "$data/redis.log" &
  redis_pid=$!
  for _ in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { echo "buzon: embedded redis-server did not start; see $data/redis.log" >&2; exit 1; }
  export REDIS_URL="unix://$sock"
fi

# A young generation of 4 MiB semi-spaces instead of V8's 16: during 20 concurrent uploads the intake
# peaked at 241 MiB instead of 271, with no measurable cost in tips per second (BENCHMARKS.md, round 5).
export NODE_OPTIONS="--max-semi-space-size=4${NODE_OPTIONS:+ $NODE_OPTIONS}"
# node itself, not npx: the pid we keep is then the service's own, so the SIGTERM above reaches it
# (through npx it reached npm, and the intake and worker were left running without Redis).
node dist/src/intake/main.js & pids+=($!)
node dist/workers/main.js & pids+=($!)
# If any of them stops, stop the rest.
wait -n
