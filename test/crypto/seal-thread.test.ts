import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { SealThread } from '../../src/crypto/seal-thread.ts';
import { dayOf, sealBytes } from '../../src/crypto/seal.ts';
import { gpg, gpgDecrypt, makeEditor, type GpgEditor } from '../support/gpg.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

let rsa: GpgEditor;
let cv: GpgEditor;
let keys: openpgp.PublicKey[];
const work = tempDir('buzon-seal-thread-');

before(async () => {
  [rsa, cv] = [makeEditor('rsa3072'), makeEditor('cv25519')];
  keys = await Promise.all([rsa, cv].map((e) => openpgp.readKey({ armoredKey: e.publicKey })));
});
after(() => removeDirs(work, rsa?.home, cv?.home));

/** gpg's packet listing with the parts that differ per message (key material, lengths of random data) cut out. */
function shape(editor: GpgEditor, file: string): string[] {
  const out = gpg(editor.home, ['--passphrase', editor.passphrase, '--list-packets', file]).toString();
  return out.split('\n').filter((l) => /^(:|\s+(created|mdc_method|length|raw data))/.test(l)).map((l) => l.replace(/keyid [0-9A-F]+/, 'keyid K').trim());
}

test('a manifest sealed on the thread opens for every editor with gpg, and has the same packets as one sealed on the event loop', async () => {
  const thread = new SealThread(keys);
  try {
    const data = new TextEncoder().encode(JSON.stringify({ note: `La camioneta blanca ${randomBytes(8).toString('hex')}` }));
    const [onThread, onLoop] = [join(work, 'thread.pgp'), join(work, 'loop.pgp')];
    writeFileSync(onThread, await thread.seal(data, 'manifest.json'));
    writeFileSync(onLoop, await sealBytes(data, keys, 'manifest.json'));
    for (const editor of [rsa, cv]) assert.ok(gpgDecrypt(editor, onThread).equals(Buffer.from(data)), `${editor.email} opens it`);
    assert.deepEqual(shape(cv, onThread), shape(cv, onLoop));
    const literal = gpg(cv.home, ['--passphrase', cv.passphrase, '--list-packets', onThread]).toString().match(/created (\d+), name="([^"]*)"/);
    assert.equal(literal?.[2], 'manifest.json');
    assert.equal(Number(literal?.[1]) * 1000, dayOf(new Date()).getTime(), 'the literal packet says the day, not the time');
  } finally {
    await thread.close();
  }
});

test('many seals in flight each get their own message back', async () => {
  const thread = new SealThread(keys);
  try {
    const notes = Array.from({ length: 40 }, (_, i) => new TextEncoder().encode(`note ${i} ${randomBytes(4).toString('hex')}`));
    const sealed = await Promise.all(notes.map((n) => thread.seal(n, 'manifest.json')));
    for (const i of [0, 17, 39]) {
      const file = join(work, `many-${i}.pgp`);
      writeFileSync(file, sealed[i]!);
      assert.ok(gpgDecrypt(rsa, file).equals(Buffer.from(notes[i]!)));
    }
    assert.equal(new Set(sealed.map((s) => Buffer.from(s).toString('hex'))).size, notes.length);
  } finally {
    await thread.close();
  }
});

test('a key that expired since start fails the seal with an error, and the thread stays up for the next one', async (t) => {
  const expired = makeEditor('cv25519', { expire: 'seconds=1' });
  t.after(() => removeDirs(expired.home));
  await new Promise((r) => setTimeout(r, 1500));
  const stale = await openpgp.readKey({ armoredKey: expired.publicKey });
  const thread = new SealThread([keys[0]!, stale]);
  try {
    await assert.rejects(thread.seal(new Uint8Array([1, 2, 3]), 'manifest.json'), /seal failed: .*(expired|no valid|Could not find)/i);
    await assert.rejects(thread.seal(new Uint8Array([4]), 'manifest.json'), /seal failed/, 'answered again: the thread did not die');
  } finally {
    await thread.close();
  }
});

test('if the thread dies, the seals it held fail and the next seal starts a new thread; after close, seals are refused', async () => {
  const thread = new SealThread(keys);
  const held = thread.seal(new Uint8Array(10), 'manifest.json');
  // The thread is private: reach it the way a crash would, by ending it from outside.
  const running = (thread as unknown as { running: { worker: { terminate(): Promise<number> } } }).running;
  await running.worker.terminate();
  await assert.rejects(held, /seal thread exited/);
  const file = join(work, 'respawned.pgp');
  writeFileSync(file, await thread.seal(new Uint8Array([4, 2]), 'manifest.json'));
  assert.deepEqual([...gpgDecrypt(rsa, file)], [4, 2]);
  await thread.close();
  await assert.rejects(thread.seal(new Uint8Array(1), 'manifest.json'), /closed/);
});
