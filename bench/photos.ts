/**
 * Figure (e), from issue 3: cleaned photos per second, our cleaner (sniff + cleanerFor, sharp) against
 * Debian's mat2 on the same files, in the same run, one photo at a time each.
 * The photos are 12 MP phone-sized JPEGs of noise with GPS, make, model and a serial written by exiftool,
 * in two sets, as phones store them: held upright in landscape (no Orientation tag needed, Orientation 1)
 * and held in portrait (Orientation 6: the pixels are stored sideways and must be turned).
 * Env: PHOTOS (default 10, per set), BENCH_RUNS (default 3).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { cleanerFor, sniff } from '../src/sanitize/index.ts';
import { createScratch } from '../src/sanitize/scratch.ts';
import { fmt, removeDirs, report, runs, stats, tempDir } from './lib.ts';

const count = Number(process.env.PHOTOS ?? 10);
const n = runs(3);
const work = tempDir('buzon-bench-photos-');
const shm = tempDir('buzon-bench-photos-', '/dev/shm');
const scratch = createScratch(shm);
try {
  for (const orientation of [1, 6]) await measure(orientation);
} finally {
  removeDirs(work, shm);
}

async function measure(orientation: number): Promise<void> {
  const photos: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(work, `IMG_2022052${i}_134512.jpg`);
    await sharp({ create: { width: 4032, height: 3024, channels: 3, background: { r: 90, g: 120, b: 60 }, noise: { type: 'gaussian', mean: 120, sigma: 40 } } })
      .jpeg({ quality: 90 }).toFile(path);
    execFileSync('exiftool', ['-q', '-overwrite_original', '-GPSLatitude=31.7619', '-GPSLatitudeRef=N', '-GPSLongitude=106.4850',
      '-GPSLongitudeRef=W', '-Make=PLANTEDMAKE', '-Model=PLANTEDMODEL', '-SerialNumber=SERIAL-7731-ZX', `-Orientation#=${orientation}`, path]);
    photos.push(path);
  }
  const ours: number[] = [];
  const mat2: number[] = [];
  for (let run = 0; run < n; run++) {
    let t0 = performance.now();
    for (const p of photos) {
      const s = await sniff(p);
      const cleaned = await cleanerFor(s)(p, s!, scratch);
      rmSync(cleaned.path, { force: true });
    }
    ours.push(count / ((performance.now() - t0) / 1000));
    const copies = photos.map((p, i) => { const c = join(work, `m${i}.jpg`); copyFileSync(p, c); return c; });
    t0 = performance.now();
    for (const c of copies) execFileSync('mat2', ['--inplace', c], { stdio: 'ignore' });
    mat2.push(count / ((performance.now() - t0) / 1000));
  }
  const r = stats(ours);
  const m = stats(mat2);
  const ratio = stats(ours.map((x, i) => x / mat2[i]!));
  const set = orientation === 1 ? 'upright, Orientation 1' : `portrait, Orientation ${orientation}`;
  console.log(`${set}: ours photos/s ${fmt(r, 2)}; mat2 photos/s ${fmt(m, 2)}; ratio ${fmt(ratio, 1)}`);
  report(`cleaned 12 MP JPEGs/s, ${set} (${count} files)`, `${r.median.toFixed(2)}/s = ${ratio.median.toFixed(1)}× mat2 (${ratio.min.toFixed(1)}–${ratio.max.toFixed(1)})`, `mat2 ${m.median.toFixed(2)}/s`, '≥10× mat2');
  for (const p of photos) rmSync(p, { force: true });
}
