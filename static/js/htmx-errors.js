// When an htmx request fails, say so instead of leaving the page silently as it was: the alert
// #htmx-error (in base.html, which also holds its translated texts) shows the server's own
// message when it sent one (a JSON "detail", or the first paragraph of an error page), else a
// general one with the status; a network failure has its own text.
(function () {
  "use strict";

  function alertBox() {
    return document.getElementById("htmx-error");
  }

  function serverMessage(xhr) {
    var type = (xhr.getResponseHeader("Content-Type") || "").toLowerCase();
    var body = xhr.responseText || "";
    if (type.indexOf("json") !== -1) {
      try {
        var data = JSON.parse(body);
        if (data && typeof data.detail === "string") { return data.detail; }
      } catch (ignored) { /* not JSON after all */ }
      return "";
    }
    if (type.indexOf("html") !== -1 && body) {
      var page = new DOMParser().parseFromString(body, "text/html");
      var node = page.querySelector("[data-error-message]") ||
        page.querySelector(".invalid-feedback, .errorlist") ||
        page.querySelector("main p") || page.querySelector("body p");
      return node ? node.textContent.replace(/\s+/g, " ").trim() : "";
    }
    return "";
  }

  function show(text) {
    var box = alertBox();
    if (!box) { return; }
    box.querySelector("[data-htmx-error-text]").textContent = text;
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("htmx:responseError", function (event) {
    var box = alertBox();
    if (!box) { return; }
    var xhr = event.detail.xhr;
    var message = serverMessage(xhr) || box.dataset.statusText + " (" + xhr.status + ")";
    show(box.dataset.titleText + " " + message);
  });

  document.addEventListener("htmx:sendError", function () {
    var box = alertBox();
    if (box) { show(box.dataset.titleText + " " + box.dataset.networkText); }
  });

  document.addEventListener("htmx:beforeRequest", function () {
    var box = alertBox();
    if (box) { box.hidden = true; }  // a new try: the old error no longer applies
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-htmx-error-close]")) {
      var box = alertBox();
      if (box) { box.hidden = true; }
    }
  });
}());
