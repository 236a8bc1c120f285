/**
 * The course map on the book's index page: the planned notebooks in teaching order and the seed
 * lecture's timeline of papers, each paper linked to the notebook that teaches it. Notebooks
 * that do not exist yet are listed as "coming" (never as broken links).
 *
 * Papers: Radford et al. 2021 (CLIP); Saharia et al. 2021 (SR3); Dhariwal & Nichol 2021
 * (classifier guidance); Ho, Saharia et al. 2021 (cascaded diffusion); Nichol et al. 2021
 * (GLIDE); Ho & Salimans 2021 (classifier-free guidance); Ramesh et al. 2022 (DALL·E-2).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { esc } from "./html";

/** A notebook of the course plan. */
export interface PlannedNotebook {
  /** The NN prefix. */
  number: string;
  /** The planned file stem, e.g. 02_classifier_guidance. */
  stem: string;
  topic: string;
}

/** The course plan, in teaching order. */
export const COURSE_PLAN: readonly PlannedNotebook[] = [
  { number: "01", stem: "01_score_matching", topic: "Score matching, the forward process and samplers (DDPM, DDIM, SDE, Langevin)" },
  { number: "02", stem: "02_classifier_guidance", topic: "Classifier guidance" },
  { number: "03", stem: "03_classifier_free_guidance", topic: "Classifier-free guidance" },
  { number: "04", stem: "04_super_resolution", topic: "Super-resolution and cascades" },
  { number: "05", stem: "05_clip", topic: "CLIP: contrastive text–image embeddings" },
  { number: "06", stem: "06_glide_vs_dalle2_prior", topic: "Text-to-image: GLIDE vs the DALL·E-2 prior" },
];

/** A paper of the seed lecture's timeline. */
export interface TimelineEntry {
  /** Sort key, YYYY-MM. */
  date: string;
  /** As shown, e.g. "May 2021". */
  when: string;
  name: string;
  paper: string;
  /** The NN of the notebook that teaches it. */
  notebook: string;
}

/** The seed lecture's timeline. */
export const TIMELINE: readonly TimelineEntry[] = [
  { date: "2021-01", when: "Jan/Feb 2021", name: "CLIP", paper: "Radford et al., Learning Transferable Visual Models From Natural Language Supervision", notebook: "05" },
  { date: "2021-04", when: "April 2021", name: "SR3", paper: "Saharia et al., Image Super-Resolution via Iterative Refinement", notebook: "04" },
  { date: "2021-05", when: "May 2021", name: "Dhariwal & Nichol", paper: "Diffusion Models Beat GANs on Image Synthesis (classifier guidance)", notebook: "02" },
  { date: "2021-05", when: "May 2021", name: "Cascaded Diffusion", paper: "Ho, Saharia et al., Cascaded Diffusion Models for High Fidelity Image Generation", notebook: "04" },
  { date: "2021-12", when: "December 2021", name: "GLIDE", paper: "Nichol et al., GLIDE: Towards Photorealistic Image Generation and Editing with Text-Guided Diffusion Models", notebook: "06" },
  { date: "2021-12", when: "December 2021", name: "Ho & Salimans", paper: "Classifier-Free Diffusion Guidance", notebook: "03" },
  { date: "2022-03", when: "March 2022", name: "DALL·E-2", paper: "Ramesh et al., Hierarchical Text-Conditional Image Generation with CLIP Latents", notebook: "06" },
];

/** A notebook that exists and has a page. */
export interface BookPageRef {
  stem: string;
  title: string;
  href: string;
}

function byNumber(pages: BookPageRef[], number: string): BookPageRef | undefined {
  return pages.find((p) => p.stem.startsWith(`${number}_`));
}

/** The course map: planned notebooks (linked when they exist) plus any others that exist. */
export function courseMapHtml(pages: BookPageRef[]): string {
  const rows: string[] = [];
  const listed = new Set<string>();
  for (const plan of COURSE_PLAN) {
    const page = byNumber(pages, plan.number);
    if (page) {
      listed.add(page.stem);
      rows.push(`<li value="${Number(plan.number)}"><a href="${esc(page.href)}">${esc(page.title)}</a> — ${esc(plan.topic)}</li>`);
    } else rows.push(`<li value="${Number(plan.number)}" class="coming">${esc(plan.topic)} <span class="coming-tag">(coming)</span></li>`);
  }
  for (const page of pages.filter((p) => !listed.has(p.stem))) {
    rows.push(`<li value="${Number(page.stem.slice(0, 2))}"><a href="${esc(page.href)}">${esc(page.title)}</a></li>`);
  }
  return `<section class="course-map" id="course-map"><h2>Course map</h2><ol>\n${rows.join("\n")}\n</ol></section>`;
}

/** The seed lecture's timeline, oldest first, each paper linked to its notebook (or "coming"). */
export function timelineHtml(pages: BookPageRef[]): string {
  const rows = [...TIMELINE].sort((a, b) => a.date.localeCompare(b.date)).map((e) => {
    const page = byNumber(pages, e.notebook);
    const plan = COURSE_PLAN.find((p) => p.number === e.notebook);
    const where = page
      ? `<a href="${esc(page.href)}">${esc(page.stem)}</a>`
      : `<span class="coming">${esc(plan?.stem ?? e.notebook)} (coming)</span>`;
    return `<tr data-paper="${esc(e.name)}"><td class="when">${esc(e.when)}</td><td><strong>${esc(e.name)}</strong><br>${esc(e.paper)}</td><td>${where}</td></tr>`;
  });
  return `<section id="timeline"><h2>Timeline of the seed lecture</h2><div class="table-wrap"><table class="timeline"><thead><tr><th>when</th><th>paper</th><th>notebook</th></tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table></div></section>`;
}
