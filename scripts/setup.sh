#!/usr/bin/env bash
# Installs what Buzón needs on a fresh Debian machine with Node 20: system packages through apt-get
# when run as root (otherwise it prints the exact command), then the npm packages.
# Usage: scripts/setup.sh run|test
set -euo pipefail
mode=${1:-run}
cd "$(dirname "$0")/.."

# binary:package pairs
need=(redis-server:redis-server ffmpeg:ffmpeg ffprobe:ffmpeg exiftool:libimage-exiftool-perl
      prlimit:util-linux pdftoppm:poppler-utils qpdf:qpdf heif-convert:libheif-examples
      jpegtran:libjpeg-turbo-progs gpg:gnupg)
if [ "$mode" = test ]; then
  # fincore: the vault's test reads how much of a file is in the page cache.
  need+=(chromium:chromium mat2:mat2 fincore:util-linux-extra)
fi
missing=()
for pair in "${need[@]}"; do
  bin=${pair%%:*}; pkg=${pair##*:}
  command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  if [ "$(id -u)" = 0 ]; then
    echo "buzon: installing system packages: $pkgs" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
  else
    echo "buzon: missing system packages. Run this, then try again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $pkgs" >&2
    exit 1
  fi
fi

# typescript's tsc is looked for too: a node_modules installed without the development packages
# (by an older set-up with NODE_ENV=production) is installed again.
if [ ! -d node_modules ] || [ ! -e node_modules/.bin/tsc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "buzon: installing npm packages" >&2
  # The development packages too, even with NODE_ENV=production in the environment (which makes npm
  # leave them out): `npm start` compiles with typescript, and the editor's CLI runs through tsx.
  npm ci --include=dev --no-audit --no-fund --loglevel=error
fi
