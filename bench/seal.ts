/**
 * Sealing alone, file to file on tmpfs: openpgp.js as first written ("naive"), src/crypto/seal.ts
 * as it is now, and `gpg -z 0 --encrypt` on the same file, interleaved in the same run.
 * Env: SEAL_MIB (default 1024), BENCH_RUNS (default 3).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { disposeEditors, fmt, gpgEncryptSeconds, makeEditors, MiB, removeDirs, report, runs, stats, tempDir, type Editors } from './lib.ts';

const mib = Number(process.env.SEAL_MIB ?? 1024);
const n = runs(3);
const root = tempDir('buzon-bench-seal-');
const shm = tempDir('buzon-bench-seal-', '/dev/shm');
const input = join(shm, 'in.bin');
const output = join(shm, 'out.pgp');
let ed: Editors | undefined;
try {
  ed = makeEditors(root);
  // Random bytes: incompressible, like video. Written once, then read from page cache by all.
  spawnSync('sh', ['-c', `head -c ${mib * MiB} /dev/urandom > ${input}`]);
  const res: Record<string, { seconds: number[]; cpu: number[]; hwm: number[] }> = {
    naive: { seconds: [], cpu: [], hwm: [] }, seal: { seconds: [], cpu: [], hwm: [] }, gpg: { seconds: [], cpu: [], hwm: [] },
  };
  // One unmeasured gpg run first: on this VM the first write of fresh memory costs ~3 s/GiB.
  gpgEncryptSeconds(ed, input, output);
  for (let i = 0; i < n; i++) {
    for (const variant of ['naive', 'seal'] as const) {
      rmSync(output, { force: true });
      const out = execFileSync('node', ['--import', 'tsx', 'bench/seal-child.ts', variant, ed.keysDir, input, output]).toString();
      const r = JSON.parse(out) as { seconds: number; cpuSeconds: number; hwmMiB: number };
      res[variant]!.seconds.push(r.seconds);
      res[variant]!.cpu.push(r.cpuSeconds);
      res[variant]!.hwm.push(r.hwmMiB);
    }
    rmSync(output, { force: true });
    res.gpg!.seconds.push(gpgEncryptSeconds(ed, input, output));
  }
  const rate = (v: string) => stats(res[v]!.seconds.map((s) => mib / s));
  for (const v of ['naive', 'seal', 'gpg']) {
    console.log(`${v.padEnd(6)} MiB/s ${fmt(rate(v), 0)}` + (v === 'gpg' ? '' : `; CPU s ${fmt(stats(res[v]!.cpu), 2)}; VmHWM MiB ${fmt(stats(res[v]!.hwm), 0)}`));
  }
  const ratio = (v: string) => stats(res[v]!.seconds.map((s, i) => res.gpg!.seconds[i]! / s));
  report(`seal ${mib} MiB, openpgp.js naive`, `${rate('naive').median.toFixed(0)} MiB/s, ${ratio('naive').median.toFixed(2)}× gpg, peak ${stats(res.naive!.hwm).max.toFixed(0)} MiB`,
    `gpg ${rate('gpg').median.toFixed(0)} MiB/s`, '≥0.5× gpg');
  report(`seal ${mib} MiB, src/crypto/seal.ts`, `${rate('seal').median.toFixed(0)} MiB/s, ${ratio('seal').median.toFixed(2)}× gpg (min ${ratio('seal').min.toFixed(2)}, max ${ratio('seal').max.toFixed(2)}), peak ${stats(res.seal!.hwm).max.toFixed(0)} MiB`,
    `gpg ${rate('gpg').median.toFixed(0)} MiB/s`, '≥0.5× gpg, <256 MiB');
} finally {
  disposeEditors(ed);
  removeDirs(shm, root);
}
