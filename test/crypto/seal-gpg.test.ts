import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as openpgp from 'openpgp';
import { disposeGpgSealer, prepareGpgSealer, sealWithGpg, sweepGpgHomes, type GpgSealer } from '../../src/crypto/seal-gpg.ts';
import { dayOf } from '../../src/crypto/seal.ts';
import { gpg, gpgDecrypt, makeEditor, type GpgEditor } from '../support/gpg.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

let rsa: GpgEditor;
let cv: GpgEditor;
let sealer: GpgSealer;
const work = tempDir('buzon-seal-gpg-');

before(async () => {
  [rsa, cv] = [makeEditor('rsa3072'), makeEditor('cv25519')];
  const keys = await Promise.all([rsa, cv].map((e) => openpgp.readKey({ armoredKey: e.publicKey })));
  const r = await prepareGpgSealer(keys);
  assert.ok(r.sealer, r.reason);
  sealer = r.sealer;
});
after(() => {
  disposeGpgSealer(sealer);
  removeDirs(work, rsa?.home, cv?.home);
});

async function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** 3 MiB in uneven pieces, as a pipe from ffmpeg delivers them. */
function pieces(data: Buffer): Readable {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += 65_521) out.push(data.subarray(at, at + 65_521));
  return Readable.from(out);
}

test('every editor opens what gpg sealed, byte for byte; the message is what openpgp.js makes: PKESK per editor, SEIPD v1, no compression, our name and only the day', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const file = join(work, 'sealed.pgp');
  writeFileSync(file, await collect(sealWithGpg(sealer, pieces(data), 'video-1.mp4')));
  for (const editor of [rsa, cv]) assert.ok(gpgDecrypt(editor, file).equals(data), `${editor.email} opens it`);
  const packets = gpg(cv.home, ['--passphrase', cv.passphrase, '--list-packets', file]).toString();
  assert.equal(packets.match(/:pubkey enc packet: version 3/g)?.length, 2);
  assert.match(packets, /:encrypted data packet:\n\s+length: unknown\n\s+mdc_method: 2/);
  assert.doesNotMatch(packets, /compressed packet|aead encrypted/i);
  const literal = packets.match(/created (\d+), name="([^"]*)"/);
  assert.equal(literal?.[2], 'video-1.mp4');
  assert.equal(Number(literal?.[1]) * 1000, dayOf(new Date()).getTime(), 'the literal packet says the day, not the time');
  // gpg's home is on ordinary disk: it must hold keys and gpg's own state, never any of what it sealed.
  const probe = data.subarray(1_000_000, 1_000_064);
  for (const name of readdirSync(sealer.home, { recursive: true }).map(String)) {
    const path = join(sealer.home, name);
    if (statSync(path).isFile()) assert.equal(readFileSync(path).includes(probe), false, `${name} holds plaintext`);
  }
});

test("another child's output pipe goes to gpg as its stdin, untouched by us, and arrives whole", async () => {
  const data = randomBytes(5 * 1024 * 1024 + 3);
  const src = join(work, 'plain.bin');
  writeFileSync(src, data);
  const cat = spawn('cat', [src], { stdio: ['ignore', 'pipe', 'ignore'] });
  const sealed = sealWithGpg(sealer, cat.stdout, 'video-1.mp4');
  assert.equal(cat.stdout.destroyed, true, 'handed over: our end is closed in the same tick');
  const file = join(work, 'direct.pgp');
  writeFileSync(file, await collect(sealed));
  assert.ok(gpgDecrypt(cv, file).equals(data));
});

test('a plaintext stream that fails half way fails the sealed stream: a cut video is never a whole message', async () => {
  const broken = new Readable({ read() {} });
  broken.push(randomBytes(256 * 1024));
  setTimeout(() => broken.destroy(new Error('ffmpeg failed')), 50);
  await assert.rejects(collect(sealWithGpg(sealer, broken, 'video-1.mp4')), /ffmpeg failed/);
});

