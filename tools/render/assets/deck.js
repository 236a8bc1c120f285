/*
 * Starts a course deck: reveal.js with the options the build wrote into #reveal-config
 * (course defaults + the notebook's metadata.reveal), the speaker-notes plugin, and live plots
 * drawn when their slide is shown.
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("reveal-config").textContent);
  config.plugins = [window.RevealNotes].filter(Boolean);
  var MIN_SCALE = 0.6;
  // A slide taller than the screen is scaled down (not below MIN_SCALE); the rest scrolls.
  function fit(slide) {
    var body = slide.querySelector(":scope > .slide-body");
    if (!body) return;
    body.style.zoom = "";
    var zoom = 1;
    for (var i = 0; i < 6 && zoom > MIN_SCALE && slide.clientHeight > 0 && slide.scrollHeight > slide.clientHeight + 1; i++) {
      zoom = Math.max(MIN_SCALE, Math.floor(zoom * (slide.clientHeight / slide.scrollHeight) * 100) / 100);
      body.style.zoom = String(zoom);
    }
  }
  function drawCurrent() {
    var slide = Reveal.getCurrentSlide();
    if (!slide) return;
    if (window.CoursePlots) window.CoursePlots.hydrate(slide);
    fit(slide);
  }
  Reveal.on("ready", drawCurrent);
  Reveal.on("slidechanged", drawCurrent);
  Reveal.on("fragmentshown", drawCurrent);
  Reveal.on("resize", drawCurrent);
  Reveal.initialize(config).then(function () {
    document.documentElement.dataset.deckReady = "1";
  });
})();
