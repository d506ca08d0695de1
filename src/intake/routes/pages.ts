/**
 * The tipster's pages and everything they load: the form, our stylesheet and script, the tus client,
 * the newsroom's colours and logo. All from our own origin, so a visit touches no one else.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import express, { Router } from 'express';
import { langOf } from '../lang.ts';
import { formPage } from '../views/pages.ts';
import { brandCss, type Branding } from '../branding.ts';

const PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

/** tus-js-client's browser build, from node_modules, so upgrading the package upgrades what we serve. */
function tusClient(): { plain: Buffer; gzip: Buffer } {
  const pkg = createRequire(import.meta.url).resolve('tus-js-client/package.json');
  const plain = readFileSync(join(dirname(pkg), 'dist', 'tus.min.js'));
  // Precompressed once: 87 KB becomes about 25 KB over a slow circuit. It is a public, constant file,
  // so compression cannot leak a secret the way it can for pages (BREACH); pages stay uncompressed.
  return { plain, gzip: gzipSync(plain, { level: 9 }) };
}

export function pageRoutes(brand: Branding): Router {
  const r = Router();
  const tus = tusClient();
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
  r.get('/static/tus.min.js', (req, res) => {
    res.type('js').vary('Accept-Encoding');
    if (req.acceptsEncodings('gzip') === 'gzip') res.set('Content-Encoding', 'gzip').send(tus.gzip);
    else res.send(tus.plain);
  });
  r.use('/static', express.static(PUBLIC_DIR, { index: false, dotfiles: 'ignore', etag: false, lastModified: false, cacheControl: false, fallthrough: true }));
  return r;
}
