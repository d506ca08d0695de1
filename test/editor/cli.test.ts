import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import * as openpgp from 'openpgp';
import sharp from 'sharp';
import { startService, type TestService } from '../support/service.ts';
import { gpg, makeEditor, type GpgEditor } from '../support/gpg.ts';
import { dirtyJpeg } from '../support/fixtures.ts';
import { waitForInbox } from '../support/wait.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

let svc: TestService;
let editor: GpgEditor;
const work = tempDir('buzon-cli-');

function cli(args: string[], input?: string) {
  return spawnSync('npx', ['tsx', 'src/editor/cli.ts', ...args], { encoding: 'utf8', input, timeout: 60_000 });
}

before(async () => {
  editor = makeEditor('rsa3072');
  svc = await startService({ editors: [editor.publicKey] });
  writeFileSync(join(work, 'secret.asc'), editor.secretKey);
  writeFileSync(join(work, 'pass.txt'), editor.passphrase + '\n');
  writeFileSync(join(work, 'wrong.txt'), 'not the passphrase\n');
  const photo = await dirtyJpeg(work);
  await request(svc.intake.app)
    .post('/tips')
    .set('Accept', 'application/json')
    .field('note', 'Nota para la redacción\nsegunda línea')
    .field('links', 'https://example.org/uno\nhttps://example.org/dos')
    .attach('files', photo)
    .expect(201);
  await waitForInbox(svc.config.INBOX_DIR);
});
after(async () => {
  await svc.stop();
  removeDirs(work, editor.home);
});

test('the editor CLI writes each delivered tip as a readable folder: note, links and the cleaned photo', async () => {
  const out = join(work, 'out');
  const r = cli(['decrypt', '--key', join(work, 'secret.asc'), '--inbox', svc.config.INBOX_DIR, '--out', out, '--passphrase-file', join(work, 'pass.txt')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /opened 1 tip/);
  const [tip] = readdirSync(out);
  const dir = join(out, tip!);
  assert.deepEqual(readdirSync(dir).sort(), ['links.txt', 'manifest.json', 'note.txt', 'photo-1.jpg']);
  assert.equal(readFileSync(join(dir, 'note.txt'), 'utf8'), 'Nota para la redacción\nsegunda línea\n');
  assert.equal(readFileSync(join(dir, 'links.txt'), 'utf8'), 'https://example.org/uno\nhttps://example.org/dos\n');
  const meta = await sharp(join(dir, 'photo-1.jpg')).metadata();
  assert.equal(meta.width, 64);
  assert.equal(meta.exif, undefined);

  const again = cli(['decrypt', '--key', join(work, 'secret.asc'), '--inbox', svc.config.INBOX_DIR, '--out', out, '--passphrase-file', join(work, 'pass.txt')]);
  assert.match(again.stdout, /opened 0 tip\(s\).*1 already open/);
});

test('the passphrase can be piped in on standard input', () => {
  const out = join(work, 'out-stdin');
  const r = cli(['decrypt', '--key', join(work, 'secret.asc'), '--inbox', svc.config.INBOX_DIR, '--out', out], editor.passphrase + '\n');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readdirSync(out).length, 1);
});

