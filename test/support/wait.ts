import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls until the inbox holds `count` delivered tips; returns their folders. */
export async function waitForInbox(inbox: string, count = 1, timeoutMs = 30_000): Promise<string[]> {
  const start = Date.now();
  for (;;) {
    const tips = existsSync(inbox) ? readdirSync(inbox).filter((n) => /^[a-f0-9]{32}$/.test(n)) : [];
    if (tips.length >= count) return tips.map((t) => join(inbox, t));
    if (Date.now() - start > timeoutMs) throw new Error(`inbox has ${tips.length} tips, wanted ${count}`);
    await sleep(100);
  }
}
