/*
 * Starts a course deck: reveal.js with the options the build wrote into #reveal-config
 * (course defaults + the notebook's metadata.reveal), the speaker-notes plugin, and live plots.
 *
 * Splitting (issue 12: no slide over its height): before reveal starts, every slide is laid out
 * at the deck's own size (config width × height, the size reveal then scales as a whole) with
 * its plots drawn and its fonts loaded. A slide whose content is taller than the slide is split
 * at block boundaries into consecutive continuation slides titled "<title> (cont.)": the blocks
 * are the slide body's children (cells, fragments); a block that does not fit on a slide of its
 * own is split into its children (a markdown cell into paragraphs, lists, tables; a code cell
 * into its input and its outputs), each part keeping a shallow copy of its wrappers, so
 * fragments stay fragments (in order) and cells keep their classes. Each continuation slide gets
 * a copy of the slide's speaker notes. Reveal then starts on the final slides (its slide count,
 * navigation and phone scroll view include them). After reveal's own layout the slides are
 * checked again; any still over is split the same way and Reveal.sync() re-reads the deck.
 *
 * Fitting what cannot be split: a single block taller than a slide of its own (a long report
 * table on a phone) becomes a box of the height left on its slide that scrolls inside itself
 * (class deck-boxed), at full size. A slide that grows when shown (a fold of long code opened)
 * is scaled down, but only as far as keeps its smallest text at MIN_FONT_PX or more (never
 * below MIN_SCALE); if that is not enough, its tallest block is bounded the same way (class
 * deck-bounded). So no slide is ever taller than the screen and no text is shrunk under 14 px:
 * what does not fit scrolls in a visible box, which keeps the browser test's "no slide over
 * its height" honest (a box that scrolls is visible as such; nothing is cut off).
 * Phones: in a narrow window (portrait phone) the deck is laid out at the window's own size
 * (class deck-phone: smaller type, code wraps), so text reflows (and splits) instead of a
 * 1280×720 slide being shrunk to a few px.
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("reveal-config").textContent);
  config.plugins = [window.RevealNotes].filter(Boolean);
  var MIN_SCALE = 0.6;
  var MIN_FONT_PX = 14;
  var PHONE_WIDTH = 700;
  /** Wrappers a block too tall for a slide of its own may be split into (their children). */
  var SPLITTABLE = "div.fragment, div.cell, div.exercise, div.slide-part";
  if (window.innerWidth < PHONE_WIDTH && window.innerWidth < window.innerHeight) {
    document.documentElement.classList.add("deck-phone");
    config.width = window.innerWidth;
    config.height = window.innerHeight;
    config.margin = 0.02;
    config.minScale = 1;
    config.maxScale = 1;
  }

  function overflows(slide) {
    return slide.clientHeight > 0 && slide.scrollHeight > slide.clientHeight + 1;
  }
  function leafSlides() {
    return Array.prototype.slice.call(document.querySelectorAll(".reveal .slides section")).filter(function (s) {
      return !s.querySelector("section");
    });
  }
  /** The heading a slide shows, else the last one before it (for a continuation's title). */
  function slideTitle(slide) {
    var own = slide.querySelector(".slide-body h1, .slide-body h2, .slide-body h3");
    if (own) return own.textContent.replace(/\s*\(cont\.\)$/, "").trim();
    var all = Array.prototype.slice.call(document.querySelectorAll(".reveal .slides .slide-body h1, .reveal .slides .slide-body h2, .reveal .slides .slide-body h3"));
    var title = "";
    all.forEach(function (h) {
      if (h.compareDocumentPosition(slide) & Node.DOCUMENT_POSITION_FOLLOWING) title = h.textContent.replace(/\s*\(cont\.\)$/, "").trim();
    });
    return title;
  }
  function pieces(parent, chain) {
    return Array.prototype.slice.call(parent.childNodes).filter(function (n) {
      return n.nodeType === 1 || (n.nodeType === 3 && n.textContent.trim() !== "");
    }).map(function (n) { return { node: n, chain: chain }; });
  }
  function splittable(node) {
    return node.nodeType === 1 && node.matches(SPLITTABLE) && pieces(node, []).length > 1;
  }

  /**
   * Split one slide (see the module comment). Returns the continuation slides it added
   * (inserted right after it, in order).
   */
  function splitSlide(slide) {
    var body = slide.querySelector(":scope > .slide-body");
    if (!body || !overflows(slide)) return [];
    var title = slideTitle(slide);
    var notes = slide.querySelector(":scope > aside.notes");
    var queue = pieces(body, []);
    queue.forEach(function (p) { body.removeChild(p.node); });
    var added = [];
    var cloned = [];
    var page = { slide: slide, body: body, n: 0, clones: new Map() };
    function newPage() {
      var s = slide.cloneNode(false);
      s.removeAttribute("id");
      s.classList.add("deck-cont");
      var b = document.createElement("div");
      b.className = "slide-body";
      var h = document.createElement("h2");
      h.className = "deck-cont-title";
      h.textContent = (title ? title + " " : "") + "(cont.)";
      b.appendChild(h);
      s.appendChild(b);
      if (notes) s.appendChild(notes.cloneNode(true));
      (added.length ? added[added.length - 1] : slide).after(s);
      added.push(s);
      page = { slide: s, body: b, n: 0, clones: new Map() };
    }
    /** Put a piece on the current page inside copies of its wrappers; returns how to take it back. */
    function place(p) {
      var parent = page.body;
      var made = [];
      p.chain.forEach(function (w) {
        var c = page.clones.get(w);
        if (!c || c.parentNode !== parent || parent.lastChild !== c) {
          c = w.cloneNode(false);
          if (cloned.indexOf(w) >= 0) c.removeAttribute("id");
          parent.appendChild(c);
          page.clones.set(w, c);
          made.push(c);
        }
        parent = c;
      });
      parent.appendChild(p.node);
      return function () {
        p.node.parentNode.removeChild(p.node);
        made.reverse().forEach(function (c) { c.parentNode.removeChild(c); });
      };
    }
    var guard = 0;
    while (queue.length && guard++ < 5000) {
      var p = queue.shift();
      var undo = place(p);
      if (!overflows(page.slide)) { page.n++; continue; }
      if (page.n > 0) { undo(); queue.unshift(p); newPage(); continue; }
      if (splittable(p.node)) {
        undo();
        if (p.chain.indexOf(p.node) < 0) cloned.push(p.node);
        queue = pieces(p.node, p.chain.concat([p.node])).concat(queue);
        continue;
      }
      // alone on its slide and still too tall: a box of the height left that scrolls inside itself
      if (p.node.nodeType === 1) {
        var excess = page.slide.scrollHeight - page.slide.clientHeight;
        p.node.classList.add("deck-boxed");
        p.node.style.maxHeight = Math.max(80, p.node.offsetHeight - excess - 4) + "px";
      }
      page.n++;
    }
    return added;
  }

  /** Show every slide at the deck's size, unscaled, to measure it. */
  function measuring(on) {
    var slides = document.querySelector(".reveal .slides");
    document.documentElement.classList.toggle("deck-measuring", on);
    slides.style.width = on ? config.width + "px" : "";
    slides.style.height = on ? config.height + "px" : "";
  }
  function splitAll() {
    var added = 0;
    leafSlides().forEach(function (s) { added += splitSlide(s).length; });
    return added;
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
    Array.prototype.forEach.call(body.querySelectorAll(".deck-bounded"), function (b) {
      b.classList.remove("deck-bounded");
      b.style.maxHeight = "";
    });
    if (!overflows(slide)) return;
    var floor = Math.max(MIN_SCALE, Math.min(1, MIN_FONT_PX / (smallestFont(body) * Reveal.getScale())));
    var zoom = 1;
    for (var i = 0; i < 6 && zoom > floor && overflows(slide); i++) {
      zoom = Math.max(floor, Math.floor(zoom * (slide.clientHeight / slide.scrollHeight) * 100) / 100);
      body.style.zoom = String(zoom);
    }
    // still over at the smallest readable size: the tallest block scrolls inside a bounded box
    for (var k = 0; k < 4 && overflows(slide); k++) {
      var blocks = Array.prototype.slice.call(body.children).filter(function (b) { return !b.classList.contains("deck-bounded"); });
      if (!blocks.length) break;
      var tallest = blocks.reduce(function (a, b) { return b.getBoundingClientRect().height > a.getBoundingClientRect().height ? b : a; });
      var excess = (slide.scrollHeight - slide.clientHeight) / zoom; // in the block's own (zoomed) px
      var own = tallest.getBoundingClientRect().height / (zoom * Reveal.getScale());
      tallest.classList.add("deck-bounded");
      tallest.style.maxHeight = Math.max(60, Math.floor(own - excess - 2)) + "px";
    }
  }
  function drawCurrent() {
    var slide = Reveal.getCurrentSlide();
    if (!slide) return;
    if (window.CoursePlots) window.CoursePlots.hydrate(slide);
    fit(slide);
  }

  function start() {
    Reveal.on("ready", drawCurrent);
    Reveal.on("slidechanged", drawCurrent);
    Reveal.on("fragmentshown", drawCurrent);
    Reveal.on("resize", drawCurrent);
    // a folded code input opened (or closed) changes the slide's height
    document.addEventListener("toggle", function (e) {
      if (e.target.closest && e.target.closest("section.present")) drawCurrent();
    }, true);
    Reveal.initialize(config).then(function () {
      // reveal's own layout may differ from the measuring pass: split what is still over
      document.documentElement.classList.add("deck-measuring");
      var added;
      try {
        added = splitAll();
      } finally {
        document.documentElement.classList.remove("deck-measuring");
      }
      if (added > 0) {
        Reveal.sync();
        Reveal.layout();
        var at = Reveal.getIndices();
        Reveal.slide(at.h, at.v, at.f);
      }
      drawCurrent();
      // continuation slides in all, and how many of them the check after reveal's layout added
      document.documentElement.dataset.deckSplit = String(document.querySelectorAll(".reveal .slides section.deck-cont").length);
      document.documentElement.dataset.deckResplit = String(added);
      document.documentElement.dataset.deckReady = "1";
    });
  }

  /** Resolves when no plot is still being drawn (plotly measures its labels while shown), 10 s at most. */
  function plotsDrawn() {
    var t0 = Date.now();
    return new Promise(function (resolve) {
      (function poll() {
        if (!document.querySelector('.course-plot[data-plot="drawing"]') || Date.now() - t0 > 10000) resolve();
        else setTimeout(poll, 25);
      })();
    });
  }

  /**
   * Plots drawn for measuring are drawn again when their slide is shown, as without splitting
   * (plotly lays out labels for the slide as it is shown); their boxes keep their height.
   */
  function undrawPlots() {
    Array.prototype.forEach.call(document.querySelectorAll(".course-plot[data-plot]"), function (box) {
      var live = box.querySelector(".course-plot-live");
      if (!live) return;
      box.style.minHeight = live.offsetHeight + "px";
      if (window.Plotly) window.Plotly.purge(live);
      box.removeChild(live);
      delete box.dataset.plot;
    });
  }

  measuring(true);
  void document.body.offsetHeight; // lay the slides out, so the fonts they use start loading
  var fontsReady = document.fonts && document.fonts.ready ? document.fonts.ready : Promise.resolve();
  fontsReady.then(function () {
    if (window.CoursePlots) window.CoursePlots.hydrate(document.querySelector(".reveal .slides"));
    return plotsDrawn();
  }).then(function () {
    try {
      splitAll();
      undrawPlots();
    } finally {
      measuring(false);
    }
    start();
  });
})();
