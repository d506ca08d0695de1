/**
 * The links a tipster pastes (one per line): sharer ids and click trackers are taken out.
 *
 * Threat: a share link can name the account that shared it (see links-rules.ts); `user:pass@`
 * can carry a login; a `javascript:` or `file:` link is not a web page and must never become a
 * clickable link in an editor's tools.
 * Defence: each line becomes one of: a cleaned http(s) URL; plain text (links inside it are
 * cleaned too); or refused, for other schemes, kept only as inert text and flagged. Nothing is
 * ever fetched: a short link whose parameters hide behind a redirect is kept as typed, with a
 * warning, because following it would tell the platform that the share was opened.
 * Idempotent: cleaning the text of a result gives the same result, with nothing more removed.
 */
import { isOpaqueShortLink, trackingName } from './links-rules.ts';

export type LinkLine =
  /** A web link, cleaned. */
  | { kind: 'url'; url: string; warnings: string[] }
  /** Not a link: kept as typed, except that web links inside it are cleaned. */
  | { kind: 'text'; text: string; warnings: string[] }
  /** A link with a scheme we never pass on as a link (javascript:, file:, data:...): inert text. */
  | { kind: 'refused'; text: string; scheme: string; warnings: string[] };

export interface CleanedLinks {
  lines: LinkLine[];
  /** Removed parameters by name (`utm_*` for families), plus `userinfo` and `fragment`. */
  removed: Record<string, number>;
  warnings: string[];
}

export const SHORT_LINK_KEPT = 'short link kept as typed: it may hide the sharer\'s id, which we cannot remove without opening it';

const MAX_LINE = 8192;
const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
/** "www.example.org/x", "youtu.be/abc": a web address typed without its scheme. */
const BARE_HOST = /^(?:www\.[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:[/?#]\S*)?|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}[/?#]\S*)$/i;
const EMBEDDED_URL = /https?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"»]+$/;

type Counts = Record<string, number>;
const bump = (c: Counts, k: string): void => { c[k] = (c[k] ?? 0) + 1; };

function safeDecode(s: string): string {
  try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; }
}

/** Keeps the raw `a=b` segments whose names are not tracking, in order and as encoded. */
function filterPairs(raw: string, host: string, removed: Counts): { kept: string[]; dropped: number } {
  const kept: string[] = [];
  let dropped = 0;
  for (const seg of raw.split('&')) {
    if (seg === '') continue;
    const name = trackingName(host, safeDecode(seg.split('=')[0] ?? ''));
    if (name) { bump(removed, name); dropped++; } else kept.push(seg);
  }
  return { kept, dropped };
}

/** Cleans one http(s) URL, or returns undefined when it is not one we can parse. */
function cleanUrl(input: string, removed: Counts, warnings: string[]): string | undefined {
  let u: URL;
  try { u = new URL(input); } catch { return undefined; }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) return undefined;
  if (u.username || u.password) { u.username = ''; u.password = ''; bump(removed, 'userinfo'); }
  const host = u.hostname.toLowerCase().replace(/\.$/, '');
  if (u.search) {
    const { kept } = filterPairs(u.search.slice(1), host, removed);
    u.search = kept.length ? '?' + kept.join('&') : '';
  }
  // A fragment is kept unless it is made of parameters (`#utm_source=x&...`), some of them tracking.
  if (u.hash.includes('=') && !u.hash.startsWith('#:~:')) {
    const { kept, dropped } = filterPairs(u.hash.slice(1), host, removed);
    if (dropped) { u.hash = kept.length ? '#' + kept.join('&') : ''; bump(removed, 'fragment'); }
  }
  if (isOpaqueShortLink(host, u.pathname)) warnings.push(SHORT_LINK_KEPT);
  return u.toString();
}

/**
 * Cleans one line as typed. Blank lines give undefined. A line that did not parse as a link may parse
 * once a link inside it is cleaned (`https://user:pw@(<` becomes `https://(/<`), so the line is
 * cleaned again until nothing changes, which keeps the cleaner idempotent.
 */
export function cleanLinkLine(line: string, removed: Counts = {}): LinkLine | undefined {
  let l = cleanOnce(line.slice(0, MAX_LINE).trim(), removed);
  const warnings = new Set(l?.warnings);
  for (let pass = 0; pass < 3 && l; pass++) {
    const text = l.kind === 'url' ? l.url : l.text;
    const next = cleanOnce(text, removed);
    if (!next || (next.kind === l.kind && (next.kind === 'url' ? next.url : next.text) === text)) break;
    l = next;
    for (const w of next.warnings) warnings.add(w);
  }
  return l && { ...l, warnings: [...warnings] };
}

function cleanOnce(text: string, removed: Counts): LinkLine | undefined {
  if (!text) return undefined;
  const warnings: string[] = [];
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
  if (!/\s/.test(text)) {
    if (scheme === 'http' || scheme === 'https') {
      const url = cleanUrl(text, removed, warnings);
      if (url) return { kind: 'url', url, warnings };
    } else if (!scheme && BARE_HOST.test(text)) {
      const url = cleanUrl('https://' + text, removed, warnings);
      if (url) return { kind: 'url', url, warnings };
    } else if (scheme && !/^\d/.test(text.slice(scheme.length + 1))) {
      // `javascript:`, `file:`, `data:`, `intent:`… but not "10:30" or "nota:5".
      return { kind: 'refused', text, scheme, warnings };
    }
  }
  // Free text: clean any web links inside it, leaving the words around them alone.
  const cleaned = text.replace(EMBEDDED_URL, (m) => {
    const tail = TRAILING_PUNCTUATION.exec(m)?.[0] ?? '';
    const core = m.slice(0, m.length - tail.length);
    return (cleanUrl(core, removed, warnings) ?? core) + tail;
  });
  return { kind: 'text', text: cleaned, warnings };
}

/** Cleans the tipster's links field, one entry per non-blank line. */
export function cleanLinks(input: string): CleanedLinks {
  const removed: Counts = {};
  const lines: LinkLine[] = [];
  for (const raw of input.split(/\r\n|\r|\n/)) {
    const l = cleanLinkLine(raw, removed);
    if (l) lines.push(l);
  }
  const warnings = [...new Set(lines.flatMap((l) => l.warnings))];
  return { lines, removed, warnings };
}

/** The text of a cleaned result, one line each, as an editor reads it. */
export function linksToText(result: CleanedLinks): string {
  return result.lines.map((l) => (l.kind === 'url' ? l.url : l.text)).join('\n');
}
