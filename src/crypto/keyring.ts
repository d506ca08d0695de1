/**
 * The editors' public keys: every *.asc in KEYS_DIR is one editor, and every tip is sealed to all.
 *
 * Threat: a key that cannot decrypt (expired, revoked, signing-only) makes tips that no editor can
 * ever open; a secret key on the server hands every tip to whoever seizes it. Either is refused at
 * start, naming the file and the reason, rather than discovered after a source took the risk.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { DEMO_EMAIL } from './demo-key.ts';

export interface Editor {
  file: string;
  fingerprint: string;
  key: openpgp.PublicKey;
  demo: boolean;
  /** When the key, or the subkey tips are sealed to, stops being usable; undefined if never. */
  expires: Date | undefined;
}

export class KeyringError extends Error {}

export interface Keyring {
  editors: Editor[];
  /** True when any key is the generated demo key, which must never see a real tip. */
  demo: boolean;
  keys: openpgp.PublicKey[];
}

async function checkKey(file: string, armored: string, now: Date): Promise<Editor> {
  if (/-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(armored)) {
    throw new KeyringError(`${file}: holds a secret key; the server must hold public keys only. Export it with gpg --armor --export.`);
  }
  let keys: openpgp.Key[];
  try {
    keys = await openpgp.readKeys({ armoredKeys: armored });
  } catch {
    throw new KeyringError(`${file}: not an armored OpenPGP public key`);
  }
  if (keys.length !== 1) throw new KeyringError(`${file}: holds ${keys.length} keys; put one editor's key in each file`);
  const key = keys[0]!;
  if (key.isPrivate()) throw new KeyringError(`${file}: holds a secret key; the server must hold public keys only`);
  if (await key.isRevoked(undefined, undefined, now)) throw new KeyringError(`${file}: the key is revoked`);
  const expires = await key.getExpirationTime();
  if (expires instanceof Date && expires.getTime() <= now.getTime()) {
    throw new KeyringError(`${file}: the key expired on ${expires.toISOString().slice(0, 10)}`);
  }
  let sealTo: openpgp.Key | openpgp.Subkey;
  try {
    sealTo = await key.getEncryptionKey(undefined, now);
  } catch {
    throw new KeyringError(`${file}: the key has no valid encryption subkey (expired, revoked or signing-only)`);
  }
  const demo = key.getUserIDs().some((u) => u.includes(DEMO_EMAIL));
  const ends = [expires, await sealTo.getExpirationTime()].filter((d): d is Date => d instanceof Date);
  const soonest = ends.length > 0 ? new Date(Math.min(...ends.map((d) => d.getTime()))) : undefined;
  return { file, fingerprint: key.getFingerprint().toUpperCase(), key: key.toPublic(), demo, expires: soonest };
}

export async function loadKeyring(dir: string, now = new Date()): Promise<Keyring> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.asc')).sort();
  } catch {
    throw new KeyringError(`KEYS_DIR ${dir}: cannot be read`);
  }
  if (names.length === 0) throw new KeyringError(`KEYS_DIR ${dir}: no editor key (*.asc) found`);
  const editors: Editor[] = [];
  for (const name of names) editors.push(await checkKey(name, readFileSync(join(dir, name), 'utf8'), now));
  return { editors, demo: editors.some((e) => e.demo), keys: editors.map((e) => e.key) };
}
