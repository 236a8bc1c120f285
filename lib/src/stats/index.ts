/**
 * lib/src/stats: the statistics the course's verdicts rest on (see each file's header for its
 * papers: Wilson 1927, Newcombe 1998, Efron 1987, Neyman 1937).
 *
 * @see lib/src/stats/verdict.ts
 */
export * from "./interval";
export * from "./normal";
export * from "./wilson";
export * from "./bootstrap";
export * from "./seeds";
export * from "./verdict";
export * from "./agreement";
