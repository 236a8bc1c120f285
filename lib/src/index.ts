/**
 * @course/lib — the shared library of the diffusion & guidance course.
 * Notebooks import it by package name: `import { initBackend, Rng } from "@course/lib";`
 */
export * from "./backend";
export * from "./random";
export * from "./display";
export * from "./plot";
export * from "./report";
export * from "./schedules";
export * from "./forward";
export * from "./param";
export * from "./losses";
export * from "./samplers";
export * from "./data/toy2d";
export * from "./metrics";
export * from "./ops";
export * from "./nets/timeEmbedding";
export * from "./nets/mlp";
export * from "./train";
export * from "./progress";
export * from "./checkpoint";
export * from "./recipes";
export * from "./data/fashionMnist";
export * from "./guidance";
export * from "./metrics/frechet";
export * from "./metrics/precisionRecall";
export * from "./metrics/classScores";
export type { FeatureMatrix } from "./metrics/features";
export * from "./io";
export * from "./nets/layers";
export * from "./nets/unet";
export * from "./nets/classifier";
export * from "./imageRecipes";
export * from "./imageSampling";
export * from "./imageEval";
export * from "./guidanceSweep";
export * from "./table";
export * from "./text/tokenizer";
export * from "./data/captionedFashion";
