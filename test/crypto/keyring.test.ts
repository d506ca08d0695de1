import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { Config } from '../../src/config.ts';
import { ensureDemoKey } from '../../src/crypto/demo-key.ts';
import { loadKeyring, KeyringError } from '../../src/crypto/keyring.ts';
import { loadEditors, warnExpiring } from '../../src/intake/intake.ts';
import { createLog } from '../../src/log.ts';
import { gpg, makeEditor, writeKey } from '../support/gpg.ts';
import { gpgHome, removeDirs, tempDir } from '../support/cleanup.ts';

// The folders and gpg homes of this file's tests, removed (gpg-agents stopped) once they are done.
const root = tempDir('buzon-keys-');
const homes: string[] = [];
after(() => removeDirs(root, ...homes));

function keysDir(): string {
  return mkdtempSync(join(root, 'keys-'));
}

function tempHome(): string {
  const home = gpgHome();
  homes.push(home);
  return home;
}

function tempEditor(algo: 'rsa3072' | 'cv25519') {
  const editor = makeEditor(algo);
  homes.push(editor.home);
  return editor;
}

test('a keys folder with a secret key is refused, naming the file', async () => {
  const dir = keysDir();
  writeKey(dir, 'ana.asc', tempEditor('cv25519').secretKey);
  await assert.rejects(loadKeyring(dir), (e: Error) => e instanceof KeyringError && /ana\.asc: holds a secret key/.test(e.message));
});

test('an expired key is refused, naming the file and the date', async () => {
  const home = tempHome();
  gpg(home, ['--faked-system-time', '20200101T000000', '--passphrase', '', '--quick-gen-key', 'old@example.org', 'ed25519', 'sign,cert', '1d']);
  const fpr = gpg(home, ['--with-colons', '--list-keys']).toString().split('\n').find((l) => l.startsWith('fpr'))!.split(':')[9]!;
  gpg(home, ['--faked-system-time', '20200101T000000', '--passphrase', '', '--quick-add-key', fpr, 'cv25519', 'encr', '1d']);
  const dir = keysDir();
  writeKey(dir, 'old.asc', gpg(home, ['--armor', '--export']).toString());
  await assert.rejects(loadKeyring(dir), (e: Error) => /old\.asc: the key expired on 2020-01-02/.test(e.message));
});

test('a signing-only key is refused: no editor could ever decrypt', async () => {
  const home = tempHome();
  gpg(home, ['--passphrase', '', '--quick-gen-key', 'signer@example.org', 'ed25519', 'sign', '0']);
  const dir = keysDir();
  writeKey(dir, 'signer.asc', gpg(home, ['--armor', '--export']).toString());
  await assert.rejects(loadKeyring(dir), (e: Error) => /signer\.asc: the key has no valid encryption subkey/.test(e.message));
});

test('a revoked key is refused', async () => {
  const home = tempHome();
  gpg(home, ['--passphrase', '', '--quick-gen-key', 'gone@example.org', 'rsa2048', 'default', '0']);
  const rev = readdirSync(join(home, 'openpgp-revocs.d'))[0]!;
  const cert = execFileSync('sed', ['s/^:-----/-----/', join(home, 'openpgp-revocs.d', rev)]);
  gpg(home, ['--import'], cert);
  const dir = keysDir();
  writeKey(dir, 'gone.asc', gpg(home, ['--armor', '--export']).toString());
  await assert.rejects(loadKeyring(dir), (e: Error) => /gone\.asc: the key is revoked/.test(e.message));
});

test('an empty keys folder is refused when there is no demo key', async () => {
  await assert.rejects(loadKeyring(keysDir()), (e: Error) => /no editor key \(\*\.asc\) found/.test(e.message));
});

test('garbage in a .asc file is refused, naming the file', async () => {
  const dir = keysDir();
  writeKey(dir, 'junk.asc', 'hello');
  await assert.rejects(loadKeyring(dir), (e: Error) => /junk\.asc: not an armored OpenPGP public key/.test(e.message));
});

test('RSA and Curve25519 keys made by gpg are accepted and fingerprints reported', async () => {
  const dir = keysDir();
  const a = tempEditor('rsa3072');
  const b = tempEditor('cv25519');
  writeKey(dir, 'a.asc', a.publicKey);
  writeKey(dir, 'b.asc', b.publicKey);
  const ring = await loadKeyring(dir);
  assert.equal(ring.editors.length, 2);
  assert.equal(ring.demo, false);
  for (const e of ring.editors) assert.match(e.fingerprint, /^[0-9A-F]{40}$/);
});

function startIntake(env: Record<string, string>): { code: number | null; stderr: string } {
  const scratch = tempDir('buzon-test-', '/dev/shm');
  try {
    const r = spawnSync('npx', ['tsx', 'src/intake/main.ts'], {
      env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', PORT: '0', SCRATCH_DIR: scratch, ...env },
      timeout: 60_000,
      encoding: 'utf8',
    });
    return { code: r.status, stderr: r.stderr };
  } finally {
    removeDirs(scratch);
  }
}

