import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import * as openpgp from 'openpgp';
import { ffmpeg, workdir } from '../sanitize/media-fixtures.ts';
import { gpgDecrypt, makeEditor } from '../support/gpg.ts';
import { removeDirs } from '../support/cleanup.ts';
import { sealSlots } from '../../src/crypto/seal.ts';
import { CleaningFailed } from '../../src/errors.ts';
import { sealStream, type TipStore } from '../../src/intake/store-tip.ts';
import { cleanVideoStream } from '../../src/sanitize/video-stream.ts';
import type { CleanedStream } from '../../src/sanitize/types.ts';
import type { SealedFile, TipDraft } from '../../src/vault/vault.ts';

// openpgp.js (BULK_SEALER=openpgp, or no usable gpg) reads a video only once it has a seal slot. A
// small video's ffmpeg can finish before then, and Node empties a finished child's unread pipe: the
// tip was committed with an empty video (review, session 8). Every slot is held here while the
// video is remuxed, as when other tips' files are being sealed.

const w = workdir();
const editor = makeEditor('cv25519');
after(() => { w.remove(); removeDirs(editor.home); });

/** `onFirstChunk`: called when the vault gets its first sealed bytes (the seal is then reading). */
async function storeFor(onFirstChunk = () => {}): Promise<{ store: TipStore; draft: TipDraft; sealed: () => Buffer }> {
  const keys = [await openpgp.readKey({ armoredKey: editor.publicKey })];
  let out = Buffer.alloc(0);
  const draft = {
    async put(name: string, s: Readable): Promise<SealedFile> {
      const parts: Buffer[] = [];
      for await (const c of s) {
        if (parts.length === 0) onFirstChunk();
        parts.push(c as Buffer);
      }
      out = Buffer.concat(parts);
      return { name, size: out.length };
    },
  } as unknown as TipDraft;
  return { store: { keyring: { keys } } as unknown as TipStore, draft, sealed: () => out };
}

/** Every seal slot taken, as when other tips' files are being sealed; `fn` gets the release. */
async function holdingEverySlot<T>(fn: (release: () => void) => Promise<T>): Promise<T> {
  const held: Array<() => void> = [];
  for (let i = 0; i < sealSlots.size; i++) held.push(await sealSlots.acquire());
  let released = false;
  const release = () => {
    if (!released) held.forEach((r) => r());
    released = true;
  };
  try {
    return await fn(release);
  } finally {
    release();
  }
}

for (const codec of ['libx265', 'libx264']) {
  test(`a small ${codec} video sealed by openpgp.js after a wait for a slot arrives whole`, async () => {
    const src = w.file(`small-${codec}.mp4`);
    ffmpeg('-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=30', '-t', '2', '-c:v', codec, '-preset', 'ultrafast',
      ...(codec === 'libx265' ? ['-tag:v', 'hvc1', '-x265-params', 'log-level=none'] : []), '-movflags', '+faststart', src);
    const { store, draft, sealed } = await storeFor();
    await holdingEverySlot(async (release) => {
      const cleaned = await cleanVideoStream(src, { ext: 'mp4', mime: 'video/mp4' });
      const sealing = sealStream(store, draft, 'file-1.pgp', cleaned, 'video-1.mp4');
      // The seal gets its slot only once ffmpeg has exited and Node has let go of its pipe.
      await cleaned.done;
      release();
      await sealing;
      assert.ok(cleaned.bytes > 10_000);
      const file = w.file(`sealed-${codec}.pgp`);
      writeFileSync(file, sealed());
      assert.equal(gpgDecrypt(editor, file).length, cleaned.bytes, 'every byte of the cleaned video is in the seal');
    });
  });
}

test('a seal that got fewer bytes than the cleaner wrote is refused', async () => {
  const { store, draft } = await storeFor();
  const stream = new PassThrough();
  stream.end(Buffer.alloc(1000));
  const cleaned: CleanedStream = {
    stream, done: Promise.resolve(), kind: 'video', ext: 'mp4', report: { removed: {}, warnings: [] }, bytes: 5000, abort() {},
  };
  await assert.rejects(sealStream(store, draft, 'file-1.pgp', cleaned, 'video-1.mp4'),
    (e: unknown) => e instanceof CleaningFailed && /did not all reach the seal/.test(e.reason));
});

test('a video stopped while openpgp.js seals it fails the seal at once, rather than leaving it waiting for ever', async () => {
  const src = w.file('longer.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25,noise=alls=40:allf=t', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '5',
    '-movflags', '+faststart', src);
  let cleaned: CleanedStream | undefined;
  // Stopped once the seal is under way, as dispose() does when the upload is cut or the early remux is dropped.
  const { store, draft } = await storeFor(() => cleaned?.abort());
  cleaned = await cleanVideoStream(src, { ext: 'mp4', mime: 'video/mp4' });
  const sealing = sealStream(store, draft, 'file-1.pgp', cleaned, 'video-1.mp4');
  const outcome = await Promise.race([
    sealing.then(() => 'sealed', () => 'refused'),
    new Promise((r) => setTimeout(r, 20_000, 'hang').unref()),
  ]);
  assert.equal(outcome, 'refused');
});
