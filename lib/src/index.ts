/**
 * @course/lib — the shared library of the diffusion & guidance course.
 * Notebooks import it by package name: `import { initBackend, Rng } from "@course/lib";`
 */
export * from "./backend";
export * from "./random";
export * from "./display";
export * from "./plot";
export * from "./report";
