/**
 * The measured claims each notebook must show, read from the runner's report.json (the items a
 * notebook records with lib's `report()`), never from prose. Keyed by notebook name.
 */
export interface Claim {
  item: string;
  /** Human-readable statement of the claim, shown when it fails. */
  says: string;
  /** Whether the claim holds, given the item's value and (for comparisons) every reported item. */
  holds: (value: number, items: ReadonlyMap<string, number>) => boolean;
}

/** A reported item's value; NaN when missing (so comparisons with it fail). */
const get = (items: ReadonlyMap<string, number>, name: string): number => items.get(name) ?? NaN;

/** The largest value of `<prefix> <metric> s=<s>` over the scales s ≤ 1 that were reported. */
function bestAtLowScale(items: ReadonlyMap<string, number>, prefix: string, metric: string): number {
  const re = new RegExp(`^${prefix} ${metric} s=([0-9.]+)$`);
  const vals = [...items].filter(([k]) => re.test(k) && Number(re.exec(k)![1]) <= 1).map(([, v]) => v);
  return vals.length ? Math.max(...vals) : NaN;
}

/**
 * The guidance trade-off (issue 4's acceptance): at the largest scale S, accuracy beats the
 * conditional model's (at scale `condScale`) by ≥ 15 points or reaches ≥ 90%, and recall or
 * diversity at S is below its best at s ≤ 1.
 */
function guidanceTradeOff(prefix: string, condScale: number): Claim[] {
  return [
    {
      item: `${prefix} largest scale`,
      says: `accuracy at the largest scale ≥ accuracy of the conditional model alone (s = ${condScale}) + 15 points, or ≥ 90%`,
      holds: (S, items) => {
        const top = get(items, `${prefix} accuracy s=${S}`);
        return top >= get(items, `${prefix} accuracy s=${condScale}`) + 0.15 || top >= 0.9;
      },
    },
    {
      item: `${prefix} largest scale`,
      says: "recall or diversity at the largest scale is lower than at s ≤ 1 (the trade-off)",
      holds: (S, items) =>
        get(items, `${prefix} recall s=${S}`) < bestAtLowScale(items, prefix, "recall") ||
        get(items, `${prefix} diversity s=${S}`) < bestAtLowScale(items, prefix, "diversity"),
    },
    {
      item: `${prefix} largest scale`,
      says: "the largest scale is at least 4",
      holds: (S) => S >= 4,
    },
  ];
}

