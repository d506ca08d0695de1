/**
 * Reads a delivered inbox back the way an editor would, in-process with openpgp.js and the editor's
 * secret key (gpg per file would cost seconds for 200 tips), and lists what crashes may leave behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as openpgp from 'openpgp';

export interface DeliveredTip {
  tipId: string;
  receipt?: string;
  note?: string;
  /** Why this folder is not a whole, readable tip; empty when it is. */
  problems: string[];
}

async function decrypt(key: openpgp.PrivateKey, path: string): Promise<Uint8Array> {
  const message = await openpgp.readMessage({ binaryMessage: readFileSync(path) });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: key, format: 'binary', expectSigned: false });
  return data;
}

export async function editorKey(armoredKey: string, passphrase: string): Promise<openpgp.PrivateKey> {
  return openpgp.decryptKey({ privateKey: await openpgp.readPrivateKey({ armoredKey }), passphrase });
}

interface ManifestLike {
  receipt?: string;
  note?: string;
  files?: { sealed?: string; size?: number; kind?: string }[];
}

/** Decrypts every manifest and every file it lists; a JPEG must come out whole. */
export async function readInbox(inbox: string, key: openpgp.PrivateKey): Promise<DeliveredTip[]> {
  const out: DeliveredTip[] = [];
  for (const tipId of readdirSync(inbox).filter((n) => /^[a-f0-9]{32}$/.test(n)).sort()) {
    const dir = join(inbox, tipId);
    const tip: DeliveredTip = { tipId, problems: [] };
    out.push(tip);
    let m: ManifestLike;
    try {
      m = JSON.parse(new TextDecoder().decode(await decrypt(key, join(dir, 'manifest.json.pgp')))) as ManifestLike;
    } catch (e) {
      tip.problems.push(`manifest: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    tip.receipt = m.receipt;
    tip.note = m.note;
    const expected = new Set(['manifest.json.pgp', ...(m.files ?? []).map((f) => f.sealed ?? '?')]);
    const present = readdirSync(dir);
    if (present.length !== expected.size || !present.every((n) => expected.has(n))) {
      tip.problems.push(`files ${present.sort().join(',')} but manifest lists ${[...expected].sort().join(',')}`);
    }
    if ((m.files ?? []).length !== 1) tip.problems.push(`manifest lists ${(m.files ?? []).length} files, sent 1`);
    for (const f of m.files ?? []) {
      try {
        const data = await decrypt(key, join(dir, f.sealed ?? '?'));
        if (data.length !== f.size) tip.problems.push(`${f.sealed}: ${data.length} bytes, manifest says ${f.size}`);
        if (data[0] !== 0xff || data[1] !== 0xd8 || data.at(-2) !== 0xff || data.at(-1) !== 0xd9) tip.problems.push(`${f.sealed}: not a whole JPEG`);
      } catch (e) {
        tip.problems.push(`${f.sealed}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  return out;
}

export interface Leftovers {
  drafts: string[];
  vault: string[];
  /** Dot-folders in the inbox: staging or trash left by a killed worker. */
  inboxHidden: string[];
  scratch: string[];
}

const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

export function leftovers(dirs: { uploads: string; inbox: string; scratch: string }): Leftovers {
  return {
    drafts: ls(join(dirs.uploads, '.drafts')),
    vault: ls(join(dirs.uploads, 'tips')),
    inboxHidden: ls(dirs.inbox).filter((n) => n.startsWith('.')),
    // The intake's TMPDIR is `tmp` in scratch (src/sanitize/temp-in-scratch.ts): its gpg home, public
    // keys only, stays there while it runs; anything else in it is a leftover like any other.
    scratch: [
      ...ls(dirs.scratch).filter((n) => n !== 'tmp'),
      ...ls(join(dirs.scratch, 'tmp')).filter((n) => !n.startsWith('buzon-gnupg-')).map((n) => `tmp/${n}`),
    ],
  };
}

/**
 * Waits (bounded) until the vault is empty, nothing is staged, and the number of delivered tips has
 * not changed for `quietMs`. Returns how long it took; the caller asserts on what is there.
 */
export async function waitForQuiet(dirs: { uploads: string; inbox: string; scratch: string }, quietMs: number, timeoutMs: number): Promise<{ ms: number; settled: boolean }> {
  const t0 = Date.now();
  let last = -1;
  let since = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const l = leftovers(dirs);
    const delivered = ls(dirs.inbox).length;
    const busy = l.drafts.length + l.vault.length + l.inboxHidden.length > 0;
    if (busy || delivered !== last) {
      last = delivered;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return { ms: Date.now() - t0, settled: true };
    }
    await sleep(200);
  }
  return { ms: Date.now() - t0, settled: false };
}
