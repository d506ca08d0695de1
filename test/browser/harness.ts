/**
 * Browser-test harness: Debian's chromium driven by playwright-core, a Buzón listening on a real
 * port, and a recorder for every request the browser makes and every cookie it is offered, so each
 * test can prove the page talked to its own origin only and left nothing behind.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startService, type TestService } from '../support/service.ts';
import { makeEditor, writeKey, type GpgEditor } from '../support/gpg.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

export const SCREENSHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');

export interface Site {
  svc: TestService;
  editor: GpgEditor;
  origin: string;
  server: Server;
  stop(): Promise<void>;
}

/** A whole Buzón with one gpg-made editor key, listening on 127.0.0.1; stop() removes its folders and the key's. */
export async function startSite(env: Record<string, string> = {}): Promise<Site> {
  const editor = makeEditor('cv25519');
  const root = tempDir('buzon-browser-');
  mkdirSync(join(root, 'keys'));
  writeKey(join(root, 'keys'), 'editor.asc', editor.publicKey);
  const svc = await startService({ root, env: { PARTIALS_DIR: join(root, 'partials'), ...env } });
  const server = svc.intake.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    svc, editor, origin, server,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await svc.stop();
      removeDirs(editor.home);
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  // playwright-core gives every launch a fresh, empty profile (its own --user-data-dir).
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** Contexts with JavaScript off, whose pages axe must audit through a twin (see axeViolations). */
const scriptless = new WeakSet<BrowserContext>();

export interface Recorded {
  context: BrowserContext;
  requests: { method: string; url: string; headers: Record<string, string> }[];
  setCookies: string[];
  /** Body bytes of every response, by URL, for the page-weight check. */
  sizes: Map<string, number>;
}

export async function recordedContext(browser: Browser, opts: { javaScriptEnabled: boolean; locale?: string; width?: number }): Promise<Recorded> {
  const context = await browser.newContext({
    javaScriptEnabled: opts.javaScriptEnabled,
    locale: opts.locale ?? 'es-MX',
    viewport: { width: opts.width ?? 360, height: 780 },
  });
  if (!opts.javaScriptEnabled) scriptless.add(context);
  const rec: Recorded = { context, requests: [], setCookies: [], sizes: new Map() };
  context.on('request', (r) => rec.requests.push({ method: r.method(), url: r.url(), headers: r.headers() }));
  context.on('response', (r) => {
    void r.headerValue('set-cookie').then((v) => { if (v) rec.setCookies.push(v); }).catch(() => {});
    void r.body().then((b) => rec.sizes.set(r.url(), b.length)).catch(() => {});
  });
  return rec;
}

const AXE = readFileSync(join(process.cwd(), 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

export interface AxeViolation { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }

async function runAxe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: AxeViolation[]; passes: unknown[] }> } }).axe;
    const res = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
    // An audit that checked nothing (an empty page, a failed transplant) must not pass as clean.
    if (res.passes.length < 10) throw new Error(`axe checked only ${res.passes.length} rules`);
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
}

/**
 * axe-core, WCAG 2.0–2.2 A and AA plus best practice. It is evaluated through the DevTools protocol
 * rather than added as an inline <script>, which our CSP rightly refuses. With JavaScript off, the
 * page's timers never fire and axe cannot finish, so the page's DOM is audited in a twin page of the
 * same origin with scripting on: markup inserted with innerHTML never runs scripts, so the twin shows
 * exactly what the JavaScript-less tipster gets, with our stylesheets for the contrast checks.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!scriptless.has(page.context())) return runAxe(page);
  const html = await page.evaluate('document.documentElement.innerHTML') as string;
  const lang = await page.getAttribute('html', 'lang');
  const browser = page.context().browser()!;
  const twin = await browser.newContext({ javaScriptEnabled: true, viewport: page.viewportSize() ?? { width: 360, height: 780 } });
  try {
    const p = await twin.newPage();
    await p.goto(new URL('/healthz', page.url()).href);
    await p.evaluate(([h, l]) => {
      document.documentElement.setAttribute('lang', l ?? '');
      document.documentElement.innerHTML = h ?? '';
    }, [html, lang]);
    await p.waitForFunction(() => document.styleSheets.length >= 2);
    return await runAxe(p);
  } finally {
    await twin.close();
  }
}

export function describeViolations(v: AxeViolation[]): string {
  return v.map((x) => `${x.id} (${x.impact}): ${x.help} at ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n');
}

/** Every request went to the service's own origin: no font, script, style or beacon elsewhere. */
export function foreignRequests(rec: Recorded, origin: string): string[] {
  return rec.requests.map((r) => r.url).filter((u) => !u.startsWith(origin + '/'));
}
