/**
 * Keeps an Office package consistent after parts are removed, so Word/Excel/PowerPoint open the
 * cleaned file without a "we found a problem with some content" repair prompt.
 *
 * Threat it also covers: relationships can point outside the package, at the tipster's own disk
 * (an attached template at C:\Users\ana\AppData\..., an external workbook on \\NEWSROOM-PC\share).
 * Those targets are paths that name a person or a machine; they are replaced.
 */
import { posix } from 'node:path';

/** `word/_rels/document.xml.rels` → `word/document.xml`; the package's own rels → ''. */
export function ownerOfRels(relsName: string): string {
  const m = /^(.*?)_rels\/([^/]*)\.rels$/.exec(relsName);
  return m ? (m[1] ?? '') + (m[2] ?? '') : '';
}

function resolveTarget(relsName: string, target: string): string {
  const base = posix.dirname(ownerOfRels(relsName) || 'x');
  const t = target.startsWith('/') ? target.slice(1) : posix.join(base === '.' ? '' : base, target);
  return posix.normalize(decodeURIComponent(t)).replace(/^\.\//, '');
}

const LOCAL_PATH = /^(file:|[A-Za-z]:[\\/]|\\\\|\/(Users|home)\/)/i;

export interface RelsResult {
  xml: string;
  removedIds: Set<string>;
  externalPaths: number;
}

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag)?.slice(2).find((v) => v !== undefined);
}

/** Removes relationships to dropped parts and to templates; blanks local-path external targets. */
export function pruneRels(relsName: string, xml: string, dropped: Set<string>): RelsResult {
  const removedIds = new Set<string>();
  let externalPaths = 0;
  const out = xml.replace(/<Relationship\b[^>]*?\/>|<Relationship\b[^>]*?>[\s\S]*?<\/Relationship>/g, (tag) => {
    const id = attr(tag, 'Id') ?? '';
    const type = attr(tag, 'Type') ?? '';
    const target = attr(tag, 'Target') ?? '';
    const external = attr(tag, 'TargetMode') === 'External';
    if (/\/attachedTemplate$/.test(type)) { removedIds.add(id); return ''; }
    if (external) {
      if (!LOCAL_PATH.test(target)) return tag;
      externalPaths++;
      return tag.replace(/\sTarget\s*=\s*("[^"]*"|'[^']*')/, ' Target="removed"');
    }
    let resolved: string;
    try { resolved = resolveTarget(relsName, target); } catch { return tag; }
    if (dropped.has(resolved)) { removedIds.add(id); return ''; }
    return tag;
  });
  return { xml: out, removedIds, externalPaths };
}

/** Removes `<Override PartName="/x"/>` for every dropped part. */
export function pruneContentTypes(xml: string, dropped: Set<string>): string {
  return xml.replace(/<Override\b[^>]*?\/>/g, (tag) => {
    const part = (attr(tag, 'PartName') ?? '').replace(/^\//, '');
    return dropped.has(part) ? '' : tag;
  });
}
