/**
 * Text layout for figures without a browser: an estimate of a label's width and word wrapping
 * to a width, so titles and captions are laid out to fit before plotly or the static renderer
 * draws them (plotly breaks lines only at `<br>`).
 *
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */

/** Rough width (px) of a label in the plots' sans-serif font; errs wide. */
export function textWidth(s: string, size: number): number {
  return s.length * size * 0.58;
}

/**
 * Break `s` into lines of at most `width` px at `size` px (at spaces; a word longer than a line is
 * cut at a hyphen or a slash if it has one, else kept whole). "" gives no lines.
 */
export function wrapText(s: string, width: number, size: number): string[] {
  const words = s.trim().split(/\s+/).filter((w) => w !== "");
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, size) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}
