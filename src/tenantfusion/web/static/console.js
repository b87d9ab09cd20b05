// Destructive buttons ask first: a form with data-confirm submits only when confirmed.
// Live status: while a live section of the page says something is still moving, fetch the
// page again every two seconds and swap in the fresh live sections (forms are untouched).
(function () {
  "use strict";
  var INTERVAL_MS = 2000;

  function moving() {
    return document.querySelector("[data-live][data-moving=true]") !== null;
  }

  async function refresh() {
    try {
      if (!moving()) return;
      var response = await fetch(window.location.href, { credentials: "same-origin" });
      if (!response.ok || response.redirected) return;
      var fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      fresh.querySelectorAll("[data-live]").forEach(function (section) {
        var current = document.getElementById(section.id);
        if (current) current.replaceWith(document.adoptNode(section));
      });
    } catch (error) {
      // network hiccup: try again next tick
    } finally {
      window.setTimeout(refresh, INTERVAL_MS);
    }
  }

  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  window.setTimeout(refresh, INTERVAL_MS);
})();
