/**
 * Seals big streams (videos) with GnuPG, in a child process, instead of openpgp.js.
 *
 * Why: openpgp.js seals at ~0.6× gpg's speed at best and on the intake's event loop, and sealing
 * is the slowest stage of a video tip (BENCHMARKS.md). gpg is the reference implementation the
 * editors use to decrypt, it runs on the other core while ffmpeg remuxes, and it costs our process
 * no memory. Small things (the manifest) stay with openpgp.js: spawning costs more than sealing them.
 *
 * Threat: gpg must make what openpgp.js makes, or an editor's Thunderbird may not open a tip, and it
 * must not write the exact time of the tip into it. So: the home folder holds the editors' public
 * keys only (nothing secret: it need not be in RAM), made afresh at every start; no keyserver,
 * agent or trust database is consulted; no compression; the literal packet's name is ours and its time is the
 * start of the day (a faked clock, which is also why keys made today must be allowed "from the
 * future"). At start we seal a probe and read its packets back: anything but one PKESK per editor
 * and a SEIPD v1 packet (GnuPG 2.3+ may pick OCB, which Thunderbird does not read) makes us fall
 * back to openpgp.js rather than seal a single tip differently.
 */
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as openpgp from 'openpgp';
import { dayOf } from './seal.ts';

export interface GpgSealer {
  home: string;
  fingerprints: string[];
}

export class GpgSealFailed extends Error {}

const OUT_CHUNK = 1024 * 1024;

// --no-autostart: public-key encryption needs no gpg-agent; one per start would outlive the intake.
const BASE = ['--batch', '--no-tty', '--quiet', '--no-greeting', '--no-permission-warning', '--no-options', '--no-autostart',
  // gpg rewrites its random_seed file at every run: its times would say when the last video was sealed.
  '--no-random-seed-file'];

function gpgArgs(s: GpgSealer, filename: string): string[] {
  const day = Math.floor(dayOf(new Date()).getTime() / 1000);
  return [
    '--homedir', s.home, ...BASE,
    '--trust-model', 'always', '--no-auto-key-locate', '--no-auto-key-retrieve',
    '--faked-system-time', `${day}!`, '--ignore-time-conflict', '--ignore-valid-from',
    '--compress-algo', 'none', '--personal-cipher-preferences', 'AES256 AES192 AES',
    '--set-filename', filename,
    ...s.fingerprints.flatMap((f) => ['--recipient', f]),
    '--encrypt',
  ];
}

/**
 * gpg sealing `plaintext` to `out` (a pipe we read, or a file descriptor it writes itself).
 *
 * When `plaintext` is another child's untouched output pipe (ffmpeg's stdout, or for HEVC the
 * joiner's of video-moov-splice.ts), gpg gets that pipe as its stdin, so a gigabyte of video never
 * passes through our event loop (BENCHMARKS.md, round 4).
 * Safe because we have read nothing from it (bytesRead is 0) and close our end in this same tick,
 * before the event loop could read from it. Whether that plaintext was whole is then for its
 * producer to say (CleanedStream.done): the pipe's end looks the same either way.
 */
function spawnGpg(s: GpgSealer, plaintext: Readable, filename: string, out: 'pipe' | number) {
  const direct = plaintext instanceof Socket && plaintext.bytesRead === 0 && plaintext.readableLength === 0;
  const child = spawn('gpg', gpgArgs(s, filename), {
    stdio: [direct ? plaintext : 'pipe', out, 'ignore'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code));
  });
  let inputError: unknown;
  let fed: Promise<void> = Promise.resolve();
  if (direct) plaintext.destroy();
  else {
    fed = pipeline(plaintext, child.stdin!).catch((e: unknown) => {
      inputError = e;
      child.kill('SIGKILL');
    });
  }
  /** Resolves once gpg has read all of `plaintext` and exited 0; rejects with why not. */
  const finished = fed.then(() => exited).then((code) => {
    if (inputError !== undefined) throw inputError;
    if (code !== 0) throw new GpgSealFailed(`gpg --encrypt exited ${code}`);
  });
  return { child, finished };
}

/**
 * The sealed stream of `plaintext`. It ends only once gpg has exited 0, so a consumer that reads to
 * the end has a whole message; destroying it stops gpg, and an error in `plaintext` errors it.
 */
export function sealWithGpg(s: GpgSealer, plaintext: Readable, filename: string): Readable {
  const { child, finished } = spawnGpg(s, plaintext, filename, 'pipe');
  finished.catch(() => {}); // read below, once the output has been handed on
  async function* produce(): AsyncGenerator<Buffer> {
    try {
      // gpg writes ~14 KiB at a time; the vault pays per write, so hand it about OUT_CHUNK at a time.
      let parts: Buffer[] = [];
      let size = 0;
      for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
        parts.push(chunk);
        size += chunk.length;
        if (size >= OUT_CHUNK) {
          yield Buffer.concat(parts, size);
          parts = [];
          size = 0;
        }
      }
      if (size > 0) yield Buffer.concat(parts, size);
      await finished;
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      plaintext.destroy();
    }
  }
  return Readable.from(produce(), { objectMode: false });
}

