/**
 * What tests and benches make outside their own process: temp folders (in the OS temp folder or
 * /dev/shm), gpg homes, where gpg starts a gpg-agent daemon that outlives it, and child processes.
 * Whoever makes one removes it in an after hook or a finally, so it goes pass or fail. What is still
 * there when the process exits (a hook that threw before its cleanup, a run stopped by SIGINT or
 * SIGTERM) is removed then.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
const gpgHomes = new Set<string>();
const atExit = new Set<() => void>();

/** A fresh folder `<base>/<prefix>XXXXXX`; base is the OS temp folder unless given ('/dev/shm'). */
export function tempDir(prefix: string, base = tmpdir()): string {
  const dir = mkdtempSync(join(base, prefix));
  dirs.add(dir);
  return dir;
}

/** A fresh GnuPG home: removeDirs stops its gpg-agent before removing it. */
export function gpgHome(prefix = 'buzon-gpg-'): string {
  const home = tempDir(prefix);
  gpgHomes.add(home);
  return home;
}

/** Removes folders and all they hold; a gpg home's agent is stopped first. Undefined is skipped. */
export function removeDirs(...paths: (string | undefined)[]): void {
  for (const path of paths) {
    if (path === undefined) continue;
    if (gpgHomes.delete(path)) spawnSync('gpgconf', ['--homedir', path, '--kill', 'gpg-agent'], { stdio: 'ignore' });
    rmSync(path, { recursive: true, force: true });
    dirs.delete(path);
  }
}

/** Kills `child` when this process exits, if it is still running then: SIGKILL, or `kill` (synchronous). */
export function killAtExit<T extends ChildProcess>(child: T, kill = () => { child.kill('SIGKILL'); }): T {
  atExit.add(kill);
  child.once('exit', () => atExit.delete(kill));
  return child;
}

process.once('exit', () => {
  for (const fn of atExit) {
    try { fn(); } catch { /* the rest still run */ }
  }
  removeDirs(...dirs);
});
// Exit on these (as their default would) through process.exit, so that the cleanup above runs.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(128 + constants.signals[signal]));
