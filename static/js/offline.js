// Offline visit logging (core/offline.py): registers the service worker, keeps the visit forms
// of the work list on the phone, saves a visit made without a network in IndexedDB with its own
// one-time submission key, and sends it when the network returns (the key makes the server
// save it once, however often it arrives).
(function () {
  "use strict";
  var body = document.body;
  var user = body.dataset.user;
  var PAGES = "xq-pages";  // the cache of the pages kept on the phone
  var DB = "xinqiao-offline";  // the IndexedDB database of the visits waiting to be sent
  if (!user) {
    // Signed out: the pages kept for the last user go. After signing out on purpose (the
    // sign-out form leaves this mark), everything this site kept on the phone goes: the cached
    // pages and shell, the queue and the service worker. When the session merely ended, the
    // unsent visits stay, for their author to send after signing in again.
    var signedOut = localStorage.getItem("xq-signed-out");
    localStorage.removeItem("xq-kept");
    if (!("caches" in window)) { return; }
    if (!signedOut) { caches.delete(PAGES); return; }
    // Once the page and its files have loaded (the worker still answering for this page keeps
    // no more copies then): the worker first, then what it kept, then the queue.
    // A worker still installing (registered by the page just before) goes on filling its
    // cache after it is unregistered: it is let finish (5 s at most) before the caches go.
    var settled = function (registration) {
      var worker = registration.installing;
      if (!worker) { return Promise.resolve(); }
      return new Promise(function (resolve) {
        worker.addEventListener("statechange", function () {
          if (worker.state !== "installing") { resolve(); }
        });
        setTimeout(resolve, 5000);
      });
    };
    var wipe = function () {
      var workers = "serviceWorker" in navigator
        ? navigator.serviceWorker.getRegistrations().then(function (found) {
          return Promise.all(found.map(function (registration) {
            return settled(registration).then(function () { return registration.unregister(); });
          }));
        })
        : Promise.resolve();
      workers.catch(function () {}).then(function () {
        return caches.keys().then(function (keys) {
          return Promise.all(keys.map(function (key) { return caches.delete(key); }));
        });
      }).then(function () {
        return "indexedDB" in window && new Promise(function (resolve) {
          var request = indexedDB.deleteDatabase(DB);
          request.onsuccess = request.onerror = request.onblocked = resolve;
        });
      }).then(function () {
        localStorage.removeItem("xq-signed-out");
        localStorage.removeItem("xq-user");
        body.dataset.offlineWiped = "1";
      });
    };
    if (document.readyState === "complete") { wipe(); }
    else { window.addEventListener("load", wipe); }
    return;
  }
  localStorage.removeItem("xq-signed-out");  // a sign-out that did not go through
  if (!("serviceWorker" in navigator) || !("indexedDB" in window)) { return; }
  var texts = document.getElementById("offline-texts");
  var say = texts ? texts.dataset : {};
  var STORE = "visits";
  // A form kept on the phone is fetched again after this long (each fetch is a logged read).
  var REFRESH_MS = 12 * 3600 * 1000;

  // Registered once the page has loaded, so that the worker's copy of the shell comes from
  // the browser's cache rather than over the network a second time.
  function registerWorker() {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }
  if (document.readyState === "complete") { registerWorker(); }
  else { window.addEventListener("load", registerWorker); }

  // --- the queue (IndexedDB) -------------------------------------------------------------

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function store(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && result.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function mine() {
    return store("readonly", function (s) { return s.getAll(); }).then(function (all) {
      return (all || []).filter(function (item) { return item.user === user; });
    });
  }

  function put(item) { return store("readwrite", function (s) { return s.put(item); }); }
  function remove(key) { return store("readwrite", function (s) { return s.delete(key); }); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  // --- what the director sees --------------------------------------------------------------

  function text(node, value) { node.textContent = value; return node; }

  var waitingNow = 0;  // visits of this user waiting on the phone, for the sign-out form

  function showQueue(items) {
    waitingNow = items.filter(function (i) { return i.state === "waiting"; }).length;
    var box = document.getElementById("offline-queue");
    if (!box) { return; }
    box.replaceChildren();
    box.hidden = !items.length;
    if (!items.length) { return; }
    var waiting = items.filter(function (i) { return i.state === "waiting"; }).length;
    var title = document.createElement("div");
    title.className = "fw-semibold";
    text(title, (say.waitingTitle || "{n}").replace("{n}", items.length));
    box.appendChild(title);
    var list = document.createElement("ul");
    list.className = "mb-0 small";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.dataset.testid = "offline-visit";
      li.dataset.state = item.state;
      text(li, item.child + " · " + item.visitedOn + " · " +
        (item.state === "waiting" ? say.waiting : say.attention));
      if (item.message) {
        var why = document.createElement("div");
        why.className = item.state === "waiting" ? "text-secondary" : "text-danger";
        text(why, item.message);
        li.appendChild(why);
      }
      list.appendChild(li);
    });
    box.appendChild(list);
    if (waiting && navigator.onLine) {
      var hint = document.createElement("div");
      hint.className = "small text-secondary";
      text(hint, say.sending || "");
      box.appendChild(hint);
    }
  }

  function refresh() { return mine().then(showQueue); }

  // --- sending -----------------------------------------------------------------------------

  function csrfToken() {
    try { return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  var syncing = null;

  function sendOne(item) {
    return fetch(item.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Offline-Sync": "1",
                 "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(item.fields).toString()
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === 0) {
        return response.json().then(function (answer) {
          if (answer.status === "saved") { return remove(item.key).then(function () { return "sent"; }); }
          if (answer.status === "signed_out") {
            item.message = answer.message;
            return put(item).then(function () { return "stop"; });
          }
          item.state = "attention";
          item.message = (answer.messages || []).join(" ");
          return put(item).then(function () { return "kept"; });
        });
      }
      if (response.status === 404) {
        item.state = "attention";
        item.message = say.gone || "";
        return put(item).then(function () { return "kept"; });
      }
      if (response.redirected && response.url.indexOf("/accounts/login/") !== -1) {
        item.message = say.signIn || "";
        return put(item).then(function () { return "stop"; });
      }
      return "stop";  // a refused token, a server error: try again later
    });
  }

  function sync() {
    if (syncing || !navigator.onLine) { return syncing || Promise.resolve(); }
    syncing = mine().then(function (items) {
      var due = items.filter(function (i) { return i.state === "waiting"; });
      return due.reduce(function (chain, item) {
        return chain.then(function (outcome) {
          if (outcome === "stop") { return "stop"; }
          return sendOne(item).catch(function () { return "stop"; });  // the network went again
        });
      }, Promise.resolve("start"));
    }).then(refresh, refresh).then(function () { syncing = null; });
    return syncing;
  }
  window.xinqiaoOfflineSync = sync;  // for the tests: the sync a returning network starts

  // --- the visit form ----------------------------------------------------------------------

  function today() {
    var d = new Date();
    return d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" +
      ("0" + d.getDate()).slice(-2);
  }

  function keepVisit(form, event) {
    if (navigator.onLine) { return; }  // online, the form posts as usual
    event.preventDefault();
    var data = new FormData(form);
    if (data.get("note_confidential")) {
      window.alert(say.noConfidential || "");
      return;
    }
    data.delete("csrfmiddlewaretoken");  // the current page's token goes with the sending
    data.set("submission_key", newKey());
    var fields = [];
    data.forEach(function (value, name) { fields.push([name, String(value)]); });
    var item = {
      key: data.get("submission_key"), user: user, state: "waiting", message: "",
      url: form.getAttribute("action") || (location.pathname + location.search),
      child: form.dataset.childName || "", visitedOn: data.get("visited_on") || today(),
      fields: fields, savedAt: new Date().toISOString()
    };
    put(item).then(function () {
      var done = document.createElement("div");
      done.className = "alert alert-warning";
      done.setAttribute("role", "status");
      done.dataset.testid = "visit-kept";
      text(done, say.kept || "");
      var home = document.createElement("a");
      home.href = "/";
      home.className = "d-block mt-2";
      text(home, say.home || "");
      done.appendChild(home);
      form.replaceWith(done);
      refresh();
    });
  }

  var visitForm = document.querySelector("form[data-offline-visit]");
  if (visitForm) {
    var day = visitForm.querySelector('[name="visited_on"]');
    // A form kept on the phone since an earlier day offers today, as a fresh one would.
    if (day && day.value && day.value < today() && day.dataset.untouched !== "no") {
      day.value = today();
    }
    if (day) { day.addEventListener("change", function () { day.dataset.untouched = "no"; }); }
    visitForm.addEventListener("submit", function (event) { keepVisit(visitForm, event); });
  }

  // --- the work list: its visit forms kept on the phone, and nobody else's --------------

  function keepForms() {
    var links = Array.prototype.map.call(
      document.querySelectorAll("[data-offline-list] a[href*='/visits/new/']"),
      function (a) { return new URL(a.getAttribute("href"), location.href).href; }
    );
    var wanted = {};
    links.forEach(function (url) { wanted[url] = true; });
    return caches.open(PAGES).then(function (cache) {
      return cache.keys().then(function (requests) {
        var have = {};
        var drops = requests.map(function (request) {
          var path = new URL(request.url).pathname;
          have[request.url] = true;
          if (path.indexOf("/visits/new/") === 0 && !wanted[request.url]) {
            return cache.delete(request);
          }
          return null;
        });
        var stamp = JSON.parse(localStorage.getItem("xq-kept") || "{}");
        var now = Date.now();
        var fetches = links.filter(function (url) {
          return !have[url] || !stamp[url] || now - stamp[url] > REFRESH_MS;
        }).map(function (url) {
          return fetch(url, { credentials: "same-origin" }).then(function (response) {
            if (response.ok && !response.redirected) {
              stamp[url] = now;
              return cache.put(url, response);
            }
            return null;
          }).catch(function () {});
        });
        // The work list itself, when the page was opened before the service worker ran (it
        // keeps each later opening of it).
        var home = new URL("/", location.href).href;
        if (!have[home]) {
          fetches.push(fetch(home, { credentials: "same-origin" }).then(function (response) {
            return response.ok && !response.redirected ? cache.put(home, response) : null;
          }).catch(function () {}));
        }
        Object.keys(stamp).forEach(function (url) { if (!wanted[url]) { delete stamp[url]; } });
        return Promise.all(drops.concat(fetches)).then(function () {
          localStorage.setItem("xq-kept", JSON.stringify(stamp));
        });
      });
    });
  }

  // Pages kept for someone else who used this phone are not shown to this user.
  if (localStorage.getItem("xq-user") !== user) {
    localStorage.removeItem("xq-kept");
    caches.delete(PAGES).then(function () { localStorage.setItem("xq-user", user); });
  }
  if (navigator.onLine && document.querySelector("[data-offline-list]")) {
    keepForms().catch(function () {}).then(function () { body.dataset.offlineReady = "1"; });
  }

  // --- signing out erases the phone's copy: warn about visits not yet sent ---------------
  // The form posts as any form does (nothing here can hold the sign-out back); it leaves a mark
  // for the signed-out page, which erases what the phone kept (the top of this file).

  document.querySelectorAll("form[data-sign-out]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (waitingNow && !window.confirm((say.signOutWarning || "{n}").replace("{n}", waitingNow))) {
        event.preventDefault();
        return;
      }
      localStorage.setItem("xq-signed-out", "1");
    });
  });

  window.addEventListener("online", sync);
  refresh().then(sync);
})();
