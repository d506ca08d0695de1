/**
 * Where a note-only tip's time goes, span by span, in one process with no HTTP: sealing the manifest
 * (openpgp.js, to the bench editors: RSA-3072 and Curve25519, each alone and both), and the vault's
 * begin → put → commit with each fsync timed. Sequential (one tip at a time) and with `CONC` tips in
 * flight, as autocannon's connections would have them. Not a figure of BENCHMARKS.md's table: a profile.
 * Env: NOTE_PATH_N (default 300), NOTE_PATH_CONC (default 16), VAULT_DIR (default: under the OS tmpdir).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as openpgp from 'openpgp';
import { sealBytes } from '../src/crypto/seal.ts';
import { FsVault } from '../src/vault/fs-vault.ts';
import { newTipId } from '../src/intake/receipt.ts';
import { disposeEditors, makeEditors, removeDirs, stats, fmt, tempDir } from './lib.ts';

const N = Number(process.env.NOTE_PATH_N ?? 300);
const CONC = Number(process.env.NOTE_PATH_CONC ?? 16);
const work = tempDir('buzon-bench-notepath-', process.env.VAULT_DIR);
const ed = makeEditors(work);
const files = readdirSync(ed.keysDir).sort();
const keys = await Promise.all(files.map((f) => openpgp.readKey({ armoredKey: readFileSync(join(ed.keysDir, f), 'utf8') })));
const manifest = new TextEncoder().encode(JSON.stringify({ version: 1, note: 'La camioneta blanca pasa cada martes.', links: ['https://example.org/a'] }, null, 2));

async function timeIt(label: string, f: () => Promise<unknown>, n = N): Promise<void> {
  for (let i = 0; i < 20; i++) await f();
  const ms: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await f();
    ms.push(performance.now() - s);
  }
  const total = performance.now() - t0;
  console.log(`${label.padEnd(44)} ms ${fmt(stats(ms), 2)}  → ${(n / (total / 1000)).toFixed(0)}/s`);
}

try {
  await timeIt('sealBytes, RSA-3072 only', () => sealBytes(manifest, [keys[0]!], 'manifest.json'));
  await timeIt('sealBytes, Curve25519 only', () => sealBytes(manifest, [keys[1]!], 'manifest.json'));
  await timeIt('sealBytes, both editors', () => sealBytes(manifest, keys, 'manifest.json'));
  const sealed = await sealBytes(manifest, keys, 'manifest.json');
  const vault = await new FsVault(join(work, 'vault')).init();
  const one = async () => {
    const d = await vault.begin(newTipId());
    await d.put('manifest.json.pgp', Readable.from([sealed]));
    await d.commit();
  };
  await timeIt('vault begin+put+commit, one at a time', one);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next++ < N) await one();
  }));
  console.log(`vault begin+put+commit, ${CONC} in flight`.padEnd(44) + ` → ${(N / ((performance.now() - t0) / 1000)).toFixed(0)}/s`);
  const t1 = performance.now();
  next = 0;
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next++ < N) {
      await sealBytes(manifest, keys, 'manifest.json');
      await one();
    }
  }));
  console.log(`seal + vault, ${CONC} in flight`.padEnd(44) + ` → ${(N / ((performance.now() - t1) / 1000)).toFixed(0)}/s`);
} finally {
  disposeEditors(ed);
  removeDirs(work);
}
