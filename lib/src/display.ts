/**
 * Rich display in tslab notebooks, with a plain-text fallback everywhere else.
 *
 * Jupyter frontends pick the richest MIME type they can render from one display bundle, so a
 * plot can carry `application/vnd.plotly.v1+json` (live in VS Code and JupyterLab with the
 * plotly renderer), `text/html` (a self-contained static SVG, rendered by every frontend and by
 * nbconvert, no CDN) and `text/plain` at once. tslab's public `display.raw` sends one MIME
 * type per call, so we hand the whole bundle to tslab's display writer (`tslab/dist/jupyter`,
 * pinned with tslab 1.0.22). Outside a kernel — jest, the command-line tools — the text/plain
 * part is printed to stdout instead.
 *
 * @see notebooks/01_score_matching.ipynb
 */

/** A Jupyter MIME bundle: MIME type → content (binary content base64-encoded). */
export type MimeBundle = Record<string, string | object>;

type WriteDisplayData = (
  data: { data: MimeBundle; metadata: Record<string, unknown>; transient: Record<string, unknown> },
  update: boolean,
) => void;

function tslabWriter(): WriteDisplayData | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: WriteDisplayData | null };
    return jupyter.lastWriteDisplayData ?? null;
  } catch {
    return null;
  }
}

/** True inside a running tslab kernel (a notebook cell), false in node scripts and tests. */
export function inNotebook(): boolean {
  return tslabWriter() !== null;
}

let nextId = 0;
function newDisplayId(): string {
  nextId += 1;
  return `course-${process.pid}-${Date.now().toString(36)}-${nextId}`;
}

/**
 * Display a MIME bundle. In a notebook it becomes one `display_data` output; elsewhere its
 * `text/plain` part (if any) is printed.
 */
export function displayBundle(bundle: MimeBundle): void {
  const write = tslabWriter();
  if (write) {
    write({ data: bundle, metadata: {}, transient: {} }, false);
    return;
  }
  const text = bundle["text/plain"];
  if (typeof text === "string") console.log(text);
}

/** A display slot that can be overwritten in place (e.g. a progress line in a notebook). */
export interface DisplayHandle {
  /** Show or replace this slot's content. */
  update(bundle: MimeBundle): void;
}

/**
 * A display slot updated in place in notebooks (`update_display_data`). Outside a notebook
 * `update` prints nothing; callers draw their own terminal output.
 */
export function newDisplayHandle(): DisplayHandle {
  const id = newDisplayId();
  let shown = false;
  return {
    update(bundle: MimeBundle) {
      const write = tslabWriter();
      if (!write) return;
      write({ data: bundle, metadata: {}, transient: { display_id: id } }, shown);
      shown = true;
    },
  };
}

/** Escape text for safe inclusion in HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
