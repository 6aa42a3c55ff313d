{% autoescape off %}// The service worker of Xinqiao (core/offline.py): the app shell and the child director's
// pages (home with the work list, the visit forms of its children) work without a network.
"use strict";
var VERSION = "{{ version }}";
var SHELL = "xq-shell-" + VERSION;
var PAGES = "xq-pages";
var SHELL_FILES = {{ shell }};
var STATIC_PREFIX = {{ static_prefix }};
var HASHED = {{ hashed }};
var OFFLINE_PAGE = {{ offline_page }};
var VISIT_FORM = /^\/visits\/new\/\d+\/$/;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL)
      .then(function (cache) { return cache.addAll(SHELL_FILES); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) {
        return key.indexOf("xq-shell-") === 0 && key !== SHELL;
      }).map(function (key) { return caches.delete(key); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function kept(request) {
  return caches.open(PAGES).then(function (cache) { return cache.match(request.url); });
}

function fromNetworkKeeping(request) {
  return fetch(request).then(function (response) {
    // Only a page the user could open (not a sign-in page they were sent to) is kept.
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) { cache.put(request.url, copy); });
    }
    return response;
  });
}

// The network first, always (the page must be the signed-in user's own): the copy kept on the
// phone only when there is no network at all.
function page(request) {
  return fromNetworkKeeping(request).catch(function () {
    return kept(request).then(function (copy) {
      return copy || new Response(OFFLINE_PAGE, {
        status: 503, headers: { "Content-Type": "text/html; charset=utf-8" }
      });
    });
  });
}

function asset(request) {
  var shell = caches.open(SHELL);
  if (HASHED) {  // a hashed name never changes: the kept copy is the file
    return caches.match(request).then(function (hit) { return hit || fetch(request); });
  }
  return fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      shell.then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request).then(function (hit) { return hit || Response.error(); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(asset(request));
  } else if (request.mode === "navigate" &&
             (url.pathname === "/" || VISIT_FORM.test(url.pathname))) {
    event.respondWith(page(request));
  }
});
{% endautoescape %}
