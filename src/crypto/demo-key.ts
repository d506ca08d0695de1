/**
 * A demo editor for a first start with an empty keys folder, so that the service can be tried at
 * once. Its secret key and passphrase are written outside KEYS_DIR (the server never reads them back)
 * and the service says loudly, in the log and on /readyz, that it is not fit for real tips.
 * In production it is refused outright.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as openpgp from 'openpgp';

export const DEMO_EMAIL = 'demo-editor@buzon.invalid';

/** Returns true when it made a key; false when KEYS_DIR already had one. */
export async function ensureDemoKey(keysDir: string, demoDir: string): Promise<boolean> {
  mkdirSync(keysDir, { recursive: true });
  if (readdirSync(keysDir).some((n) => n.endsWith('.asc'))) return false;
  const passphrase = randomBytes(18).toString('base64url');
  const { publicKey, privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'Buzon DEMO editor (not for real tips)', email: DEMO_EMAIL }],
    passphrase,
    format: 'armored',
  });
  mkdirSync(demoDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(demoDir, 'private.asc'), privateKey, { mode: 0o600 });
  writeFileSync(join(demoDir, 'passphrase.txt'), passphrase + '\n', { mode: 0o600 });
  writeFileSync(join(keysDir, 'demo-editor.asc'), publicKey);
  return true;
}
