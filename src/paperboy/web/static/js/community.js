// Upvotes without a page reload. Without this file the same forms work as plain POSTs.
(function () {
  "use strict";
  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-upvote]") || !window.fetch) return;
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    var id = form.getAttribute("data-upvote");
    var url = "/api/v1/papers/" + id.split("/").map(encodeURIComponent).join("/") + "/upvote";
    fetch(url, { method: "POST", credentials: "same-origin",
                 headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        document.querySelectorAll('form[data-upvote="' + CSS.escape(id) + '"]').forEach(function (f) {
          var b = f.querySelector("button");
          if (!b) return;
          b.classList.toggle("voted", data.upvoted);
          b.setAttribute("aria-pressed", data.upvoted ? "true" : "false");
          var n = b.querySelector(".n");
          if (n) n.textContent = String(data.upvotes);
          var label = b.querySelector(".label");
          if (label) label.textContent = data.upvoted ? "Upvoted" : "Upvote";
        });
        var local = document.querySelector(".vote-split .local");
        if (local) local.textContent = String(data.upvotes_local);
      })
      .catch(function () { form.submit(); })  // fall back to the plain form POST
      .finally(function () { if (button) button.disabled = false; });
  });
})();