test('the intake will not start with a secret key in KEYS_DIR: one line, the file, the reason, non-zero exit', () => {
  const dir = keysDir();
  writeKey(dir, 'leaked.asc', tempEditor('cv25519').secretKey);
  const r = startIntake({ KEYS_DIR: dir });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^buzon intake: leaked\.asc: holds a secret key/m);
});

test('a bad setting stops the start with a line naming the variable', () => {
  const r = startIntake({ PORT: 'eighty', KEYS_DIR: keysDir() });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^buzon intake: PORT: /m);
});

test('a first start with an empty keys folder makes a demo key outside it; production refuses it', () => {
  const demo = mkdtempSync(join(root, 'demo-'));
  const keys = join(demo, 'keys');
  mkdirSync(keys);
  const r = startIntake({ KEYS_DIR: keys, DEMO_KEY_DIR: join(demo, 'demo'), NODE_ENV: 'production' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no editor key/);
  assert.equal(existsSync(join(demo, 'demo')), false);
});

/** loadEditors() as the intake's start calls it, with its log lines kept. */
async function loadForStart(keys: string, demoDir: string): Promise<{ ring: Awaited<ReturnType<typeof loadEditors>>; logs: string; log: Logger; sink: string[] }> {
  const sink: string[] = [];
  const log = createLog('info', 'intake', new Writable({ write(c: Buffer, _e, cb) { sink.push(c.toString()); cb(); } }));
  const config = { NODE_ENV: 'test', KEYS_DIR: keys, DEMO_KEY_DIR: demoDir } as Config;
  const ring = await loadEditors(config, log);
  return { ring, logs: sink.join(''), log, sink };
}

test('an editor key whose encryption subkey expires within 30 days is named at start with its date, and again by the daily check', async () => {
  const home = tempHome();
  gpg(home, ['--passphrase', '', '--quick-gen-key', 'soon@example.org', 'ed25519', 'sign', '0']);
  const fpr = gpg(home, ['--with-colons', '--list-keys']).toString().split('\n').find((l) => l.startsWith('fpr'))!.split(':')[9]!;
  gpg(home, ['--passphrase', '', '--quick-add-key', fpr, 'cv25519', 'encr', '10d']);
  const dir = keysDir();
  writeKey(dir, 'soon.asc', gpg(home, ['--armor', '--export']).toString());
  writeKey(dir, 'later.asc', tempEditor('cv25519').publicKey);
  const { ring, logs, log, sink } = await loadForStart(dir, join(dir, 'no-demo'));
  const soon = ring.editors.find((e) => e.file === 'soon.asc')!;
  // The subkey's date, not the primary key's (which never expires): tips are sealed to the subkey.
  const days = (soon.expires!.getTime() - Date.now()) / 86_400_000;
  assert.ok(days > 9 && days <= 10, `expires in ${days} days`);
  assert.equal(ring.editors.find((e) => e.file === 'later.asc')!.expires, undefined);
  const warnings = logs.split('\n').filter((l) => l.includes('expires soon'));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /"file":"soon\.asc"/);
  assert.ok(warnings[0]!.includes(`"expires":"${soon.expires!.toISOString().slice(0, 10)}"`));
  // The daily check of a service that runs for months: quiet until 30 days before, then loud.
  sink.length = 0;
  warnExpiring(ring, log, soon.expires!.getTime() - 31 * 86_400_000);
  assert.equal(sink.length, 0);
  warnExpiring(ring, log, soon.expires!.getTime() - 29 * 86_400_000);
  assert.match(sink.join(''), /soon\.asc.*expires soon/);
  // A service still running once the day has come says what is happening now.
  sink.length = 0;
  warnExpiring(ring, log, soon.expires!.getTime() + 1000);
  assert.match(sink.join(''), /"level":50.*soon\.asc.*has expired: every tip is refused/);
});

test("the demo key left in KEYS_DIR beside an editor's key refuses the start, naming the files to remove", async () => {
  const dir = keysDir();
  const demoDir = join(dir, '..', `demo-of-${dir.split('/').pop()}`);
  assert.equal(await ensureDemoKey(dir, demoDir), true);
  // Alone, the demo key is accepted (a first try of the service), and says so.
  const alone = await loadForStart(dir, demoDir);
  assert.equal(alone.ring.demo, true);
  assert.match(alone.logs, /DEMO KEYS IN USE/);
  writeKey(dir, 'ana.asc', tempEditor('cv25519').publicKey);
  await assert.rejects(loadForStart(dir, demoDir), (e: Error) => e instanceof KeyringError
    && /demo-editor\.asc: the demo editor key is still in KEYS_DIR beside your editors' keys/.test(e.message)
    && e.message.includes(demoDir));
});
