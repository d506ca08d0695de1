import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ffmpeg, workdir } from '../sanitize/media-fixtures.ts';
import { EarlySeal, earlyCounts } from '../../src/intake/early-seal.ts';
import type { TipStore } from '../../src/intake/store-tip.ts';
import type { GpgSealer } from '../../src/crypto/seal-gpg.ts';
import { FsVault } from '../../src/vault/fs-vault.ts';
import type { Vault } from '../../src/vault/vault.ts';

// A tip refused (or cut) while its early remux waits for the vault to make its draft: the request's
// cleanup (dispose) runs before the draft exists, so it has nothing to remove. The draft made just
// after is the early seal's own to drop; left behind, it is a folder in the vault that no tip owns
// until the next start sweeps it (review, session 7). Nor may ffmpeg start for a tip already gone.

const w = workdir();
after(() => w.remove());

test('disposed while the vault makes its draft: the draft made afterwards is dropped, and no ffmpeg starts', async () => {
  const src = w.file('fast.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-movflags', '+faststart', src);
  const root = join(w.dir, 'vault');
  mkdirSync(root);
  const vault = await new FsVault(root).init();
  // The vault's begin() is held until the seal has been disposed.
  let asked!: () => void;
  const beginAsked = new Promise<void>((resolve) => { asked = resolve; });
  let letBegin!: () => void;
  const gate = new Promise<void>((resolve) => { letBegin = resolve; });
  let made = 0;
  const slow = {
    begin: async (tipId: string) => { asked(); await gate; made++; return vault.begin(tipId); },
  } as unknown as Vault;
  const store = { vault: slow, gpg: {} as GpgSealer } as unknown as TipStore;
  const early = new EarlySeal(store, 64 * 1024 * 1024);
  const dest = w.file('fast-up.mp4');
  const tap = early.tap(0, dest)!;
  const started = earlyCounts.started;
  // The upload waits on the plan, so it settles only once prepare() has.
  const uploaded = pipeline(createReadStream(src, { highWaterMark: 16 * 1024 }), tap.stream, createWriteStream(dest));
  await beginAsked;
  await early.dispose();
  letBegin();
  await uploaded;
  tap.end();
  assert.equal(made, 1, 'the draft was made after dispose()');
  assert.deepEqual(readdirSync(join(root, '.drafts')), [], 'no draft is left in the vault');
  assert.deepEqual(readdirSync(join(root, 'tips')), [], 'nothing was committed');
  assert.equal(earlyCounts.started, started, 'the seal never started');
  assert.equal(spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).status, 1, 'no ffmpeg started');
  assert.equal(await early.adopt({ rawPath: dest, bytes: 0, clientName: 'v.mp4' }, { ext: 'mp4', mime: 'video/mp4' }), undefined);
  assert.ok(readFileSync(dest).equals(readFileSync(src)), 'scratch holds the upload as sent, for the ordinary cleaning');
});
