/**
 * The tipster's pages and everything they load: the form, our stylesheet and scripts, the tus client,
 * ALTCHA's proof-of-work solver, the newsroom's colours and logo. All from our own origin, so a visit
 * touches no one else.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import express, { Router, type Request, type Response } from 'express';
import { langOf } from '../lang.ts';
import { formPage } from '../views/pages.ts';
import { brandCss, type Branding } from '../branding.ts';

// From src/intake/routes/ under tsx, or dist/src/intake/routes/ once built: public/ is at the project's root.
const PUBLIC_DIR = fileURLToPath(new URL(import.meta.url.endsWith('.js') ? '../../../../public/' : '../../../public/', import.meta.url));

/** A file from an installed package, so upgrading the package upgrades what we serve. */
function packageFile(path: string): { plain: Buffer; gzip: Buffer } {
  const plain = readFileSync(path);
  // Precompressed once (tus.min.js: 87 KB becomes about 25 KB over a slow circuit). These are public,
  // constant files, so compression cannot leak a secret the way it can for pages (BREACH); pages
  // stay uncompressed.
  return { plain, gzip: gzipSync(plain, { level: 9 }) };
}

function sendJs(file: { plain: Buffer; gzip: Buffer }) {
  return (req: Request, res: Response): void => {
    res.type('js').vary('Accept-Encoding');
    if (req.acceptsEncodings('gzip') === 'gzip') res.set('Content-Encoding', 'gzip').send(file.gzip);
    else res.send(file.plain);
  };
}

export function pageRoutes(brand: Branding): Router {
  const r = Router();
  // tus-js-client's browser build, and ALTCHA's own PBKDF2 solver, run by public/proof.js as a Web
  // Worker (the package's `altcha/workers/pbkdf2` export; see proof.js for why not the widget).
  const tus = packageFile(join(dirname(createRequire(import.meta.url).resolve('tus-js-client/package.json')), 'dist', 'tus.min.js'));
  const pow = packageFile(fileURLToPath(import.meta.resolve('altcha/workers/pbkdf2')));
  const css = brandCss(brand);

  r.get('/', (req, res) => {
    res.type('html').send(formPage(langOf(req)));
  });
  r.get('/brand.css', (_req, res) => {
    res.type('css').send(css);
  });
  r.get('/brand/logo', (_req, res) => {
    if (!brand.logo) return void res.status(404).end();
    res.type(brand.logo.type).sendFile(brand.logo.path, { dotfiles: 'deny', lastModified: false, etag: false, cacheControl: false });
  });
  r.get('/favicon.ico', (_req, res) => {
    if (brand.logo) res.redirect(303, '/brand/logo');
    else res.status(204).end();
  });
  r.get('/static/tus.min.js', sendJs(tus));
  r.get('/static/altcha-pbkdf2.js', sendJs(pow));
  r.use('/static', express.static(PUBLIC_DIR, { index: false, dotfiles: 'ignore', etag: false, lastModified: false, cacheControl: false, fallthrough: true }));
  return r;
}
