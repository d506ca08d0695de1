/**
 * Tipsters for the crash test: real HTTP (undici fetch + FormData) with a bounded number of tips in
 * flight. A tip counts as acknowledged only on 201 with a receipt; anything else (refused connection,
 * reset, timeout, other status) is recorded as unacknowledged, as the tipster would see it.
 */
export interface TipOutcome {
  index: number;
  /** Unique marker carried in the note, to find the tip among the delivered ones. */
  id: string;
  acked: boolean;
  receipt?: string;
  detail: string;
}

export interface SendOptions {
  count: number;
  concurrency: number;
  url: () => string;
  idOf: (i: number) => string;
  photos: Buffer[];
  /** Awaited before each tip: holds new tips while the intake is down, as its port would refuse them. */
  gate: () => Promise<void>;
  onStart?: (i: number) => void;
  timeoutMs?: number;
}

async function sendOne(o: SendOptions, i: number): Promise<TipOutcome> {
  const id = o.idOf(i);
  const form = new FormData();
  form.append('note', `crash test tip ${id}`);
  form.append('files', new Blob([new Uint8Array(o.photos[i % o.photos.length]!)], { type: 'image/jpeg' }), `photo-${i}.jpg`);
  try {
    const res = await fetch(`${o.url()}/tips`, {
      method: 'POST',
      body: form,
      headers: { Accept: 'application/json' },
      signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
    });
    const text = await res.text();
    if (res.status !== 201) return { index: i, id, acked: false, detail: `HTTP ${res.status} ${text.slice(0, 120)}` };
    const receipt = (JSON.parse(text) as { receipt?: unknown }).receipt;
    if (typeof receipt !== 'string') return { index: i, id, acked: false, detail: '201 without a receipt' };
    return { index: i, id, acked: true, receipt, detail: '201' };
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return { index: i, id, acked: false, detail: `${e instanceof Error ? e.message : String(e)}${cause}` };
  }
}

export async function sendTips(o: SendOptions): Promise<TipOutcome[]> {
  const out: TipOutcome[] = new Array<TipOutcome>(o.count);
  let next = 0;
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= o.count) return;
      await o.gate();
      o.onStart?.(i);
      out[i] = await sendOne(o, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.count) }, lane));
  return out;
}
