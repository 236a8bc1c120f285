/*
 * Starts a course deck: reveal.js with the options the build wrote into #reveal-config
 * (course defaults + the notebook's metadata.reveal), the speaker-notes plugin, and live plots
 * drawn when their slide is shown.
 *
 * Fitting: a slide taller than the screen is scaled down, but only as far as keeps its smallest
 * text at MIN_FONT_PX or more (never below MIN_SCALE); whatever is left scrolls.
 * Phones: in a narrow window (portrait phone) the deck is laid out at the window's own size
 * (class deck-phone: smaller type, code wraps), so text reflows instead of a 1280×720 slide
 * being shrunk to a few px.
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("reveal-config").textContent);
  config.plugins = [window.RevealNotes].filter(Boolean);
  var MIN_SCALE = 0.6;
  var MIN_FONT_PX = 14;
  var PHONE_WIDTH = 700;
  if (window.innerWidth < PHONE_WIDTH && window.innerWidth < window.innerHeight) {
    document.documentElement.classList.add("deck-phone");
    config.width = window.innerWidth;
    config.height = window.innerHeight;
    config.margin = 0.02;
    config.minScale = 1;
    config.maxScale = 1;
  }
  /** Smallest font size (px, unzoomed) of visible text in an element. */
  function smallestFont(el) {
    var min = Infinity;
    var walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (var n = walker.nextNode(); n; n = walker.nextNode()) {
      var p = n.parentElement;
      if (!p || !n.textContent.trim() || p.closest("aside.notes, script, style, .js-plotly-plot, .katex") || p.getClientRects().length === 0) continue;
      min = Math.min(min, parseFloat(getComputedStyle(p).fontSize));
    }
    return min;
  }
  function fit(slide) {
    var body = slide.querySelector(":scope > .slide-body");
    if (!body) return;
    body.style.zoom = "";
    if (!(slide.clientHeight > 0 && slide.scrollHeight > slide.clientHeight + 1)) return;
    var floor = Math.max(MIN_SCALE, Math.min(1, MIN_FONT_PX / (smallestFont(body) * Reveal.getScale())));
    var zoom = 1;
    for (var i = 0; i < 6 && zoom > floor && slide.scrollHeight > slide.clientHeight + 1; i++) {
      zoom = Math.max(floor, Math.floor(zoom * (slide.clientHeight / slide.scrollHeight) * 100) / 100);
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
  // a folded code input opened (or closed) changes the slide's height
  document.addEventListener("toggle", function (e) {
    if (e.target.closest && e.target.closest("section.present")) drawCurrent();
  }, true);
  Reveal.initialize(config).then(function () {
    document.documentElement.dataset.deckReady = "1";
  });
})();
