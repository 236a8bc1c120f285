/*
 * Live plots for slides and book pages (offline: plotly.js is copied next to the page).
 * Each `.course-plot` box holds the figure as JSON in
 * `<script type="application/vnd.plotly.v1+json">` (the lib's plot bundle, lib/src/plot/show.ts)
 * and possibly a static SVG rendering; hydrate() replaces the static rendering with a plotly
 * chart sized to its box. Boxes that are not displayed yet (slides not shown) are drawn later,
 * when hydrate() is called again for them. Each box records its state in data-plot:
 * "drawn" or "failed".
 *
 * Figures follow the width of their box (never wider than their own layout width):
 *  - a row of panels (`layout.meta.panels`, lib/src/plot/compose.ts) that does not fit side by
 *    side is re-flowed into as many panels per line as fit, down to one per line on a phone;
 *  - an image figure narrower than its layout is scaled as a whole (height and label sizes with
 *    it), so captions keep fitting under their tiles;
 *  - a chart keeps its height and font sizes; on a narrow screen its legend moves below it.
 */
(function () {
  "use strict";
  var MIME = "application/vnd.plotly.v1+json";
  var TITLE_LINE = 18;
  var NARROW = 560;

  function copy(v) {
    return JSON.parse(JSON.stringify(v));
  }

  /** Rows of a horizontal legend of these entry names at `width` px (as lib/src/plot/compose.ts estimates them). */
  function legendRows(names, width) {
    var rows = names.length > 0 ? 1 : 0;
    var x = 0;
    names.forEach(function (name) {
      var w = 40 + name.length * 12 * 0.58;
      if (x > 0 && x + w > width) { rows += 1; x = 0; }
      x += w;
    });
    return rows;
  }

  function legendNames(data) {
    return data.filter(function (t) { return t.name !== undefined && t.showlegend !== false && t.type !== "image"; }).map(function (t) { return t.name; });
  }

  /** Put the legend under the plot, in the bottom margin, with room for its rows at `width` px. */
  function legendBelow(layout, data, width, wasRows) {
    var m = layout.margin || { l: 60, r: 20, t: 56, b: 52 };
    var rows = legendRows(legendNames(data), width - m.l - m.r);
    layout.legend = { orientation: "h", x: 0, xanchor: "left", y: 0, yanchor: "bottom", yref: "container" };
    layout.margin = Object.assign({}, m, { b: m.b + (rows - wasRows) * 20 + (wasRows ? 0 : 8) });
    return (rows - wasRows) * 20 + (wasRows ? 0 : 8);
  }

  /** Stack a row's panels into lines that fit `width` px; returns the new height. */
  function reflow(layout, width) {
    var panels = layout.meta.panels;
    var gap = layout.meta.gap || 24;
    var m = layout.margin || { l: 60, r: 20, t: 56, b: 52 };
    var avail = width - m.l - m.r;
    var widest = Math.max.apply(null, panels.map(function (p) { return p.w; }));
    var per = Math.max(1, Math.min(panels.length, Math.floor((avail + gap) / (widest + gap))));
    if (per >= panels.length) return null;
    var notes = layout.annotations || [];
    var titleH = function (p) { return p.title >= 0 ? (notes[p.title].text.split("<br>").length * TITLE_LINE + 8) : 8; };
    var xTitled = panels.some(function (p) { return p.x.some(function (id) { var a = layout["xaxis" + id.slice(1)]; return a && a.title && a.title.text; }); });
    var below = xTitled ? 52 : 30;
    var firstTitle = titleH(panels[0]);
    var lines = [];
    for (var i = 0; i < panels.length; i += per) lines.push(panels.slice(i, i + per));
    // px heights of each line: its title room (except the first, inside the top margin), its tallest panel, room below
    var slotW = (avail - gap * (per - 1)) / per;
    var heights = lines.map(function (line, j) {
      var h = Math.max.apply(null, line.map(function (p) { return Math.min(p.h, p.h * slotW / p.w); }));
      var t = j === 0 ? 0 : Math.max.apply(null, line.map(titleH));
      return { title: t, plot: h, below: j === lines.length - 1 ? 0 : below };
    });
    var top = m.t - firstTitle + Math.max.apply(null, lines[0].map(titleH));
    var plotH = heights.reduce(function (a, h) { return a + h.title + h.plot + h.below; }, 0);
    var total = top + plotH + m.b;
    var y = plotH; // px from the bottom of the plotting area, going down
    lines.forEach(function (line, j) {
      var h = heights[j];
      y -= h.title;
      var hi = y / plotH;
      y -= h.plot;
      var lo = y / plotH;
      y -= h.below;
      line.forEach(function (p, c) {
        var x0 = (c * (slotW + gap)) / avail;
        var x1 = x0 + slotW / avail;
        p.x.forEach(function (id) { var a = layout["xaxis" + id.slice(1)]; if (a) a.domain = [x0, x1]; });
        p.y.forEach(function (id) { var a = layout["yaxis" + id.slice(1)]; if (a) a.domain = [lo, hi]; });
        if (p.title >= 0) { notes[p.title].x = (x0 + x1) / 2; notes[p.title].y = hi; }
      });
    });
    layout.margin = Object.assign({}, m, { t: top });
    if (slotW < widest) scaleFonts(layout, slotW / widest); // a panel drawn narrower than its natural width
    return total;
  }

  /** Scale every label of a figure by `k` (image figures drawn narrower than their layout). */
  function scaleFonts(layout, k) {
    (layout.annotations || []).forEach(function (a) {
      a.font = Object.assign({}, a.font || {}, { size: Math.max(7, ((a.font && a.font.size) || 12) * k) });
    });
    if (layout.title) layout.title = Object.assign({}, layout.title, { font: { size: Math.max(9, 17 * k) } });
  }

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
    var layout = copy(fig.layout || {});
    var width = layout.width || 640;
    var height = layout.height || 420;
    var avail = Math.floor(box.clientWidth) || width;
    var w = Math.min(width, avail);
    var images = (fig.data || []).some(function (t) { return t.type === "image"; });
    var panels = layout.meta && layout.meta.panels && layout.meta.panels.length > 1;
    if (w < width) {
      var stacked = panels ? reflow(layout, w) : null;
      if (stacked !== null) height = stacked;
      else if (images) {
        scaleFonts(layout, w / width);
        layout.margin = layout.margin && Object.assign({}, layout.margin, { t: layout.margin.t * w / width });
        height = Math.round(height * w / width);
      }
    }
    if (layout.title && layout.title.text && !images) {
      // a chart's title wraps to the width it gets (about 0.6 em per character), whether the
      // figure was narrowed or its title was simply longer than the figure
      var fontPx = (layout.title.font && layout.title.font.size) || 17;
      var words = String(layout.title.text).replace(/<br>/g, " ").split(/\s+/);
      var lines = [""];
      words.forEach(function (word) {
        var next = lines[lines.length - 1] ? lines[lines.length - 1] + " " + word : word;
        if (lines[lines.length - 1] && next.length * fontPx * 0.6 > w - 40) lines.push(word);
        else lines[lines.length - 1] = next;
      });
      if (lines.length > 1) {
        var lineH = Math.ceil(fontPx * 1.4);
        layout.title = Object.assign({}, layout.title, { text: lines.join("<br>") });
        var mt = layout.margin || { l: 64, r: 24, t: 52, b: 52 };
        layout.margin = Object.assign({}, mt, { t: mt.t + lineH * (lines.length - 1) });
        height += lineH * (lines.length - 1);
      }
    }
    if (w < NARROW) {
      // on a phone a log axis labels its decades only (plotly's 2, 3, 5 labels crowd into the axis title)
      Object.keys(layout).forEach(function (k) {
        if (/^[xy]axis\d*$/.test(k) && layout[k] && layout[k].type === "log" && layout[k].dtick === undefined) layout[k] = Object.assign({}, layout[k], { dtick: 1 });
      });
    }
    var names = legendNames(fig.data || []);
    if (w < width && layout.showlegend !== false && names.length > 1 && !images) {
      var horizontal = layout.legend && layout.legend.orientation === "h";
      if (horizontal || w < NARROW) {
        var m0 = layout.margin || { l: 60, r: 20 };
        var before = horizontal ? legendRows(names, width - m0.l - m0.r) : 0;
        height += legendBelow(layout, fig.data || [], w, before);
      }
    }
    delete layout.width;
    delete layout.height;
    layout.autosize = true;
    Array.prototype.slice.call(box.children).forEach(function (c) {
      if (c !== script) box.removeChild(c);
    });
    var live = document.createElement("div");
    live.className = "course-plot-live";
    live.style.maxWidth = width + "px";
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