export const CLAIMS: Record<string, Claim[]> = {
  "01_score_matching": [
    { item: "ddim100_mmd2", says: "DDIM-100 samples reach squared MMD ≤ 0.01 (RBF h=1, 2,000 vs 2,000)", holds: (v) => v <= 0.01 },
    { item: "ddim100_mean_nearest_mode_distance", says: "mean distance to the nearest mode ≤ 0.5", holds: (v) => v <= 0.5 },
    { item: "data_mean_nearest_mode_distance", says: "the data itself scores about 0.38", holds: (v) => Math.abs(v - 0.376) < 0.03 },
    { item: "ddim100_mode_coverage", says: "all 8 modes are covered", holds: (v) => v === 1 },
    { item: "tweedie_max_abs_error", says: "Tweedie's formula matches finite differences of ln p_t", holds: (v) => v < 1e-3 },
    { item: "score_rel_error_mid_t", says: "the learned score matches the analytic score at mid t (relative squared error < 5%)", holds: (v) => v < 0.05 },
  ],
  "02_classifier_guidance": [
    ...guidanceTradeOff("cg", 0),
    { item: "real accuracy", says: "the evaluation classifier is accurate on held-out real images (≥ 80%)", holds: (v) => v >= 0.8 },
    { item: "ring hit s=0", says: "2D ring: without guidance about 1/8 of the samples land in the target mode", holds: (v) => v < 0.3 },
    { item: "ring hit s=4", says: "2D ring: at s = 4 at least 90% land in the target mode", holds: (v) => v >= 0.9 },
  ],
  "03_classifier_free_guidance": [
    ...guidanceTradeOff("cfg", 1),
    { item: "cfg accuracy s=0", says: "the unconditional model (s = 0) is less class-specific than the conditional one (s = 1)", holds: (v, items) => v < get(items, "cfg accuracy s=1") },
  ],
  "04_super_resolution": [
    { item: "regression psnr", says: "the regression baseline has a higher PSNR than diffusion SR (regression to the mean)", holds: (v, items) => v > get(items, "sr3 psnr") },
    { item: "sr3 fid", says: "diffusion SR has a lower FID-style distance than the regression baseline", holds: (v, items) => v < get(items, "regression fid") },
    { item: "sr3 fid", says: "diffusion SR has a lower FID-style distance than bicubic upsampling", holds: (v, items) => v < get(items, "bicubic fid") },
    { item: "sr3 sharpness", says: "diffusion SR is sharper than the regression baseline", holds: (v, items) => v > get(items, "regression sharpness") },
    { item: "sr3 diversity", says: "diffusion SR keeps more within-class diversity than the regression baseline (regression to the mean)", holds: (v, items) => v > get(items, "regression diversity") },
    { item: "sr3 sample std", says: "SR3 samples of one input differ (p(y | x) is a distribution)", holds: (v) => v > 0.01 },
    {
      item: "cascade aug helps",
      says: "the printed verdict on conditioning augmentation matches the measured FID-style distances (best level > 0 vs a = 0)",
      holds: (v, items) => v === (get(items, `cascade fid a=${get(items, "cascade best level")}`) < get(items, "cascade fid a=0") ? 1 : 0),
    },
  ],
  "05_clip": [
    { item: "zero-shot class accuracy", says: "zero-shot class accuracy on held-out images is far above chance (≥ 80% on the 10 items; chance 10%)", holds: (v) => v >= 0.8 },
    { item: "zero-shot colour accuracy", says: "zero-shot colour accuracy is far above chance (≥ 80% on 6 colours)", holds: (v) => v >= 0.8 },
    { item: "noised clip accuracy t=750", says: "the noised CLIP beats the clean CLIP on z_t at t = 750", holds: (v, items) => v > get(items, "clean clip accuracy t=750") },
    { item: "noised clip accuracy t=900", says: "the noised CLIP beats the clean CLIP on z_t at t = 900", holds: (v, items) => v > get(items, "clean clip accuracy t=900") },
  ],
  // Notebook 06 states its conclusions from its own numbers; these check that each stated ordering holds.
  "06_glide_vs_dalle2_prior": [
    { item: "real fidelity", says: "the judge recognises the (item, colour) of real images (≥ 80%)", holds: (v) => v >= 0.8 },
    { item: "glide-cfg fidelity", says: "GLIDE with classifier-free guidance follows the captions far above chance (≥ 20 × 1/60)", holds: (v) => v >= 20 / 60 },
    {
      item: "verdict cfg beats clip",
      says: "the stated verdict on CFG vs CLIP guidance matches the table (CFG ahead on fidelity and FID-style)",
      holds: (v, items) => v === (get(items, "glide-cfg fidelity") > get(items, "glide-clip fidelity") && get(items, "glide-cfg fid") < get(items, "glide-clip fid") ? 1 : 0),
    },
    {
      item: "verdict unclip as faithful",
      says: "the stated verdict on unCLIP's fidelity matches the table (within 10 points of GLIDE + CFG)",
      holds: (v, items) => v === (get(items, "unclip fidelity") >= get(items, "glide-cfg fidelity") - 0.1 ? 1 : 0),
    },
    {
      item: "verdict unclip more diverse",
      says: "the stated verdict on unCLIP's diversity matches the table",
      holds: (v, items) => v === (get(items, "unclip diversity") > get(items, "glide-cfg diversity") ? 1 : 0),
    },
    { item: "prior to real cosine", says: "the prior's samples lie near the real image embeddings of their caption (mean cosine ≥ 0.8)", holds: (v) => v >= 0.8 },
  ],
};