test('a wrong passphrase gets a clear error and writes nothing', () => {
  const out = join(work, 'out-wrong');
  const r = cli(['decrypt', '--key', join(work, 'secret.asc'), '--inbox', svc.config.INBOX_DIR, '--out', out, '--passphrase-file', join(work, 'wrong.txt')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^buzon editor: wrong passphrase for this key$/m);
});

test('another editor\'s key gets a clear error naming the tip it cannot open', (t) => {
  const other = makeEditor('cv25519');
  t.after(() => removeDirs(other.home));
  writeFileSync(join(work, 'other.asc'), other.secretKey);
  writeFileSync(join(work, 'other-pass.txt'), other.passphrase);
  const out = join(work, 'out-other');
  const r = cli(['decrypt', '--key', join(work, 'other.asc'), '--inbox', svc.config.INBOX_DIR, '--out', out, '--passphrase-file', join(work, 'other-pass.txt')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^buzon editor: this key cannot open tip [a-f0-9]{32} \(it was sealed to other editors, or to a subkey this key file does not hold, or the key is wrong\)$/m);
  assert.deepEqual(readdirSync(out), []);
});

test('a public key given as --key gets a clear error', () => {
  writeFileSync(join(work, 'public.asc'), editor.publicKey);
  const r = cli(['decrypt', '--key', join(work, 'public.asc'), '--inbox', svc.config.INBOX_DIR, '--passphrase-file', join(work, 'pass.txt')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not an armored OpenPGP secret key/);
});

test('no command prints the usage', () => {
  const r = cli([]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: npm run editor -- decrypt --key/);
});

/** A test inbox holding copies of the service's delivered tips, plus whatever the test adds. */
function inboxCopy(name: string): { dir: string; tip: string } {
  const dir = join(work, name);
  cpSync(svc.config.INBOX_DIR, dir, { recursive: true });
  const tip = readdirSync(dir).find((n) => /^[a-f0-9]{32}$/.test(n))!;
  return { dir, tip };
}

test("tips sealed before this editor's key was added are named and left; this key's tips are still opened", (t) => {
  const other = makeEditor('cv25519');
  t.after(() => removeDirs(other.home));
  const { dir, tip } = inboxCopy('inbox-mixed');
  // Sorted first, as an older tip would be: the CLI used to stop at it and open nothing.
  const older = '0'.repeat(32);
  mkdirSync(join(dir, older));
  writeFileSync(join(dir, older, 'manifest.json.pgp'), gpg(other.home, ['--encrypt', '--recipient', other.email, '--trust-model', 'always'], '{"version":1,"note":"old","links":[],"files":[]}'));
  const out = join(work, 'out-mixed');
  const r = cli(['decrypt', '--key', join(work, 'secret.asc'), '--inbox', dir, '--out', out, '--passphrase-file', join(work, 'pass.txt')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /opened 1 tip/);
  assert.match(r.stderr, new RegExp(`this key cannot open 1 tip\\(s\\)[^]*${older}`));
  assert.deepEqual(readdirSync(out), [tip]);
});

/** The CLI run on a copy of the inbox whose tip has `file` cut `bytes` short. */
function runWithCut(name: string, file: string, bytes: number) {
  const { dir, tip } = inboxCopy(`inbox-${name}`);
  const sealed = join(dir, tip, file);
  const whole = readFileSync(sealed);
  writeFileSync(sealed, whole.subarray(0, whole.length - bytes));
  const out = join(work, `out-${name}`);
  const r = cli(['decrypt', '--key', join(work, 'secret.asc'), '--inbox', dir, '--out', out, '--passphrase-file', join(work, 'pass.txt')]);
  return { r, tip, out };
}

test('a tip that fails part way (a sealed file cut short) leaves nothing of it behind, and says which tip and file', () => {
  const { r, tip, out } = runWithCut('cut', 'file-1.pgp', 40);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`tip ${tip}: file-1\\.pgp could not be opened`));
  // Neither the tip nor its note, which would have sat in a .partial folder nobody looks at.
  assert.deepEqual(readdirSync(out), []);
});

test("a tip this key should open but cannot (its manifest damaged) is reported as damaged, never passed off as another editor's", () => {
  // The recipients' packets stay readable; the encrypted data after them is cut short.
  const { r, tip, out } = runWithCut('damaged', 'manifest.json.pgp', 60);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`tip ${tip}: its manifest could not be opened .*damaged or incomplete`));
  assert.doesNotMatch(r.stderr, /other editors/);
  assert.deepEqual(readdirSync(out), []);
});

