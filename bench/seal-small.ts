/**
 * The manifest seal alone, for the bench's two editors (RSA-3072 and Curve25519 keys made by gpg):
 * per sealed ~1 KiB message, the event loop's busy time (what caps note-only tips, since one loop
 * serves every tipster) and the process's CPU (all threads). One at a time and 16 in flight.
 * sealBytes (openpgp.js on the event loop, the baseline) against SealThread, in the same run.
 * Env: SMALL_SEALS (default 2000).
 */
import { performance } from 'node:perf_hooks';
import { loadKeyring } from '../src/crypto/keyring.ts';
import { sealBytes } from '../src/crypto/seal.ts';
import { SealThread } from '../src/crypto/seal-thread.ts';
import { disposeEditors, makeEditors, removeDirs, report, tempDir } from './lib.ts';

const N = Number(process.env.SMALL_SEALS ?? 2000);
const work = tempDir('buzon-bench-small-');
const ed = makeEditors(work);
const keyring = await loadKeyring(ed.keysDir);
const thread = new SealThread(keyring.keys);
try {
  const data = new TextEncoder().encode(JSON.stringify({ note: 'x'.repeat(900) }));
  const onLoop = () => sealBytes(data, keyring.keys, 'manifest.json');
  const threaded = () => thread.seal(data, 'manifest.json');
  const measure = async (name: string, f: () => Promise<Uint8Array>, inFlight: number) => {
    for (let i = 0; i < 50; i++) await f();
    const elu0 = performance.eventLoopUtilization();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => { while (next++ < N) await f(); }));
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const loop = performance.eventLoopUtilization(elu0);
    const loopUs = (loop.active * 1000) / N;
    console.log(`${name.padEnd(10)} ${String(inFlight).padStart(2)} in flight: event loop ${loopUs.toFixed(0)} µs, CPU ${((c.user + c.system) / N).toFixed(0)} µs, wall ${(wall * 1000 / N).toFixed(0)} µs per seal; ${(N / wall * 1000).toFixed(0)}/s`);
    return loopUs;
  };
  for (const inFlight of [1, 16]) {
    const base = await measure('sealBytes', onLoop, inFlight);
    const ours = await measure('thread', threaded, inFlight);
    report(`manifest seal, event loop per seal, ${inFlight} in flight`, `thread ${ours.toFixed(0)} µs`, `sealBytes on the loop ${base.toFixed(0)} µs`, 'less loop time per note tip');
  }
} finally {
  await thread.close();
  disposeEditors(ed);
  removeDirs(work);
}
