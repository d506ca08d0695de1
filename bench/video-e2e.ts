/**
 * Figure (a): one MP4 tip end to end, upload → clean (ffmpeg remux) → seal → vault → delivered in the
 * inbox, against `gpg -z 0 --encrypt` of the same file in the same run; and the peak RSS of every
 * node process of the service, which is started fresh for each size so each peak is that size's.
 * Env: VIDEO_SIZES_MIB (default "100,1024,2048"), BENCH_RUNS (default 3), VIDEO_SETTLE_SECONDS (below),
 * VIDEO_CODEC (h264, the default, or hevc: the iPhone's codec, whose output moov passes through the
 * intake to be cleaned, video-stream.ts), VIDEO_MOOV (the layouts to measure, "first,last" by default:
 * first is a fast-start MP4 as messengers and the web send, remuxed while it uploads, video-early.ts;
 * last is what a phone's camera and ffmpeg write by default, remuxed once the upload is whole).
 */
import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { curlTip, delivered, makeNoisyClip, disposeEditors, fmt, gpgEncryptSeconds, makeEditors, MiB, removeDirs, report, runs, startService, stats, tempDir, waitDelivered } from './lib.ts';

const sizes = (process.env.VIDEO_SIZES_MIB ?? '100,1024,2048').split(',').map(Number);
const n = runs(3);
const work = tempDir('buzon-bench-video-');

const codec = process.env.VIDEO_CODEC ?? 'h264';
const layouts = (process.env.VIDEO_MOOV ?? 'first,last').split(',');
if (layouts.some((m) => m !== 'first' && m !== 'last')) throw new Error('VIDEO_MOOV is first, last, or both: first,last');

/** The noisy clip, looped with -c copy to about `mib` MiB, with its moov first or last. */
function makeMp4(mib: number, moov: string): string {
  const base = join(work, 'base.mp4');
  try { statSync(base); } catch { makeNoisyClip(base, codec, 'first'); }
  const loops = Math.max(0, Math.round((mib * MiB) / statSync(base).size) - 1);
  const out = join(work, `video-${mib}-${moov}.mp4`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-stream_loop', String(loops), '-i', base, '-c', 'copy',
    ...(moov === 'first' ? ['-movflags', '+faststart'] : []), out]);
  return out;
}

/**
 * VIDEO_SETTLE_SECONDS (default 0): a pause before each timed run, ours and gpg's. On this VM, memory
 * freed less than ~2 s ago is fast to write again, and memory freed earlier has been handed back to
 * the host and is slow to touch (~2 s/GiB more: BENCHMARKS.md, round 6). Back to back, gpg reuses
 * the memory our run has just freed, while our run needs twice as much (scratch, then the sealed
 * copy). A pause gives both sides the same start: the state of a server whose last tip came a while
 * ago. Both ways are reported.
 */
const settleMs = Number(process.env.VIDEO_SETTLE_SECONDS ?? 0) * 1000;
const settle = () => (settleMs > 0 ? sleep(settleMs) : Promise.resolve());

const ed = makeEditors(work);
try {
  for (const mib of sizes) for (const moov of layouts) {
    const file = makeMp4(mib, moov);
    const real = statSync(file).size / MiB;
    const svc = await startService(ed);
    try {
      const e2e: number[] = [];
      const acked: number[] = [];
      const gpg: number[] = [];
      gpgEncryptSeconds(ed, file, join(work, 'gpg.pgp')); // warm: page cache, first-touch memory
      for (let i = 0; i < n; i++) {
        // gpg's output is left in the page cache, unwritten: flushed here, outside both timings, so
        // its writeback does not land on our run (it made a 2 GiB run look 2× slower).
        rmSync(join(work, 'gpg.pgp'), { force: true });
        execFileSync('sync');
        await settle();
        const before = delivered(svc.inbox).length;
        const t0 = performance.now();
        const r = await curlTip(svc.url, { note: 'bench' }, file);
        if (r.code !== 201) throw new Error(`upload answered ${r.code}`);
        acked.push(r.seconds);
        await waitDelivered(svc.inbox, before + 1, 600_000);
        e2e.push((performance.now() - t0) / 1000);
        for (const t of delivered(svc.inbox)) rmSync(join(svc.inbox, t), { recursive: true, force: true });
        execFileSync('sync');
        await settle();
        gpg.push(gpgEncryptSeconds(ed, file, join(work, 'gpg.pgp')));
      }
      const peaks = svc.peaks();
      const rate = stats(e2e.map((s) => real / s));
      const gpgRate = stats(gpg.map((s) => real / s));
      const ratio = stats(e2e.map((s, i) => gpg[i]! / s));
      console.log(`${real.toFixed(0)} MiB ${codec} MP4, moov ${moov}: end to end MiB/s ${fmt(rate, 0)}; acknowledged after s ${fmt(stats(acked), 2)}; ` +
        `gpg MiB/s ${fmt(gpgRate, 0)}; ratio ${fmt(ratio, 2)}`);
      console.log(`  peak RSS MiB: ${peaks.all.map((p) => `${p.role}:${p.pid}=${p.hwmMiB.toFixed(0)}`).join(' ')}`);
      report(`MP4 ${codec === 'hevc' ? '(HEVC) ' : ''}moov ${moov} ${real.toFixed(0)} MiB end to end${settleMs > 0 ? `, ${settleMs / 1000} s settle` : ''}`, `${rate.median.toFixed(0)} MiB/s = ${ratio.median.toFixed(2)}× gpg (min ${ratio.min.toFixed(2)}, max ${ratio.max.toFixed(2)})`,
        `gpg -z 0 ${gpgRate.median.toFixed(0)} MiB/s`, '≥0.5× gpg');
      report(`MP4 moov ${moov} ${real.toFixed(0)} MiB peak RSS`, `intake ${peaks.intake.toFixed(0)} MiB, worker ${peaks.worker.toFixed(0)} MiB`, '-', '<256 MiB, flat');
    } finally {
      await svc.stop();
      rmSync(file, { force: true });
    }
  }
} finally {
  disposeEditors(ed);
  removeDirs(work);
}
