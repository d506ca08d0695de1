/** Raw byte search of every file under a folder, for proving a marker is nowhere at rest. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function filesUnder(dir: string, since = 0): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    let st;
    try { st = statSync(p); } catch { continue; }
    if (st.isDirectory()) out.push(...filesUnder(p, since));
    else if (st.isFile() && st.mtimeMs >= since && st.size < 256 * 1024 * 1024) out.push(p);
  }
  return out;
}

/** Files under `dir` (changed since `since`) whose bytes contain `marker`. */
export function filesContaining(dir: string, marker: string, since = 0): string[] {
  const needle = Buffer.from(marker);
  return filesUnder(dir, since).filter((p) => {
    try { return readFileSync(p).includes(needle); } catch { return false; }
  });
}
