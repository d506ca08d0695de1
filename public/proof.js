/*
 * Buzón: the proof of work of the JavaScript lane (README, "Abuse control"). While the tipster writes,
 * the browser fetches an ALTCHA challenge from /altcha/challenge and solves it in the background; the
 * solution goes into a hidden `altcha` field when the tip is sent, and the server admits the tip in
 * the proof lane. Without JavaScript none of this exists and the form's signed ticket is used instead.
 *
 * The solving is ALTCHA's own: /static/altcha-pbkdf2.js is the `altcha` package's PBKDF2 worker
 * (altcha/workers/pbkdf2), served by us, which derives keys with WebCrypto (crypto.subtle), so it is
 * fast even where the JIT is off (Tor Browser, Safer). We drive it with the same messages and the same
 * interleaved counters as altcha-lib's solveChallengeWorkers. We do not load the ALTCHA widget
 * (<altcha-widget>): its CSP-friendly build is 83 KB of script and 15 KB of CSS, which alone would
 * double a page that must stay under 100 KB on a slow Tor circuit, and it brings its own "I'm not a
 * robot" checkbox, strings and styles, which we would have to translate, restyle and audit for WCAG,
 * for a check the tipster never needs to touch. This file is 5 KB and speaks through our own status line.
 *
 * Privacy: the payload holds only the signed challenge and the counter and key found; the solving
 * time the worker reports (which says how fast the device is) is left out. Nothing is stored.
 * If anything fails (no WebCrypto outside a secure context, a worker refused), the tip is sent
 * without a proof, in the ticket lane, as if JavaScript were off.
 */
(function () {
  'use strict';
  var form = document.getElementById('tip');
  var status = document.getElementById('check-status');
  if (!form || !status || !form.getAttribute('data-js') || !window.Worker || !window.fetch || !window.Promise ||
    !window.crypto || !window.crypto.subtle || !window.btoa) return;
  var M = JSON.parse(form.getAttribute('data-js')).messages;
  var field = document.createElement('input');
  field.type = 'hidden';
  field.name = 'altcha';
  form.appendChild(field);

  var WORKERS = Math.max(1, Math.min(2, navigator.hardwareConcurrency || 1));
  /** How long the worker may search; at eight times the base work a slow phone needs tens of seconds. */
  var SOLVE_MS = 180000;
  /** How long pressing send waits for an unfinished proof before sending in the ticket lane. */
  var SEND_WAIT_MS = 45000;
  /** A proof this close to its challenge's expiry is solved again rather than sent. */
  var MARGIN_MS = 60000;
  var MAX_FAILURES = 2;

  /** The current run: { promise, payload, expires, used }. */
  var run = null;
  var failures = 0;

  function say(text) { status.textContent = text; }

  function fresh(r) {
    return !!r && !!r.payload && !r.used && (!r.expires || r.expires - Date.now() > MARGIN_MS);
  }

  /** Races WORKERS workers over interleaved counters; the first solution wins and all are stopped. */
  function solve(challenge) {
    return new Promise(function (resolve, reject) {
      var workers = [];
      var left = WORKERS;
      var settled = false;
      function stop() { workers.forEach(function (w) { w.terminate(); }); }
      function lost() {
        if (--left === 0 && !settled) { settled = true; stop(); reject(new Error('no solution')); }
      }
      for (var i = 0; i < WORKERS; i++) {
        var w;
        try {
          w = new Worker('/static/altcha-pbkdf2.js');
        } catch (e) {
          lost();
          continue;
        }
        workers.push(w);
        (function (w) {
          var done = false;
          w.onmessage = function (ev) {
            if (done || settled) return;
            done = true;
            var s = ev.data;
            if (s && typeof s.counter === 'number' && typeof s.derivedKey === 'string' && s.derivedKey) {
              settled = true;
              stop();
              resolve({ counter: s.counter, derivedKey: s.derivedKey });
            } else lost();
          };
          w.onerror = function () { if (!done) { done = true; lost(); } };
        })(w);
        w.postMessage({ type: 'work', challenge: challenge, counterMode: 'uint32', counterStart: i, counterStep: WORKERS, timeout: SOLVE_MS });
      }
    });
  }

  /** Starts a proof unless a fresh one is ready or on its way; resolves to the payload, or '' on failure. */
  function start() {
    if (run && (fresh(run) || (!run.payload && !run.failed))) return run.promise;
    if (failures >= MAX_FAILURES) return Promise.resolve('');
    var r = { promise: null, payload: '', expires: 0, used: false, failed: false };
    run = r;
    say(M.check_running);
    r.promise = fetch('/altcha/challenge', { cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (res) {
        if (!res.ok) throw new Error('challenge ' + res.status);
        return res.json();
      })
      .then(function (challenge) {
        return solve(challenge).then(function (solution) {
          var p = challenge.parameters || {};
          r.expires = p.expiresAt ? p.expiresAt * 1000 : 0;
          r.payload = btoa(JSON.stringify({ challenge: challenge, solution: solution }));
          if (run === r) say(M.check_done);
          return r.payload;
        });
      })
      .catch(function () {
        r.failed = true;
        failures++;
        if (run === r) say('');
        return '';
      });
    return r.promise;
  }

  /** Puts a fresh proof in the hidden field, now, if there is one. A proof is good for one tip only. */
  function take() {
    if (!fresh(run)) {
      field.value = '';
      return false;
    }
    field.value = run.payload;
    run.used = true;
    return true;
  }

  /** Fills the field with a proof, waiting for one (at most SEND_WAIT_MS), then calls `then`. */
  function wait(then) {
    if (take()) return then();
    say(M.check_wait);
    var over = false;
    var timer = setTimeout(function () { if (!over) { over = true; field.value = ''; say(''); then(); } }, SEND_WAIT_MS);
    start().then(function () {
      if (over) return;
      over = true;
      clearTimeout(timer);
      take();
      then();
    });
  }

  // Work starts when the tipster starts on the form, not for every reader of the page; a refused
  // tip comes back on a form that is about to be sent again, so there it starts at once.
  function begin() {
    form.removeEventListener('focusin', begin);
    form.removeEventListener('change', begin);
    start();
  }
  form.addEventListener('focusin', begin);
  form.addEventListener('change', begin);
  if (document.querySelector('.error-summary')) begin();
  // Back from the next page, the proof in the field may already have been spent.
  window.addEventListener('pageshow', function (ev) {
    if (ev.persisted) { field.value = ''; run = null; failures = 0; start(); }
  });

  window.buzonProof = { take: take, wait: wait, start: start };
})();
