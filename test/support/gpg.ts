/** Real GnuPG for tests: editors' keys made by gpg itself, and gpg --decrypt on what we produce. */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gpgHome } from './cleanup.ts';

export interface GpgEditor {
  home: string;
  email: string;
  publicKey: string;
  secretKey: string;
  passphrase: string;
}

export function gpg(home: string, args: string[], input?: string | Buffer): Buffer {
  return execFileSync('gpg', ['--homedir', home, '--batch', '--yes', '--pinentry-mode', 'loopback', ...args], {
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 1024 * 1024 * 1024,
  });
}

/**
 * algo: 'rsa3072' or 'cv25519' (ed25519 primary with a cv25519 encryption subkey). Its home runs a
 * gpg-agent that would outlive the test and keep a share of the CPU (hundreds of them, after a day
 * of runs): remove it with removeDirs(editor.home), which stops the agent (cleanup.ts).
 */
export function makeEditor(algo: 'rsa3072' | 'cv25519', opts: { expire?: string; passphrase?: string } = {}): GpgEditor {
  const home = gpgHome();
  const email = `editor-${algo}-${Math.random().toString(36).slice(2, 8)}@example.org`;
  const passphrase = opts.passphrase ?? 'correct horse battery';
  const primary = algo === 'rsa3072' ? 'rsa3072' : 'ed25519';
  const sub = algo === 'rsa3072' ? 'rsa3072' : 'cv25519';
  gpg(home, ['--passphrase', passphrase, '--quick-gen-key', email, primary, 'sign', opts.expire ?? '0']);
  const fpr = gpg(home, ['--with-colons', '--list-keys', email]).toString().split('\n').find((l) => l.startsWith('fpr'))!.split(':')[9]!;
  gpg(home, ['--passphrase', passphrase, '--quick-add-key', fpr, sub, 'encr', opts.expire ?? '0']);
  const publicKey = gpg(home, ['--armor', '--export', email]).toString();
  const secretKey = gpg(home, ['--passphrase', passphrase, '--armor', '--export-secret-keys', email]).toString();
  return { home, email, publicKey, secretKey, passphrase };
}

export function gpgDecrypt(editor: GpgEditor, file: string): Buffer {
  return gpg(editor.home, ['--passphrase', editor.passphrase, '--decrypt', file]);
}

/** Decrypt, returning gpg's status as well, for checks that it saw an integrity-protected message. */
export function gpgDecryptStatus(editor: GpgEditor, file: string): { ok: boolean; status: string; out: Buffer } {
  const r = spawnSync('gpg', ['--homedir', editor.home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', editor.passphrase,
    '--status-fd', '2', '--decrypt', file], { maxBuffer: 1024 * 1024 * 1024 });
  return { ok: r.status === 0, status: r.stderr.toString(), out: r.stdout };
}

export function writeKey(dir: string, name: string, armored: string): void {
  writeFileSync(join(dir, name), armored);
}
