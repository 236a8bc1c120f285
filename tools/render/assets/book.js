/* Book pages: draw every live plot once the page has loaded. */
(function () {
  "use strict";
  // On a phone the table of contents starts folded, above the text.
  var toc = document.querySelector(".book-toc details");
  if (toc && window.matchMedia("(max-width: 64rem)").matches) toc.open = false;
  function drawAll() {
    if (window.CoursePlots) window.CoursePlots.hydrate(document);
    document.documentElement.dataset.bookReady = "1";
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
  // Plots inside a toggle (hide-output) are drawn when it opens.
  document.addEventListener("toggle", function (e) {
    if (e.target.open && window.CoursePlots) window.CoursePlots.hydrate(e.target);
  }, true);
})();
