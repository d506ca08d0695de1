/**
 * Opens a sealed file on an editor's machine, streaming, so a 2 GiB video needs no 2 GiB of RAM.
 * Streaming means bytes are written before the integrity check at the end of the message, so they go
 * to a temporary name that is renamed only once the whole message has verified; a tampered or
 * truncated file leaves nothing behind.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeWebReadable } from 'node:stream/web';
import * as openpgp from 'openpgp';

export async function decryptFile(sealedPath: string, key: openpgp.PrivateKey, outPath: string): Promise<void> {
  const message = await openpgp.readMessage({
    binaryMessage: Readable.toWeb(createReadStream(sealedPath, { highWaterMark: 1024 * 1024 })) as unknown as ReadableStream<Uint8Array>,
  });
  const { data } = await openpgp.decrypt({
    message,
    decryptionKeys: key,
    format: 'binary',
    config: { allowUnauthenticatedStream: true },
  });
  const tmp = `${outPath}.partial`;
  try {
    await pipeline(Readable.fromWeb(data as unknown as NodeWebReadable<Uint8Array>), createWriteStream(tmp, { mode: 0o600 }));
    await rename(tmp, outPath);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function decryptToBytes(sealedPath: string, key: openpgp.PrivateKey): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of createReadStream(sealedPath)) chunks.push(c as Buffer);
  const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(Buffer.concat(chunks)) });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: key, format: 'binary' });
  return data;
}

/**
 * Whether the message in `sealedPath` was sealed to `key` (any of its subkeys): false tells a tip
 * for other editors from a damaged one, which the key should have opened. Undefined when the file
 * cannot be read as a message at all.
 */
export async function sealedTo(sealedPath: string, key: openpgp.PrivateKey): Promise<boolean | undefined> {
  try {
    const chunks: Buffer[] = [];
    for await (const c of createReadStream(sealedPath)) chunks.push(c as Buffer);
    const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(Buffer.concat(chunks)) });
    // Cut right after the recipients' packets, a message still reads: without its encrypted data it
    // is damaged, whoever it was for.
    const { symEncryptedIntegrityProtectedData, aeadEncryptedData, symmetricallyEncryptedData } = openpgp.enums.packet;
    if (message.packets.filterByTag(symEncryptedIntegrityProtectedData, aeadEncryptedData, symmetricallyEncryptedData).length === 0) return undefined;
    // Only subkeys whose secret part is in this file: a smartcard's are stubs here, and a tip sealed
    // to one is not this file's to open.
    const ours = new Set(key.getKeys().filter((k) => 'isDummy' in k.keyPacket && !k.keyPacket.isDummy()).map((k) => k.getKeyID().toHex()));
    // A wildcard recipient (all zeros) could be anyone, this key included.
    return message.getEncryptionKeyIDs().some((id) => /^0+$/.test(id.toHex()) || ours.has(id.toHex()));
  } catch {
    return undefined;
  }
}

export class WrongKey extends Error {}

export async function unlockKey(armored: string, passphrase: string): Promise<openpgp.PrivateKey> {
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armored });
  } catch {
    throw new WrongKey('the --key file is not an armored OpenPGP secret key (export it with gpg --armor --export-secret-keys)');
  }
  if (key.isDecrypted()) return key;
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase });
  } catch {
    throw new WrongKey('wrong passphrase for this key');
  }
}
