import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ffmpeg, workdir } from '../sanitize/media-fixtures.ts';
import { EarlySeal, earlyCounts } from '../../src/intake/early-seal.ts';
import type { TipStore } from '../../src/intake/store-tip.ts';
import type { GpgSealer } from '../../src/crypto/seal-gpg.ts';
import type { TipDraft, Vault } from '../../src/vault/vault.ts';

// The early remux's seal (early-seal.ts) failing before it reads ffmpeg's output, as when the vault
// refuses the sealed file at once (a full disk). In the first design ffmpeg, blocked on a full pipe,
// held the upload and the request for 30 minutes (review, session 7). ffmpeg now reads scratch by
// itself, so it cannot hold the upload; this checks that the tip still answers at once, leaves no
// ffmpeg behind, and hands the ordinary path the upload as sent.

const w = workdir();
after(() => w.remove());

test('a seal that fails before it reads ffmpeg\'s output stops the early remux: no hang, no ffmpeg left, the upload intact for the ordinary path', async () => {
  const src = w.file('fast.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25,noise=alls=40:allf=t', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '5',
    '-movflags', '+faststart', src);
  assert.ok(statSync(src).size > 4 * 1024 * 1024, 'more than a pipe can hold');
  let aborted = 0;
  const draft: TipDraft = {
    put: () => Promise.reject(new Error('disk full')),
    putFromFd: () => Promise.reject(new Error('disk full')),
    putBytes: () => Promise.reject(new Error('disk full')),
    commit: async () => {},
    abort: async () => { aborted++; },
  };
  const store = {
    vault: { begin: async () => draft } as unknown as Vault,
    gpg: {} as GpgSealer,
  } as unknown as TipStore;
  const early = new EarlySeal(store, 64 * 1024 * 1024);
  const dest = w.file('fast-up.mp4');
  const tap = early.tap(0, dest)!;
  const started = earlyCounts.started;
  await pipeline(createReadStream(src, { highWaterMark: 64 * 1024 }), tap.stream, createWriteStream(dest));
  tap.end();
  assert.equal(earlyCounts.started, started + 1, 'the remux had started');
  const adopted = await Promise.race([early.adopt({ rawPath: dest, bytes: 0, clientName: 'v.mp4' }, { ext: 'mp4', mime: 'video/mp4' }), sleep(20_000, 'hang', { ref: false })]);
  assert.equal(adopted, undefined, 'not kept, and no hang');
  assert.equal(aborted, 1, 'the draft is dropped');
  for (let i = 0; i < 50 && spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).status !== 1; i++) await sleep(100);
  assert.equal(spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).status, 1, 'no ffmpeg left');
  assert.ok(readFileSync(dest).equals(readFileSync(src)), 'scratch holds the upload as sent');
});
