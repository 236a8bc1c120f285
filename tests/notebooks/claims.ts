/**
 * The measured claims each notebook must show, read from the runner's report.json (the items a
 * notebook records with lib's `report()`), never from prose. Keyed by notebook name.
 */
export interface Claim {
  item: string;
  /** Human-readable statement of the claim, shown when it fails. */
  says: string;
  holds: (value: number) => boolean;
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
};
