/**
 * Takes the people out of Office Open XML parts while keeping the content.
 *
 * Threat: a leaked report carries who touched it: comment and tracked-change authors with their
 * initials and the minute they typed (w:author, w:initials, w:date), their Microsoft account
 * (people.xml presenceInfo, userId/providerId), revision-session ids (rsids) that match one copy to
 * another, the document's GUID (w14/w15:docId), the path it was saved at (x15ac:absPath, often
 * C:\Users\<name>\...), and the template it came from.
 * Defence: each distinct author becomes "Autor 1", "Autor 2"... consistently across parts, so editors
 * can still follow who said what without learning names; dates, rsids, ids and paths are removed.
 * Limit: names typed in the text itself, and author-name fields, are content and stay.
 */

/** One pseudonym per distinct name, shared by all parts of one document. */
export class Pseudonyms {
  private readonly names = new Map<string, number>();
  label(name: string): string { return `Autor ${this.index(name)}`; }
  initials(name: string): string { return `A${this.index(name)}`; }
  private index(name: string): number {
    let n = this.names.get(name);
    if (n === undefined) { n = this.names.size + 1; this.names.set(name, n); }
    return n;
  }
}

export type Counts = Record<string, number>;
const bump = (c: Counts, k: string, n = 1): void => { c[k] = (c[k] ?? 0) + n; };

/** Whole elements that only describe the author's machine or account. */
const DROP_ELEMENTS: RegExp[] = [
  /<w:rsids\b[^>]*\/>|<w:rsids\b[^>]*>[\s\S]*?<\/w:rsids>/g,
  /<w15:presenceInfo\b[^>]*?\/>/g,
  /<w1[45]:docId\b[^>]*?\/>/g,
  /<x15ac:absPath\b[^>]*?\/>/g,
  /<w:attachedTemplate\b[^>]*?\/>/g,
];

const START_TAG = /<([A-Za-z_][\w.-]*(?::[\w.-]+)?)(\s[^<>]*?)?(\/?)>/g;
const ATTRIBUTE = /(\s+)((?:[\w.-]+:)?([\w.-]+))\s*=\s*("[^"]*"|'[^']*')/g;

export interface PartOptions {
  /** In PowerPoint author lists, `name` is a person's name. */
  nameIsAuthor: boolean;
  /** Relationship ids removed from this part's .rels: their r:id attributes go too. */
  removedRelIds: Set<string>;
}

function isAuthorAttribute(local: string, o: PartOptions): boolean {
  // userName: Excel's <fileSharing> (who reserved the workbook) and shared-workbook revision headers.
  return local === 'author' || local === 'displayName' || local === 'userName' || (local === 'name' && o.nameIsAuthor);
}

function rewriteAttribute(local: string, qname: string, quoted: string, owner: string | undefined, p: Pseudonyms, o: PartOptions, c: Counts): string | null {
  const value = quoted.slice(1, -1);
  if (isAuthorAttribute(local, o)) {
    bump(c, 'author');
    return `"${p.label(value)}"`;
  }
  // Initials follow the author named in the same tag, so "Autor 2" is always "A2".
  if (local === 'initials') { bump(c, 'author_initials'); return `"${p.initials(owner ?? value)}"`; }
  if (local === 'date' || local === 'dateUtc' || local === 'dt' || local === 'dT' || local === 'dateTime') { bump(c, 'revision_date'); return null; }
  // PowerPoint's modern comments require `created`, so it is kept but says nothing.
  if (local === 'created') { bump(c, 'revision_date'); return '"1970-01-01T00:00:00.000"'; }
  if (local === 'userId' || local === 'providerId') { bump(c, 'account_id'); return '""'; }
  if (local.startsWith('rsid')) { bump(c, 'rsid'); return null; }
  if (local === 'id' && qname !== 'id' && o.removedRelIds.has(value)) return null;
  return quoted;
}

/** Scrubs one XML part (document, comments, people, settings, slides, sheets, .rels, .vml). */
export function scrubOfficeXml(xml: string, p: Pseudonyms, o: PartOptions, c: Counts): string {
  let out = xml;
  for (const re of DROP_ELEMENTS) {
    out = out.replace(re, () => { bump(c, 'account_or_path'); return ''; });
  }
  // Excel's legacy comments list their authors as element text.
  out = out.replace(/<author>([^<]*)<\/author>/g, (_m, name: string) => { bump(c, 'author'); return `<author>${p.label(name)}</author>`; });
  return out.replace(START_TAG, (tag, name: string, attrs: string | undefined, selfClose: string) => {
    if (!attrs) return tag;
    let owner: string | undefined;
    for (const a of attrs.matchAll(ATTRIBUTE)) if (isAuthorAttribute(a[3] ?? '', o)) owner = (a[4] ?? '').slice(1, -1);
    const rewritten = attrs.replace(ATTRIBUTE, (m, space: string, qname: string, local: string, quoted: string) => {
      const v = rewriteAttribute(local, qname, quoted, owner, p, o, c);
      return v === null ? '' : v === quoted ? m : `${space}${qname}=${v}`;
    });
    return `<${name}${rewritten}${selfClose}>`;
  });
}
