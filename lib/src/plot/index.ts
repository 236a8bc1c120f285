/**
 * The plot module: figure builders (plotly.js figure specs), composition, a static SVG renderer
 * and `show`, so plots look the same everywhere and render offline.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export type { PlotFigure, Trace, ScatterTrace, ImageTrace, Layout, Axis, Annotation, LineDash, XAxisId, YAxisId } from "./types";
export { PLOT_PALETTE } from "./types";
export type { Points2D } from "./data";
export { scatterByClass, scoreField, lineChart, lossCurve, emaSmooth } from "./figure";
export type { ScatterByClassOptions, ScoreFieldOptions, LineSeries, LineChartOptions, LossCurveOptions } from "./figure";
export { imageGrid } from "./image";
export type { ImageBatch, ImageGridOptions } from "./image";
export { overlay, row } from "./compose";
export type { RowOptions } from "./compose";
export { renderSvg } from "./svg";
export { encodePng, pngDataUri } from "./png";
export { PLOTLY_MIME, describeFigure, figureBundle, show } from "./show";
