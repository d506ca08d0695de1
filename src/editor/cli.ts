/**
 * The editors' command line:
 *   npm run editor -- decrypt --key private.asc [--inbox DIR] [--out DIR] [--passphrase-file FILE]
 * It asks for the passphrase without echoing it, or reads it from a file for scripts.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { decryptInbox, readText } from './decrypt-tips.ts';
import { unlockKey, WrongKey } from './open-message.ts';
import { askHidden } from './ask.ts';

const USAGE = 'usage: npm run editor -- decrypt --key private.asc [--inbox ./inbox] [--out ./decrypted] [--passphrase-file FILE]';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      key: { type: 'string' },
      inbox: { type: 'string', default: process.env.INBOX_DIR || './inbox' },
      out: { type: 'string', default: './decrypted' },
      'passphrase-file': { type: 'string' },
    },
  });
  if (positionals[0] !== 'decrypt' || !values.key) {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  const armored = await readFile(values.key, 'utf8').catch(() => {
    throw new WrongKey(`cannot read the key file ${values.key}`);
  });
  const passphrase = values['passphrase-file']
    ? await readText(values['passphrase-file'])
    : await askHidden('Passphrase for the key: ');
  const key = await unlockKey(armored, passphrase);
  const report = await decryptInbox(values.inbox!, values.out!, key);
  process.stdout.write(`opened ${report.opened.length} tip(s) into ${values.out}; ${report.skipped.length} already open\n`);
  for (const id of report.opened) process.stdout.write(`  ${id}\n`);
  if (report.notForKey.length > 0) {
    process.stderr.write(`buzon editor: this key cannot open ${report.notForKey.length} tip(s), sealed to other editors (before this key was added?) or to a subkey this key file does not hold; left as they are:\n`);
    for (const id of report.notForKey) process.stderr.write(`  ${id}\n`);
  }
  if (report.damaged.length > 0) {
    process.stderr.write(`buzon editor: ${report.damaged.length} tip(s) sealed to this key could not be opened; nothing of them was written:\n`);
    for (const d of report.damaged) process.stderr.write(`  tip ${d.tipId}: ${d.reason}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`buzon editor: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