test('what an interrupted run left half written (a .partial folder with its note) is removed by the next run', () => {
  const { tip } = inboxCopy('inbox-interrupted');
  const out = join(work, 'out-interrupted');
  mkdirSync(join(out, `${tip}.partial`), { recursive: true });
  writeFileSync(join(out, `${tip}.partial`, 'note.txt'), 'half written\n');
  const other = `${'f'.repeat(32)}.partial`;
  mkdirSync(join(out, other));
  const r = cli(['decrypt', '--key', join(work, 'secret.asc'), '--inbox', join(work, 'inbox-interrupted'), '--out', out, '--passphrase-file', join(work, 'pass.txt')]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(out), [tip]);
});

test('a damaged tip is named and skipped: the tips after it are still opened', () => {
  const { dir, tip } = inboxCopy('inbox-one-damaged');
  // A copy of the tip, sorted first, with its file cut short.
  const first = '0'.repeat(32);
  cpSync(join(dir, tip), join(dir, first), { recursive: true });
  const sealed = join(dir, first, 'file-1.pgp');
  writeFileSync(sealed, readFileSync(sealed).subarray(0, 100));
  const out = join(work, 'out-one-damaged');
  const r = cli(['decrypt', '--key', join(work, 'secret.asc'), '--inbox', dir, '--out', out, '--passphrase-file', join(work, 'pass.txt')]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, new RegExp(`opened 1 tip[^]*${tip}`));
  assert.match(r.stderr, new RegExp(`1 tip\\(s\\) sealed to this key could not be opened[^]*tip ${first}: file-1\\.pgp`));
  assert.deepEqual(readdirSync(out), [tip]);
});

test("a manifest cut at a packet's end, after another editor's recipient packet and before ours, is damaged, not another editor's", async (t) => {
  const other = makeEditor('cv25519');
  t.after(() => removeDirs(other.home));
  const { dir, tip } = inboxCopy('inbox-boundary');
  const path = join(dir, tip, 'manifest.json.pgp');
  // A message to two editors, the other one first, cut before ours: only the other's packet is left.
  const sealed = gpg(other.home, ['--encrypt', '--recipient', other.email, '--trust-model', 'always'], '{}');
  const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(sealed) });
  writeFileSync(path, message.packets.filterByTag(openpgp.enums.packet.publicKeyEncryptedSessionKey).write());
  const out = join(work, 'out-boundary');
  const r = cli(['decrypt', '--key', join(work, 'secret.asc'), '--inbox', dir, '--out', out, '--passphrase-file', join(work, 'pass.txt')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`tip ${tip}: its manifest could not be opened`));
  assert.doesNotMatch(r.stderr, /cannot open 1 tip/);
});

test("a key file whose encryption subkey is only a stub (a smartcard's) names the tip as not this file's, not as damaged", async () => {
  const key = await openpgp.decryptKey({ privateKey: await openpgp.readPrivateKey({ armoredKey: editor.secretKey }), passphrase: editor.passphrase });
  for (const sub of key.subkeys) (sub.keyPacket as openpgp.SecretSubkeyPacket).makeDummy();
  writeFileSync(join(work, 'stub.asc'), key.armor());
  const out = join(work, 'out-stub');
  const r = cli(['decrypt', '--key', join(work, 'stub.asc'), '--inbox', svc.config.INBOX_DIR, '--out', out, '--passphrase-file', join(work, 'pass.txt')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /this key cannot open tip [a-f0-9]{32} \(.*a subkey this key file does not hold/);
  assert.doesNotMatch(r.stderr, /damaged/);
});

test('npm run editor (scripts/editor.mjs) passes the arguments and the exit code through', () => {
  const usage = spawnSync(process.execPath, ['scripts/editor.mjs'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /usage: npm run editor -- decrypt --key/);
  const out = join(work, 'out-wrapper');
  const r = spawnSync(process.execPath, ['scripts/editor.mjs', 'decrypt', '--key', join(work, 'secret.asc'), '--inbox', svc.config.INBOX_DIR, '--out', out, '--passphrase-file', join(work, 'pass.txt')], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readdirSync(out).length, 1);
});
