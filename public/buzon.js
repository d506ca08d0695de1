/*
 * Buzón: what the tip form gains when JavaScript is on. Without it the form is a plain multipart POST
 * and works the same; this only adds, per file, a kind and size check before anything is sent, a
 * progress bar, a cancel button, and resumable uploads (tus) that pick up where a dropped circuit
 * left them.
 *
 * Privacy: nothing is stored in the browser. tus-js-client would remember uploads in localStorage to
 * resume after a reload; that record would tell whoever holds the phone that a tip was sent, so it is
 * off (storeFingerprintForResuming: false): uploads resume while this page stays open, not after.
 * Everything loads from our own origin; the tus client is fetched only when there is a file to send.
 * Before the form is submitted, public/proof.js puts its proof of work in the hidden `altcha` field.
 */
(function () {
  'use strict';
  var form = document.getElementById('tip');
  if (!form || !window.Blob || !window.Promise || !form.getAttribute('data-js')) return;
  var cfg = JSON.parse(form.getAttribute('data-js'));
  var M = cfg.messages;
  var input = document.getElementById('files');
  var list = document.getElementById('file-list');
  var status = document.getElementById('upload-status');
  var hidden = form.querySelector('input[name="uploads"]');
  var button = form.querySelector('button[type="submit"]');
  var ALIASES = { jpeg: 'jpg', jpe: 'jpg', tiff: 'tif', heif: 'heic', hevc: 'mp4', qt: 'mov', opus: 'opus', weba: 'webm', mpeg: 'mp3' };
  var entries = [];
  var tusPromise = null;
  /** public/proof.js: the proof of work, solved while the tipster writes; absent where it cannot run. */
  var proof = window.buzonProof;
  var sending = false;

  function fmt(msg, params) {
    return String(msg).replace(/\{(\w+)\}/g, function (_, k) { return params && k in params ? params[k] : ''; });
  }
  function size(bytes) {
    var units = [[1073741824, 'GB'], [1048576, 'MB'], [1024, 'KB']];
    for (var i = 0; i < units.length; i++) {
      if (bytes >= units[i][0]) return (Math.round((bytes / units[i][0]) * 10) / 10).toLocaleString(document.documentElement.lang) + ' ' + units[i][1];
    }
    return bytes + ' B';
  }
  function kindOk(file) {
    var m = /\.([a-z0-9]{1,5})$/i.exec(file.name);
    if (m) {
      var ext = m[1].toLowerCase();
      ext = ALIASES[ext] || ext;
      return cfg.extensions.indexOf(ext) !== -1;
    }
    return /^(image|video|audio)\//.test(file.type || '');
  }
  function say(text) { status.textContent = text; }

  function loadTus() {
    if (!tusPromise) {
      tusPromise = new Promise(function (resolve, reject) {
        if (window.tus) return resolve(window.tus);
        var s = document.createElement('script');
        s.src = '/static/tus.min.js';
        s.onload = function () { window.tus ? resolve(window.tus) : reject(new Error('tus')); };
        s.onerror = function () { tusPromise = null; reject(new Error('tus')); };
        document.head.appendChild(s);
      });
    }
    return tusPromise;
  }

  function setState(entry, text, bad) {
    entry.state.textContent = text;
    entry.li.className = bad ? 'bad' : '';
  }

  function active() {
    return entries.filter(function (e) { return !e.cancelled; });
  }

  /** Problems with the selection as a whole: too many files, or too much in all. */
  function overall() {
    var files = active();
    var total = files.reduce(function (n, e) { return n + e.file.size; }, 0);
    if (files.length > cfg.maxFiles) return M.too_many;
    if (total > cfg.maxTipBytes) return M.tip_too_large;
    return '';
  }

  function cancel(entry) {
    entry.cancelled = true;
    if (entry.upload && !entry.done) entry.upload.abort(true).catch(function () {});
    entry.bar.value = 0;
    setState(entry, M.cancelled, false);
    entry.button.hidden = true;
    var problem = overall();
    say(problem);
    if (active().length === 0 && !sending) input.value = '';
  }

  function render() {
    entries = [];
    list.textContent = '';
    var files = Array.prototype.slice.call(input.files || []);
    files.forEach(function (file) {
      var li = document.createElement('li');
      var name = document.createElement('div');
      name.className = 'name';
      name.textContent = file.name;
      var bar = document.createElement('progress');
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute('aria-label', file.name);
      var row = document.createElement('div');
      row.className = 'row';
      var state = document.createElement('span');
      state.className = 'state';
      var btn = document.createElement('button');
      btn.type = 'button';
      row.appendChild(state);
      row.appendChild(btn);
      li.appendChild(name);
      li.appendChild(bar);
      li.appendChild(row);
      list.appendChild(li);
      var entry = { file: file, li: li, bar: bar, state: state, button: btn, problem: '', cancelled: false, done: false, id: '' };
      if (file.size === 0) entry.problem = M.empty;
      else if (file.size > cfg.maxFileBytes) entry.problem = M.too_large;
      else if (!kindOk(file)) entry.problem = M.bad_kind;
      setState(entry, entry.problem || size(file.size) + ' · ' + M.ready, !!entry.problem);
      // A file refused before upload is removed, not cancelled: nothing of it was sent.
      var verb = entry.problem ? M.remove : M.cancel;
      btn.textContent = verb;
      btn.setAttribute('aria-label', verb + ': ' + file.name);
      btn.addEventListener('click', function () { cancel(entry); });
      entries.push(entry);
    });
    list.hidden = files.length === 0;
    say(overall());
    if (files.length > 0) loadTus().catch(function () {});
  }

  function uploadOne(tus, entry) {
    return new Promise(function (resolve, reject) {
      var upload = new tus.Upload(entry.file, {
        endpoint: '/uploads',
        metadata: { filename: entry.file.name },
        chunkSize: 8 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000, 10000, 15000, 20000, 30000, 30000, 30000, 60000, 60000, 60000, 60000, 60000, 60000, 60000, 60000, 60000, 60000],
        storeFingerprintForResuming: false,
        removeFingerprintOnSuccess: true,
        onShouldRetry: function (err) {
          var code = err && err.originalResponse ? err.originalResponse.getStatus() : 0;
          if (code === 404 || code === 410) return false;
          if (code >= 400 && code < 500 && code !== 409 && code !== 423) return false;
          setState(entry, M.retrying, false);
          say(M.retrying);
          return true;
        },
        onProgress: function (sent, total) {
          var pct = total ? Math.floor((sent / total) * 100) : 0;
          entry.bar.value = pct;
          setState(entry, fmt(M.uploading, { percent: pct }), false);
        },
        onSuccess: function () {
          entry.done = true;
          entry.bar.value = 100;
          entry.id = String(upload.url || '').split('/').pop();
          entry.button.hidden = true;
          setState(entry, M.done, false);
          resolve();
        },
        onError: function (err) {
          if (entry.cancelled) return resolve();
          var code = err && err.originalResponse ? err.originalResponse.getStatus() : 0;
          setState(entry, code === 404 || code === 410 ? M.lost : M.failed, true);
          reject(err);
        },
      });
      entry.upload = upload;
      upload.start();
    });
  }

  input.addEventListener('change', render);

  form.addEventListener('submit', function (ev) {
    if (sending) { ev.preventDefault(); return; }
    var files = active();
    var bad = files.filter(function (e) { return e.problem; });
    var problem = overall();
    if (bad.length || problem) {
      ev.preventDefault();
      say(problem || M.fix);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    // Cancelled files must not ride along in the plain POST either.
    if (files.length === 0) {
      if (entries.length) input.disabled = true;
      // With the proof of work already solved the plain POST goes on at once, carrying it.
      if (!proof || proof.take()) return;
      ev.preventDefault();
      sending = true;
      button.disabled = true;
      proof.wait(function () { form.submit(); });
      return;
    }
    ev.preventDefault();
    sending = true;
    button.disabled = true;
    input.disabled = true;
    loadTus().then(function (tus) {
      return files.reduce(function (p, e) {
        return p.then(function () { return e.cancelled ? null : uploadOne(tus, e); });
      }, Promise.resolve());
    }, function () {
      // The tus client did not load: send the files in the plain POST, as without JavaScript.
      input.disabled = false;
      if (proof) proof.wait(function () { form.submit(); });
      else form.submit();
      return new Promise(function () {});
    }).then(function () {
      var ids = (hidden.value ? hidden.value.split('\n') : []).concat(
        active().filter(function (e) { return e.done && e.id; }).map(function (e) { return e.id; }));
      hidden.value = ids.join('\n');
      say(M.sending);
      if (proof) proof.wait(function () { form.submit(); });
      else form.submit();
    }, function () {
      sending = false;
      button.disabled = false;
      input.disabled = false;
      say(M.fix);
    });
  });
})();
