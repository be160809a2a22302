// Outcome filter for the check rows, plus readiness markers for tests.
// Reads only the DOM: no report data is embedded in this script.
(function () {
  "use strict";
  var body = document.body;
  window.addEventListener("error", function () {
    body.setAttribute("data-js-error", "1");
  });
  var buttons = document.querySelectorAll(".filters button[data-filter]");
  var checks = document.querySelectorAll(".check[data-outcome]");
  function apply(filter) {
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-filter") === filter ? "true" : "false");
    });
    checks.forEach(function (c) {
      var show = filter === "all" || c.getAttribute("data-outcome") === filter;
      c.classList.toggle("hidden", !show);
    });
    document.querySelectorAll(".scenario").forEach(function (s) {
      var any = s.querySelector(".check:not(.hidden)") !== null || filter === "all";
      s.classList.toggle("hidden", !any);
    });
    body.setAttribute("data-filter", filter);
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      apply(b.getAttribute("data-filter"));
    });
  });
  var fromHash = /^#filter=(\w+)$/.exec(location.hash);
  var known = fromHash && document.querySelector('.filters button[data-filter="' + fromHash[1] + '"]');
  apply(known ? fromHash[1] : "all");
  body.setAttribute("data-checks", String(checks.length));
  body.setAttribute("data-timeline-events", String(document.querySelectorAll("svg.timeline .ev").length));
  var external = (performance.getEntriesByType ? performance.getEntriesByType("resource") : []).length;
  body.setAttribute("data-external-requests", String(external));
  body.setAttribute("data-ready", "1");
})();
