/**
 * seal() re-chunks its input for speed (src/crypto/seal.ts); these check that no byte is lost,
 * doubled or reordered at chunk edges, by opening the result with real gpg and with our editor code.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as openpgp from 'openpgp';
import { seal, SEAL_CHUNK_BYTES } from '../../src/crypto/seal.ts';
import { decryptFile, unlockKey } from '../../src/editor/open-message.ts';
import { readFileSync } from 'node:fs';
import { makeEditor, gpgDecrypt, type GpgEditor } from '../support/gpg.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

let editor: GpgEditor;
let keys: openpgp.PublicKey[];
const dir = tempDir('buzon-seal-');

before(async () => {
  editor = makeEditor('cv25519');
  keys = [await openpgp.readKey({ armoredKey: editor.publicKey })];
});
after(() => removeDirs(dir, editor?.home));

/** Yields `total` bytes in pieces of the given sizes, cycling. */
function source(data: Buffer, pieces: number[]): Readable {
  return Readable.from((function* () {
    let at = 0;
    for (let i = 0; at < data.length; i++) {
      const n = pieces[i % pieces.length]!;
      yield data.subarray(at, at + n);
      at += n;
    }
  })());
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const C = SEAL_CHUNK_BYTES;
const cases: Array<[string, number, number[]]> = [
  ['empty', 0, [1]],
  ['one byte', 1, [1]],
  ['exactly one chunk', C, [C]],
  ['chunk plus one, in odd pieces', C + 1, [7919, 65536, 1]],
  ['several chunks, pieces bigger than a chunk', 3 * C + 12345, [C + 17, 3]],
  ['exact chunks from the source', 4 * C, [C]],
];

for (const [name, size, pieces] of cases) {
  test(`seal keeps every byte: ${name} (${size} bytes)`, async () => {
    const data = randomBytes(size);
    const out = join(dir, `${size}.pgp`);
    await pipeline(await seal(source(data, pieces), keys, 'video-1.mp4'), createWriteStream(out));
    assert.equal(sha(gpgDecrypt(editor, out)), sha(data));
  });
}

test('the editor tool opens a multi-chunk sealed file streaming', async () => {
  const data = randomBytes(2 * C + 999);
  const sealed = join(dir, 'editor.pgp');
  await pipeline(await seal(source(data, [65536]), keys, 'video-1.mp4'), createWriteStream(sealed));
  const key = await unlockKey(editor.secretKey, editor.passphrase);
  const opened = join(dir, 'opened.bin');
  await decryptFile(sealed, key, opened);
  assert.equal(sha(readFileSync(opened)), sha(data));
});
