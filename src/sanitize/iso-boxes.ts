/**
 * The top-level boxes of an ISO BMFF file (MP4, MOV, 3GP), read from their headers alone: what the
 * SEI scrub and the hvcC reader need to know of a file's layout before they trust any offset in it.
 * A layout we will not guess at (a box past the end, a size below its header, too many boxes) is
 * undefined, never a partial list.
 */
import { readSync } from 'node:fs';

export interface TopBox {
  type: string;
  start: number;
  /** 8, or 16 for a 64-bit size. */
  header: number;
  end: number;
}

export function topLevelBoxes(fd: number, size: number, maxBoxes: number): TopBox[] | undefined {
  const head = Buffer.alloc(16);
  const out: TopBox[] = [];
  for (let at = 0; at < size;) {
    if (at + 8 > size || out.length >= maxBoxes) return undefined;
    readSync(fd, head, 0, 16, at);
    let box = head.readUInt32BE(0);
    let header = 8;
    if (box === 1) { box = at + 16 <= size ? Number(head.readBigUInt64BE(8)) : 0; header = 16; }
    else if (box === 0) box = size - at;
    if (box < header || at + box > size) return undefined;
    out.push({ type: head.toString('latin1', 4, 8), start: at, header, end: at + box });
    at += box;
  }
  return out;
}
