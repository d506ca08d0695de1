/**
 * Whether a video remuxed during its upload (video-early.ts) may be kept: the proof that ffmpeg was
 * given what the ordinary path gives it. See video-early.ts for the threat.
 *
 * Once the upload is whole, the ordinary plan is made from scratch, which also blanks its SEI in
 * place. The streamed remux is kept only when:
 * - its sniffed type and arguments (but for the input, a pipe) are the ordinary plan's;
 * - it blanked exactly the units the ordinary scrub blanked, so ffmpeg read the same bytes;
 * - the file is one ftyp, free space, one moov, one mdat and free space, with the moov and the mdat
 *   where the early reading found them: nothing after the data for ffmpeg to read differently;
 * - ffprobe's packets, all streams together, come in strictly rising file order: ffmpeg reads a
 *   pipe in file order and a file in time order, and these then agree.
 * Otherwise the caller drops the streamed copy and cleans from scratch with the plan made here.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { topLevelBoxes } from './iso-boxes.ts';
import type { Sniffed } from './types.ts';
import type { EarlyResult } from './video-early.ts';
import { planRemux, type RemuxPlan } from './video-plan.ts';

const FREE = new Set(['free', 'skip', 'wide']);

export interface EarlyVerdict {
  keep: boolean;
  /** The ordinary plan, made (and the SEI blanked in place) here: what to clean with otherwise. */
  plan: RemuxPlan;
  /** Why not, for the tests; never logged with anything of the file. */
  why?: string;
}

export async function checkEarly(early: EarlyResult, input: string, sniffed: Sniffed): Promise<EarlyVerdict> {
  const fills: number[] = [];
  const seen: { packets?: unknown[] } = {};
  const plan = await planRemux(input, sniffed, { fills, seen });
  const no = (why: string): EarlyVerdict => ({ keep: false, plan, why });
  if (sniffed.ext !== early.sniffed.ext) return no('type');
  const args = plan.args.map((a, i) => (i > 0 && plan.args[i - 1] === '-i' ? 'pipe:0' : a));
  if (JSON.stringify(args) !== JSON.stringify(early.plan.args) || plan.hevc !== early.plan.hevc || plan.muxer.format !== early.plan.muxer.format) return no('plan');
  if (fills.length !== early.fills.length || fills.some((v, i) => v !== early.fills[i])) return no('fills');
  if (!layoutAsRead(input, early)) return no('layout');
  if (!inFileOrder(seen.packets)) return no('order');
  return { keep: true, plan };
}

function layoutAsRead(input: string, early: EarlyResult): boolean {
  const fd = openSync(input, 'r');
  try {
    const boxes = topLevelBoxes(fd, fstatSync(fd).size, 1_000);
    if (!boxes || boxes[0]?.type !== 'ftyp') return false;
    const moov = boxes.findIndex((b) => b.type === 'moov');
    const mdat = boxes.findIndex((b) => b.type === 'mdat');
    if (moov < 0 || mdat < moov || boxes[moov]!.start !== early.layout.moovAt || boxes[mdat]!.start !== early.layout.mdatAt) return false;
    return boxes.every((b, i) => i === 0 || i === moov || i === mdat || FREE.has(b.type));
  } finally {
    closeSync(fd);
  }
}

function inFileOrder(packets: unknown[] | undefined): boolean {
  if (packets === undefined) return false;
  let last = -1;
  for (const e of packets) {
    const pos = (e as { pos?: unknown } | null)?.pos;
    if (typeof pos !== 'string' || !/^\d+$/.test(pos) || Number(pos) <= last) return false;
    last = Number(pos);
  }
  return true;
}