test('without gpg on the machine there is no gpg sealer, with a reason, and nothing left behind', async () => {
  const keys = [await openpgp.readKey({ armoredKey: cv.publicKey })];
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const r = await prepareGpgSealer(keys);
    assert.equal(r.sealer, undefined);
    assert.match(r.reason ?? '', /gpg is not installed/);
  } finally {
    process.env.PATH = path;
  }
  assert.ok(existsSync(sealer.home), 'the live sealer is untouched');
});

test('a gpg home whose owner file cannot be written is removed at once, not left for a sweep that would never see it', async (t) => {
  // A folder that can hold one more folder but no file: a tmpfs with two inodes (its root and the home).
  const dir = tempDir('buzon-gpg-full-');
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,nr_inodes=2', 'tmpfs', dir]);
  if (mounted.status !== 0) {
    t.skip('mounting a tmpfs needs root');
    return;
  }
  try {
    const keys = [await openpgp.readKey({ armoredKey: cv.publicKey })];
    await assert.rejects(prepareGpgSealer(keys, dir), /ENOSPC/);
    assert.deepEqual(readdirSync(dir), [], 'no home is left without its owner file');
  } finally {
    spawnSync('umount', [dir]);
    removeDirs(dir);
  }
});

test('at start, only the gpg homes of intakes that are gone are swept; live owners and unknown folders stay', async () => {
  const dir = tempDir('buzon-sweep-');
  try {
    const keys = [await openpgp.readKey({ armoredKey: cv.publicKey })];
    const mine = await prepareGpgSealer(keys, dir);
    assert.ok(mine.sealer, mine.reason);
    const homeOf = (name: string, owner?: number) => {
      const home = join(dir, name);
      mkdirSync(home);
      if (owner !== undefined) writeFileSync(join(home, 'buzon-owner.pid'), String(owner));
      return home;
    };
    // A pid that existed and is gone: a child that has exited.
    const gone = spawn('true');
    await new Promise((r) => gone.once('exit', r));
    const live = spawn('sleep', ['30']);
    try {
      const dead = homeOf('buzon-gnupg-dead01', gone.pid!);
      const other = homeOf('buzon-gnupg-live01', live.pid!);
      const unowned = homeOf('buzon-gnupg-none01');
      const garbled = homeOf('buzon-gnupg-bad001', -1);
      const foreign = homeOf('someone-else', gone.pid!);
      // A live pid that started at another time: the pid was reused (an intake is PID 1 in its
      // container at every start), so its owner is gone.
      const reused = homeOf('buzon-gnupg-reuse1');
      writeFileSync(join(reused, 'buzon-owner.pid'), `${live.pid} 1`);
      const liveOwner = homeOf('buzon-gnupg-live02');
      const stat = readFileSync(`/proc/${live.pid}/stat`, 'utf8');
      writeFileSync(join(liveOwner, 'buzon-owner.pid'), `${live.pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`);
      // Not folders of ours: a file, and a link to a folder with a dead owner. Never followed.
      writeFileSync(join(dir, 'buzon-gnupg-file01'), String(gone.pid));
      const target = homeOf('elsewhere', gone.pid!);
      symlinkSync(target, join(dir, 'buzon-gnupg-link01'));
      assert.equal(sweepGpgHomes(dir), 2);
      assert.equal(existsSync(dead), false, 'the dead owner\'s home is removed');
      assert.equal(existsSync(reused), false, 'a home whose pid was reused is removed');
      for (const kept of [mine.sealer.home, other, unowned, garbled, foreign, liveOwner, join(dir, 'buzon-gnupg-file01'), join(dir, 'buzon-gnupg-link01'), target]) {
        assert.ok(existsSync(kept), `${kept} is kept`);
      }
      assert.equal(sweepGpgHomes(join(dir, 'no-such-folder')), 0, 'a temp folder that cannot be read stops nothing');
    } finally {
      live.kill();
      disposeGpgSealer(mine.sealer);
    }
  } finally {
    removeDirs(dir);
  }
});
