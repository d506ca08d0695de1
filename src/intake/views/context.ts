/**
 * What every page needs beyond the language: the newsroom's branding and the limits to announce.
 * Set once when the app is built (createApp), so view functions keep their simple signatures.
 */
import type { Branding } from '../branding.ts';

export interface ViewContext {
  brand: Branding;
  limits: { maxFileBytes: number; maxTipBytes: number; maxFiles: number; stallMinutes: number };
  /** For the file input's accept attribute and the script's kind check. */
  extensions: readonly string[];
  /** A fresh signed ticket for the no-JavaScript lane (abuse/ticket.ts), one per rendered form. */
  issueTicket?: () => string;
}

let current: ViewContext = {
  brand: { name: 'Buzón', accent: '#0b6e4f', accentText: '#0b6e4f', onAccent: '#ffffff', intro: {} },
  limits: { maxFileBytes: 2 * 1024 ** 3, maxTipBytes: 2 * 1024 ** 3, maxFiles: 20, stallMinutes: 2 },
  extensions: [],
};

export function setViewContext(ctx: ViewContext): void {
  current = ctx;
}

export function viewContext(): ViewContext {
  return current;
}

/** "2 GB", "500 MB", "1,5 GB": the units phones show in their file pickers. */
export function formatBytes(bytes: number, lang: string): string {
  const units: [number, string][] = [[1024 ** 3, 'GB'], [1024 ** 2, 'MB'], [1024, 'KB']];
  const [div, unit] = units.find(([d]) => bytes >= d) ?? [1, 'B'];
  return `${new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(bytes / div)} ${unit}`;
}
