// Progressive enhancement only: every feature works without this file.
(function () {
  "use strict";

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  // For other areas' scripts: fetch() with the CSRF header and same-origin credentials.
  window.paperboy = {
    csrfToken: csrfToken,
    post: function (url, body) {
      var opts = { method: "POST", credentials: "same-origin",
                   headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" } };
      if (body instanceof FormData) { opts.body = body; }
      else if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
      return fetch(url, opts);
    }
  };

  // Instant search: refresh results while typing (debounced), keep the URL shareable.
  function instantSearch() {
    var form = document.getElementById("search-form");
    var out = document.getElementById("search-results");
    if (!form || !out || !window.fetch) return;
    var timer = null, seq = 0;
    function run() {
      var params = new URLSearchParams(new FormData(form));
      var mine = ++seq;
      history.replaceState(null, "", "/search?" + params.toString());
      params.set("partial", "1");
      fetch("/search?" + params.toString(), { headers: { "Accept": "text/html" } })
        .then(function (r) { return r.text(); })
        .then(function (html) { if (mine === seq) { out.innerHTML = html; } })
        .catch(function () {});
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 180);
    });
    form.addEventListener("change", function () { clearTimeout(timer); run(); });
  }

  // Similar papers: the paper page renders at once; the neighbours arrive right after.
  function similarPapers() {
    var box = document.querySelector("[data-similar-src]");
    if (!box || !window.fetch) return;
    var body = box.querySelector(".similar-body");
    fetch(box.getAttribute("data-similar-src"), { headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { body.innerHTML = html; box.setAttribute("data-loaded", "1"); })
      .catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    instantSearch();
    similarPapers();
  });
})();
