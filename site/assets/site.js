// Progressive enhancement for the guide: copy buttons on code blocks and the
// "your values" form. Every page reads fine without this script.
(function () {
  'use strict';

  // Copy buttons: copy the code exactly as shown, without the final newline.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand('copy');
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error('copy failed')); }
    });
  }

  document.querySelectorAll('.code').forEach(function (box) {
    var button = box.querySelector('button.copy');
    var code = box.querySelector('code');
    if (!button || !code) { return; }
    button.hidden = false;
    button.addEventListener('click', function () {
      copyText(code.textContent.replace(/\n$/, '')).then(function () {
        say(button, 'Copied');
      }, function () {
        say(button, 'Press Ctrl+C');
      });
    });
  });

  function say(button, text) {
    button.textContent = text;
    clearTimeout(button.timer);
    button.timer = setTimeout(function () { button.textContent = 'Copy'; }, 2000);
  }

  // The "your values" form fills the marked values in every snippet and link.
  var box = document.getElementById('values-box');
  var form = document.getElementById('values');
  if (!box || !form) { return; }
  var key = 'guide-values';
  var inputs = Array.prototype.slice.call(form.querySelectorAll('input[name]'));

  function load() {
    try { return JSON.parse(localStorage.getItem(key) || '{}') || {}; } catch (e) { return {}; }
  }
  function save(values) {
    try { localStorage.setItem(key, JSON.stringify(values)); } catch (e) { /* storage off: values last for this page */ }
  }
  function apply() {
    var shown = {};
    var typed = {};
    inputs.forEach(function (input) {
      var value = input.value.trim();
      typed[input.name] = value;
      shown[input.name] = value || input.getAttribute('data-placeholder');
    });
    document.querySelectorAll('span.v[data-var]').forEach(function (span) {
      var name = span.getAttribute('data-var');
      if (Object.prototype.hasOwnProperty.call(shown, name)) {
        span.textContent = shown[name];
      }
    });
    document.querySelectorAll('a[data-href]').forEach(function (link) {
      link.href = link.getAttribute('data-href').replace(/\{(\w+)\}/g, function (hole, name) {
        return Object.prototype.hasOwnProperty.call(shown, name) ? encodeURIComponent(shown[name]) : hole;
      });
    });
    return typed;
  }

  var saved = load();
  inputs.forEach(function (input) {
    if (typeof saved[input.name] === 'string') { input.value = saved[input.name]; }
  });
  form.addEventListener('input', function () { save(apply()); });
  form.addEventListener('submit', function (event) { event.preventDefault(); });
  form.addEventListener('reset', function (event) {
    event.preventDefault();
    inputs.forEach(function (input) { input.value = ''; });
    save(apply());
  });
  box.hidden = false;
  apply();
})();
