/**
 * The links field as the manifest keeps it: one string per line, each cleaned of sharer and tracking
 * ids by sanitize/links.ts. What is not a web link stays as the tipster typed it, as text; a link of
 * another scheme (javascript:, file:) is kept only as inert text and flagged. Nothing is fetched.
 */
import { cleanLinks as cleanLinkLines } from '../sanitize/links.ts';

export interface CleanedLinks {
  links: string[];
  removed: Record<string, number>;
  warnings: string[];
}

export function cleanLinks(text: string): CleanedLinks {
  const r = cleanLinkLines(text);
  const links = r.lines.map((l) => (l.kind === 'url' ? l.url : l.text));
  const warnings = r.lines.flatMap((l, i) => l.warnings.map((w) => `link ${i + 1}: ${w}`));
  return { links, removed: r.removed, warnings };
}
