/*
 * Live plots for slides and book pages (offline: plotly.js is copied next to the page).
 * Each `.course-plot` box holds the figure as JSON in
 * `<script type="application/vnd.plotly.v1+json">` (the lib's plot bundle, lib/src/plot/show.ts)
 * and possibly a static SVG rendering; hydrate() replaces the static rendering with a plotly
 * chart sized to its box. Boxes that are not displayed yet (slides not shown) are drawn later,
 * when hydrate() is called again for them. Each box records its state in data-plot:
 * "drawn" or "failed".
 */
(function () {
  "use strict";
  var MIME = "application/vnd.plotly.v1+json";
  var MIN_WIDTH = 560;

  function draw(box, script) {
    var fig;
    try {
      fig = JSON.parse(script.textContent);
    } catch (e) {
      box.dataset.plot = "failed";
      console.error("course plot: figure JSON does not parse: " + e.message);
      return;
    }
    if (typeof Plotly === "undefined") {
      box.dataset.plot = "failed";
      console.error("course plot: plotly.js is not loaded");
      return;
    }
    var layout = Object.assign({}, fig.layout || {});
    var width = layout.width || 640;
    var height = layout.height || 420;
    delete layout.width;
    delete layout.height;
    layout.autosize = true;
    Array.prototype.slice.call(box.children).forEach(function (c) {
      if (c !== script) box.removeChild(c);
    });
    var live = document.createElement("div");
    live.className = "course-plot-live";
    live.style.maxWidth = width + "px";
    // On a narrow screen a wide figure keeps a readable width and its box scrolls sideways.
    live.style.minWidth = Math.min(width, MIN_WIDTH) + "px";
    live.style.height = height + "px";
    box.appendChild(live);
    box.dataset.plot = "drawing";
    Plotly.newPlot(live, fig.data || [], layout, { responsive: true, displaylogo: false }).then(
      function () {
        box.dataset.plot = "drawn";
      },
      function (err) {
        box.dataset.plot = "failed";
        console.error("course plot: plotly could not draw the figure: " + (err && err.message ? err.message : err));
      }
    );
  }

  /** Draw every not-yet-drawn plot under `root` that is displayed. */
  function hydrate(root) {
    var scripts = (root || document).querySelectorAll('.course-plot > script[type="' + MIME + '"]');
    Array.prototype.forEach.call(scripts, function (script) {
      var box = script.parentElement;
      if (box.dataset.plot) {
        var live = box.querySelector(".course-plot-live");
        if (live && box.dataset.plot === "drawn" && typeof Plotly !== "undefined") Plotly.Plots.resize(live);
        return;
      }
      if (box.getClientRects().length === 0) return; // not displayed yet
      draw(box, script);
    });
  }

  window.CoursePlots = { hydrate: hydrate };
})();
