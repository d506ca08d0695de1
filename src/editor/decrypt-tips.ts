/**
 * Turns delivered tips into folders an editor can read: note.txt, links.txt, the manifest, and each
 * file under its cleaned name. This runs on the editor's own machine, never on the server.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as openpgp from 'openpgp';
import type { Manifest } from '../intake/manifest.ts';
import { MANIFEST_NAME } from '../intake/manifest.ts';
import { decryptFile, decryptToBytes, sealedTo, WrongKey } from './open-message.ts';

const TIP_ID = /^[a-f0-9]{32}$/;
const PARTIAL = /^[a-f0-9]{32}\.partial$/;
const SAFE_NAME = /^(photo|video|audio|document)-[0-9]+\.[a-z0-9]{1,5}$/;

export interface DecryptReport {
  opened: string[];
  skipped: string[];
  /** Tips this key cannot open: sealed before this editor's key was added, or to other editors only. */
  notForKey: string[];
  /** Tips sealed to this key that could not be opened (damaged, or still being copied), with why. */
  damaged: Array<{ tipId: string; reason: string }>;
}

class Damaged extends Error {}

export async function decryptInbox(inbox: string, outDir: string, key: openpgp.PrivateKey): Promise<DecryptReport> {
  const report: DecryptReport = { opened: [], skipped: [], notForKey: [], damaged: [] };
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  // What an interrupted run (Ctrl-C) left half written: a note in a folder nobody looks at. (One run
  // at a time per output folder: a second would remove the first one's work in progress.)
  for (const name of await readdir(outDir)) {
    if (PARTIAL.test(name)) await rm(join(outDir, name), { recursive: true, force: true });
  }
  for (const tipId of (await readdir(inbox)).filter((n) => TIP_ID.test(n)).sort()) {
    const dest = join(outDir, tipId);
    if (await stat(dest).then(() => true, () => false)) {
      report.skipped.push(tipId);
      continue;
    }
    try {
      if (await openTip(join(inbox, tipId), dest, key)) report.opened.push(tipId);
      else report.notForKey.push(tipId);
    } catch (e) {
      // Named, and the rest still opened: one damaged tip must not hide every tip after it.
      if (!(e instanceof Damaged)) throw e;
      report.damaged.push({ tipId, reason: e.message });
    }
  }
  if (report.notForKey.length > 0 && report.opened.length === 0 && report.skipped.length === 0 && report.damaged.length === 0) {
    const [what, were] = report.notForKey.length === 1 ? [`tip ${report.notForKey[0]}`, 'it was'] : [`any of the ${report.notForKey.length} tips`, 'they were'];
    throw new WrongKey(`this key cannot open ${what} (${were} sealed to other editors, or to a subkey this key file does not hold, or the key is wrong)`);
  }
  return report;
}

/**
 * One tip into `dest`, whole or not at all. False when it was sealed to none of this key's usable
 * subkeys; throws Damaged when it was and cannot be opened.
 */
async function openTip(src: string, dest: string, key: openpgp.PrivateKey): Promise<boolean> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await decryptToBytes(join(src, MANIFEST_NAME), key))) as Manifest;
  } catch (e) {
    // Sealed to other editors only: not ours. Anything else is a tip this key should open and
    // cannot: said as such, never passed off as someone else's, or nobody would read it.
    if ((await sealedTo(join(src, MANIFEST_NAME), key)) === false) return false;
    throw new Damaged(`its manifest could not be opened (${e instanceof Error ? e.message : String(e)}): damaged or incomplete, or the inbox is still being copied`);
  }
  // Written aside and renamed into place whole: a tip that fails half way leaves nothing behind,
  // neither a half tip that looks whole nor its note in a folder nobody looks at.
  const staging = `${dest}.partial`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: 0o700 });
  try {
    await writeFile(join(staging, 'note.txt'), manifest.note + '\n');
    await writeFile(join(staging, 'links.txt'), manifest.links.join('\n') + (manifest.links.length ? '\n' : ''));
    await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    for (const f of manifest.files) {
      // The manifest is trusted only as far as it names safe, flat files.
      if (!SAFE_NAME.test(f.name) || !/^file-[0-9]+\.pgp$/.test(f.sealed)) throw new Damaged('its manifest names an unsafe file');
      await decryptFile(join(src, f.sealed), key, join(staging, f.name)).catch((e: unknown) => {
        throw new Damaged(`${f.sealed} could not be opened (${e instanceof Error ? e.message : String(e)})`);
      });
    }
    await rename(staging, dest);
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
  return true;
}

export async function readText(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
}
