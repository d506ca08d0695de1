# A plain image for now: the operators' work adds compose, Redis and the Tor onion service.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server ffmpeg libimage-exiftool-perl util-linux \
      poppler-utils qpdf libheif-examples libjpeg-turbo-progs gnupg tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Compiled once here (scripts/build.sh): a node process running TypeScript through tsx carries its
# compiler, ~30-40 MiB more RSS each (BENCHMARKS.md, round 11). The compiler then goes with the dev packages.
# The image runs dist/ as built (the editor CLI too: node dist/src/editor/cli.js); `npm start` and
# `npm run start:*`, which compile first, are for a checkout, not for the image. .dockerignore keeps
# the host's packages, builds, data, .env and the demo editor's secret key out of it.
RUN bash scripts/build.sh && npm prune --omit=dev --no-audit --no-fund
# NODE_OPTIONS: smaller young generation, as scripts/start.sh sets it (BENCHMARKS.md, round 5).
# DEBUG empty: a library's `debug` output (@tus/server) would print raw request headers.
ENV NODE_ENV=production HOST=0.0.0.0 SCRATCH_DIR=/dev/shm/buzon NODE_OPTIONS=--max-semi-space-size=4 DEBUG=
USER node
EXPOSE 8080
# node itself under tini, not npx: `docker stop` sends SIGTERM, tini passes it on, and the intake then
# finishes the tips in flight (npm does not pass the signal on). tini, as PID 1, reaps the helper
# processes whose parent died first (a `cat` of a stopped video); node as PID 1 never would.
# prlimit (util-linux) execs node with no core dumps: a crash while cleaning a hostile file would
# write the tips in memory, and the keys of unfinished uploads, to the host's disk. 1 byte, not 0:
# a crash handler in the host's core_pattern would get a whole dump despite a limit of 0.
ENTRYPOINT ["/usr/bin/tini", "--", "prlimit", "--core=1", "--"]
CMD ["node", "dist/src/intake/main.js"]
