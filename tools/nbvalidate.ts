/**
 * Check committed notebooks: nbformat 4.5 schema, the tslab kernelspec, outputs stripped
 * (a committed notebook must not carry outputs that no run produced), no `export` in code cells
 * (tslab 1.0.22 rejects it), and every exercise cell a stub that throws "not implemented: <id>"
 * (the student release never contains a solution).
 *
 *   node tools/dist/nbvalidate.js [notebooks...]   # default: every notebooks/*.ipynb
 *
 * Exit code: 0 all valid, 1 problems found, 2 usage error.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { exerciseCells, NotebookError, readNotebook } from "./notebook";
import { notImplemented } from "./exercises";
import { repoRoot } from "./run";

/** Problems found in one notebook file. */
export interface NotebookCheck {
  file: string;
  problems: string[];
}

/** The committed notebooks: notebooks/*.ipynb under the repository root, sorted. */
export function committedNotebooks(root = repoRoot()): string[] {
  const dir = path.join(root, "notebooks");
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => n.endsWith(".ipynb")).sort().map((n) => path.join(dir, n));
}

/** Every problem with one committed notebook file (empty list: valid). */
export function checkCommittedNotebook(file: string): string[] {
  let nb;
  try {
    nb = readNotebook(file);
  } catch (e) {
    if (!(e instanceof NotebookError)) throw e;
    return e.problems.length > 0 ? e.problems : [e.message.replace(`${file}: `, "")];
  }
  const problems: string[] = [];
  const kernel = (nb.metadata.kernelspec as { name?: unknown } | undefined)?.name;
  if (kernel !== "tslab") problems.push(`metadata.kernelspec.name: must be "tslab" (got ${JSON.stringify(kernel)})`);
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    if ((cell.outputs ?? []).length > 0) problems.push(`cells[${i}].outputs: must be empty in a committed notebook (strip outputs)`);
    if (cell.execution_count !== null && cell.execution_count !== undefined) problems.push(`cells[${i}].execution_count: must be null in a committed notebook`);
    const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    if (/^export\s/m.test(source)) problems.push(`cells[${i}].source: tslab rejects top-level \`export\` in a cell; drop the keyword`);
  });
  for (const ex of exerciseCells(nb)) {
    if (!ex.source.includes(notImplemented(ex.id))) {
      problems.push(`cells[${ex.index}]: exercise '${ex.id}' must be a stub that throws new Error("${notImplemented(ex.id)}")`);
    }
  }
  return problems;
}

/** Check several notebook files. */
export function checkCommittedNotebooks(files: string[]): NotebookCheck[] {
  return files.map((file) => ({ file, problems: checkCommittedNotebook(file) }));
}

/** The CLI; returns the exit code. */
export function main(argv: string[]): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log("usage: node tools/dist/nbvalidate.js [notebooks...]\n\nValidate notebooks (default: notebooks/*.ipynb) against nbformat 4.5 and the course rules.");
    return 0;
  }
  const unknown = argv.find((a) => a.startsWith("-"));
  if (unknown) {
    console.error(`nbvalidate: unknown option ${unknown} (try --help)`);
    return 2;
  }
  const files = argv.length > 0 ? argv : committedNotebooks();
  if (files.length === 0) {
    console.log("nbvalidate: no notebooks to check");
    return 0;
  }
  let bad = 0;
  for (const { file, problems } of checkCommittedNotebooks(files)) {
    if (problems.length === 0) {
      console.log(`✓ ${file}`);
      continue;
    }
    bad += 1;
    console.error(`✗ ${file}\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
  return bad === 0 ? 0 : 1;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
