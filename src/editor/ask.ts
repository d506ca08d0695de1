/** Reads a line from the terminal without echoing it, so a passphrase never shows on screen. */
import { createInterface } from 'node:readline';

export function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!process.stdin.isTTY) {
      // Piped input: read one line.
      const rl = createInterface({ input: process.stdin });
      rl.once('line', (l) => { rl.close(); resolve(l); });
      rl.once('close', () => reject(new Error('no passphrase given; use --passphrase-file')));
      return;
    }
    process.stdout.write(prompt);
    const stdin = process.stdin;
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stdout.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') { stdin.setRawMode(false); reject(new Error('cancelled')); return; }
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
