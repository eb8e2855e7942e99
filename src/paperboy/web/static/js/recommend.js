// "More / less like this" without a page reload. Without this file the forms work as plain POSTs.
(function () {
  "use strict";
  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  function show(id, signal) {
    document.querySelectorAll("[data-signal-for]").forEach(function (box) {
      if (box.getAttribute("data-signal-for") !== id) return;
      box.querySelectorAll("form[data-signal]").forEach(function (f) {
        var on = f.getAttribute("data-signal") === signal;
        var b = f.querySelector("button");
        if (!b) return;
        b.classList.toggle("on", on);
        b.setAttribute("aria-pressed", on ? "true" : "false");
      });
    });
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-signal]") || !window.fetch) return;
    var box = form.closest("[data-signal-for]");
    if (!box) return;
    event.preventDefault();
    var id = box.getAttribute("data-signal-for");
    var kind = form.getAttribute("data-signal");
    var button = form.querySelector("button");
    var pressed = button && button.getAttribute("aria-pressed") === "true";
    if (button) button.disabled = true;
    var url = "/api/v1/papers/" + id.split("/").map(encodeURIComponent).join("/") + "/signal";
    fetch(url, { method: "POST", credentials: "same-origin",
                 headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json",
                            "Content-Type": "application/json" },
                 body: JSON.stringify({ signal: pressed ? null : kind }) })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) { show(data.paper_id, data.signal); })
      .catch(function () { form.submit(); })  // fall back to the plain form POST
      .finally(function () { if (button) button.disabled = false; });
  });
})();
