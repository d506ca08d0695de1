/**
 * Headers on every response a tipster's browser sees.
 *
 * Threats: a third-party request (font, script, analytics) tells someone else that this browser
 * visited a tip line; a Referer header tells the next site where the tipster came from; a cached page
 * or a cookie is evidence on a seized phone; a framing page can trick a tipster into clicking;
 * another origin could read our responses (Spectre-style side channels) or embed our resources.
 * Defence: everything is ours ('self' only, never inline), nothing is cached or remembered, nothing
 * is framed or shared across origins, and no powerful browser feature is ever offered.
 * Limit: headers protect the browser side only; what the network sees is Tor's job, hence the
 * optional Onion-Location that invites Tor Browser to our onion service.
 */
import type { NextFunction, Request, Response } from 'express';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  // The proof-of-work solver (public/proof.js) runs as a Web Worker from our origin. Stated rather
  // than left to fallback chains, which differ between browsers (child-src, then script-src).
  "worker-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Every feature off: the form needs none of them, and a prompt for one would only alarm. Only names
 * Chromium and Firefox know, so the header does not fill the console with warnings.
 */
export const PERMISSIONS_POLICY = [
  'accelerometer', 'autoplay', 'browsing-topics', 'camera', 'display-capture', 'encrypted-media',
  'fullscreen', 'geolocation', 'gyroscope', 'hid', 'idle-detection', 'magnetometer', 'microphone',
  'midi', 'payment', 'picture-in-picture', 'publickey-credentials-create', 'publickey-credentials-get',
  'screen-wake-lock', 'serial', 'usb', 'xr-spatial-tracking',
].map((f) => `${f}=()`).join(', ');

export function securityHeaders(opts: { onionLocation?: string | undefined } = {}) {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cache-Control', 'no-store, max-age=0');
    res.setHeader('Pragma', 'no-cache');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
    res.setHeader('X-DNS-Prefetch-Control', 'off');
    res.removeHeader('X-Powered-By');
    // Only on pages: Tor Browser reads it from the top-level document.
    if (opts.onionLocation && (req.method === 'GET' || req.method === 'HEAD')) {
      res.setHeader('Onion-Location', opts.onionLocation.replace(/\/+$/, '') + req.originalUrl);
    }
    next();
  };
}
