# A plain image for now: the operators' work adds compose, Redis and the Tor onion service.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server ffmpeg libimage-exiftool-perl util-linux \
      poppler-utils qpdf libheif-examples libjpeg-turbo-progs gnupg \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm install --no-save tsx
COPY . .
# NODE_OPTIONS: smaller young generation, as scripts/start.sh sets it (BENCHMARKS.md, round 5).
ENV NODE_ENV=production HOST=0.0.0.0 SCRATCH_DIR=/dev/shm/buzon NODE_OPTIONS=--max-semi-space-size=4
USER node
EXPOSE 8080
# node itself as the container's process, not npx: `docker stop` sends SIGTERM to it, and the intake
# then finishes the tips in flight (npm does not pass the signal on).
CMD ["node", "--import", "tsx", "src/intake/main.ts"]
