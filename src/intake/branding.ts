/**
 * The newsroom's look: name, logo, accent colour and an intro per language, read once at start from
 * BRANDING_DIR/brand.json, each field overridable by a BRAND_* variable.
 *
 * Threat: a newsroom's colour choice can make the form unreadable (WCAG 2.2 AA wants 4.5:1 for text),
 * and a logo hot-linked from elsewhere is a third-party request that reveals a visit.
 * Defence: the accent is darkened until it reaches 4.5:1 on white, button text is picked for contrast,
 * and the logo is a local file we serve ourselves. The colours reach the page through /brand.css,
 * never an inline style (CSP style-src 'self').
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import type { Config } from '../config.ts';

const brandFile = z.object({
  name: z.string().max(80).optional(),
  accent: z.string().regex(/^#[0-9a-fA-F]{6}$/).optional(),
  logo: z.string().optional(),
  /** Keyed by language code, as the catalogs are. */
  intro: z.record(z.string(), z.string().max(2000)).optional(),
});

export const LOGO_TYPES: Record<string, string> = {
  '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp',
};

export interface Branding {
  name: string;
  /** The accent as given, and a version dark enough for text and focus rings on white. */
  accent: string;
  accentText: string;
  /** The colour of text on an accent-filled button. */
  onAccent: string;
  logo?: { path: string; type: string } | undefined;
  intro: Record<string, string>;
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** Darken step by step until the colour reads as text on white at AA (4.5:1). */
export function readableOnWhite(hex: string): string {
  let c = hex.toLowerCase();
  for (let i = 0; i < 40 && contrast(c, '#ffffff') < 4.5; i++) {
    c = '#' + [1, 3, 5].map((j) => Math.floor(parseInt(c.slice(j, j + 2), 16) * 0.9).toString(16).padStart(2, '0')).join('');
  }
  return c;
}

export function loadBranding(config: Config): Branding {
  const file = join(config.BRANDING_DIR, 'brand.json');
  const fromFile = existsSync(file) ? brandFile.parse(JSON.parse(readFileSync(file, 'utf8'))) : {};
  const accent = (config.BRAND_ACCENT ?? fromFile.accent ?? '#0b6e4f').toLowerCase();
  const accentText = readableOnWhite(accent);
  const logoName = config.BRAND_LOGO ?? fromFile.logo;
  let logo: Branding['logo'];
  if (logoName) {
    const path = isAbsolute(logoName) ? logoName : resolve(config.BRANDING_DIR, logoName);
    const type = LOGO_TYPES[extname(path).toLowerCase()];
    if (!type || !existsSync(path)) throw new Error(`BRAND_LOGO ${path}: must be an existing .svg, .png, .jpg or .webp file`);
    logo = { path, type };
  }
  const intro: Record<string, string> = { ...(fromFile.intro ?? {}) };
  if (config.BRAND_INTRO_ES) intro.es = config.BRAND_INTRO_ES;
  if (config.BRAND_INTRO_EN) intro.en = config.BRAND_INTRO_EN;
  return {
    name: config.BRAND_NAME ?? fromFile.name ?? 'Buzón',
    accent,
    accentText,
    onAccent: contrast(accentText, '#ffffff') >= 4.5 ? '#ffffff' : '#111111',
    logo,
    intro,
  };
}

/** The only stylesheet that varies by newsroom; everything else is public/buzon.css. */
export function brandCss(b: Branding): string {
  return `:root{--accent:${b.accentText};--on-accent:${b.onAccent};}\n`;
}
