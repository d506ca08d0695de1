/**
 * Figure (b): twenty concurrent ~100 MiB MP4 uploads, and meanwhile note-only tips one after another;
 * their latency (p50/p99/max) against the same notes sent with no uploads, in the same run.
 * Env: BENCH_RUNS (default 2), CONCURRENT_UPLOADS (default 20), VIDEO_CODEC (h264, the default, or hevc),
 * VIDEO_MOOV (first, the default: fast-start, so some are remuxed while they upload; or last; of a
 * list such as the video figure takes, the first).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { curlTip, delivered, makeNoisyClip, disposeEditors, fmt, makeEditors, removeDirs, report, runs, startService, stats, tempDir } from './lib.ts';
import { noteBody, noteHeaders } from './note-body.ts';

const n = runs(2);
const uploads = Number(process.env.CONCURRENT_UPLOADS ?? 20);
const work = tempDir('buzon-bench-conc-');
const video = join(work, 'video-100.mp4');
makeNoisyClip(video);

function p(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

/** Sends notes one after another until `until` settles (or `count` are sent); returns latencies in ms. */
async function notes(url: string, until: Promise<unknown> | undefined, count: number): Promise<number[]> {
  let done = false;
  void until?.then(() => (done = true));
  const lat: number[] = [];
  for (let i = 0; i < 5000 && (until ? !done : i < count); i++) {
    const t0 = performance.now();
    const r = await fetch(`${url}/tips`, { method: 'POST', body: noteBody, headers: noteHeaders });
    await r.arrayBuffer();
    if (r.status !== 201) throw new Error(`note answered ${r.status}`);
    lat.push(performance.now() - t0);
  }
  return lat;
}

const ed = makeEditors(work);
const svc = await startService(ed);
try {
  const idle: number[] = [];
  const busy: number[] = [];
  let bigAcked: number[] = [];
  for (let run = 0; run < n; run++) {
    idle.push(...(await notes(svc.url, undefined, 200)));
    const before = delivered(svc.inbox).length;
    const t0 = performance.now();
    const big = Promise.all(Array.from({ length: uploads }, () => curlTip(svc.url, { note: 'bench' }, video)));
    busy.push(...(await notes(svc.url, big, 0)));
    const res = await big;
    if (res.some((r) => r.code !== 201)) throw new Error(`uploads answered ${res.map((r) => r.code).join(',')}`);
    bigAcked = bigAcked.concat([(performance.now() - t0) / 1000]);
    while (delivered(svc.inbox).length < before + uploads) await new Promise((r) => setTimeout(r, 100));
    for (const t of delivered(svc.inbox)) rmSync(join(svc.inbox, t), { recursive: true, force: true });
  }
  const peaks = svc.peaks();
  console.log(`notes during ${uploads} uploads: n=${busy.length} p50 ${p(busy, 0.5).toFixed(0)} ms, p99 ${p(busy, 0.99).toFixed(0)} ms, max ${Math.max(...busy).toFixed(0)} ms`);
  console.log(`notes with no upload:        n=${idle.length} p50 ${p(idle, 0.5).toFixed(0)} ms, p99 ${p(idle, 0.99).toFixed(0)} ms, max ${Math.max(...idle).toFixed(0)} ms`);
  console.log(`all ${uploads} uploads acknowledged after s ${fmt(stats(bigAcked), 1)}; peak RSS MiB intake ${peaks.intake.toFixed(0)}, worker ${peaks.worker.toFixed(0)}`);
  report(`note p99 during ${uploads}×100 MiB ${process.env.VIDEO_CODEC === 'hevc' ? 'HEVC ' : ''}uploads`, `${p(busy, 0.99).toFixed(0)} ms (p50 ${p(busy, 0.5).toFixed(0)}, n=${busy.length}); intake peak ${peaks.intake.toFixed(0)} MiB`,
    `idle p99 ${p(idle, 0.99).toFixed(0)} ms`, '<500 ms');
} finally {
  await svc.stop();
  disposeEditors(ed);
  removeDirs(work);
}