/** Whether this machine's gpg makes messages like ours; see the header. */
async function sealsLikeUs(s: GpgSealer): Promise<boolean> {
  const chunks: Buffer[] = [];
  for await (const c of sealWithGpg(s, Readable.from([Buffer.from('probe')]), 'probe')) chunks.push(c as Buffer);
  const message = await openpgp.readMessage({ binaryMessage: Buffer.concat(chunks) });
  const tags = [...message.packets].map((p) => (p.constructor as unknown as { tag: number }).tag);
  const pkesk = openpgp.enums.packet.publicKeyEncryptedSessionKey;
  const seipd = message.packets.findPacket(openpgp.enums.packet.symEncryptedIntegrityProtectedData) as { version?: number } | undefined;
  return tags.filter((t) => t === pkesk).length === s.fingerprints.length
    && tags.length === s.fingerprints.length + 1 && seipd?.version === 1;
}

/**
 * A fresh GnuPG home holding `keys`, checked with a probe; no sealer (and the reason) when gpg is
 * missing or does not seal as we do, so the caller keeps openpgp.js. Remove it with disposeGpgSealer.
 */
export async function prepareGpgSealer(keys: openpgp.PublicKey[], dir = tmpdir()): Promise<{ sealer?: GpgSealer; reason?: string }> {
  // In the intake's TMPDIR, which is in RAM scratch (temp-in-scratch.ts), though it need not be: gpg
  // streams what it seals from stdin to stdout or the vault file; its home holds public keys, gpg's
  // own state and our owner file (a pid) only (test/crypto/seal-gpg.test.ts searches it for
  // plaintext after a seal). Its lock files' times still say when the last seal ran.
  const home = mkdtempSync(join(dir, HOME_PREFIX));
  // Whose home this is: a later start removes it once this process is gone (sweepGpgHomes). A home
  // without this file would never be swept, so it goes at once if the file cannot be written.
  try {
    writeFileSync(join(home, OWNER_FILE), owner(process.pid) ?? String(process.pid));
  } catch (e) {
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
  const armored = keys.map((k) => k.armor()).join('\n');
  const imported = spawnSync('gpg', ['--homedir', home, ...BASE, '--import'], { input: armored, stdio: ['pipe', 'ignore', 'ignore'] });
  if (imported.error || imported.status !== 0) {
    rmSync(home, { recursive: true, force: true });
    return { reason: imported.error ? 'gpg is not installed' : 'gpg could not import the editors\' keys' };
  }
  const sealer = { home, fingerprints: keys.map((k) => k.getFingerprint().toUpperCase()) };
  const ok = await sealsLikeUs(sealer).catch(() => false);
  if (!ok) {
    rmSync(home, { recursive: true, force: true });
    return { reason: 'this gpg does not make SEIPD v1 messages to every editor' };
  }
  return { sealer };
}

export function disposeGpgSealer(s: GpgSealer | undefined): void {
  if (s) rmSync(s.home, { recursive: true, force: true });
}

const HOME_PREFIX = 'buzon-gnupg-';
const OWNER_FILE = 'buzon-owner.pid';

/**
 * Removes the gpg homes in `dir` whose intake is no longer running: a crash or a kill leaves its
 * home behind (public keys only, but they pile up). Several intakes on one machine may share `dir`,
 * so a home is removed only when its owner file names a process that is gone: its pid and its start
 * time, so that a reused pid (an intake that is PID 1 in its container at every start) does not keep
 * it. Only folders of our own user are looked at, and nothing here can stop a start: in a shared
 * /tmp anyone can plant a name, and a home we cannot remove is left. PIDs are this namespace's;
 * containers that share a temp folder need one each. Returns how many were removed.
 */
export function sweepGpgHomes(dir = tmpdir()): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(HOME_PREFIX)) continue;
    try {
      const home = join(dir, name);
      const st = lstatSync(home);
      if (!st.isDirectory() || st.uid !== process.getuid?.()) continue;
      const recorded = readFileSync(join(home, OWNER_FILE), 'utf8').trim();
      const pid = Number(recorded.split(' ')[0]);
      if (!Number.isSafeInteger(pid) || pid <= 0) continue;
      const now = owner(pid);
      // Alive when the pid exists and, where /proc tells, started when the owner did.
      if (now !== undefined ? now === recorded || !recorded.includes(' ') : alive(pid)) continue;
      rmSync(home, { recursive: true, force: true });
      removed++;
    } catch {
      // Not ours to judge (unreadable, raced away): left alone.
    }
  }
  return removed;
}

/** "pid starttime" from /proc (start time in clock ticks since boot); undefined if the pid is gone. */
function owner(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `${pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Like sealWithGpg, but gpg writes the sealed message itself to `fd` (a vault file), so it never
 * passes through our event loop either. Resolves once gpg has exited 0; rejects otherwise.
 */
export async function sealWithGpgToFd(s: GpgSealer, plaintext: Readable, filename: string, fd: number): Promise<void> {
  await spawnGpg(s, plaintext, filename, fd).finished;
}
