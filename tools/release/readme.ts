/**
 * The student README, generated from the repository's README.md so that both stay in step:
 * the title and introduction, "Open the notebooks" and "Backends" are kept as they are; "Two
 * commands" gets the student meaning of the same two commands; the notebook table and the
 * command table keep only the rows that hold in the release; instructor-only sections
 * ("Continuous integration", "Grading and isolation") are dropped; an "Exercises" section explains the week's work; a parenthetical pointing to a script
 * the release lacks is removed. Unknown sections are kept.
 *
 * {@link readmeProblems} then checks that the result stays true for the release: every
 * `npm run X` / `npm start` / `npm test` is a script of its package.json, and every path it
 * names exists there.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";

/** What the README generator needs to know about the release. */
export interface ReadmeFacts {
  week: number;
  /** Release-relative notebook paths, e.g. notebooks/01_score_matching.ipynb. */
  notebooks: string[];
  /** Exercises still to do, and those whose solution ships. */
  todo: { id: string; notebook: string; week: number; points: number }[];
  released: { id: string; notebook: string }[];
  scripts: Record<string, string>;
  solutionsShipped: boolean;
}

interface Section {
  title: string;
  body: string;
}

function splitSections(md: string): { head: string; sections: Section[] } {
  const parts = md.split(/^(?=## )/m);
  const head = parts[0].startsWith("## ") ? "" : parts.shift() ?? "";
  return { head, sections: parts.map((p) => ({ title: p.split("\n")[0].replace(/^##\s+/, "").trim(), body: p.slice(p.indexOf("\n") + 1) })) };
}

function twoCommands(): string {
  return [
    "On a fresh copy (Node.js ≥ 18.17 and npm; no Python needed):",
    "",
    "```sh",
    "npm ci && npm start   # set up everything, then run every notebook headless with your code",
    "npm test              # unit tests, checks of your exercises, notebook execution, tools",
    "```",
    "",
    "`npm ci` installs the pinned dependencies, builds the shared library (`lib/`, imported by the",
    "notebooks as `@course/lib`) and the tools, and registers the `tslab` Jupyter kernel in your",
    "Jupyter data folder (no Python or `tslab install` needed; the kernel runs the copy of the course",
    "that holds the notebook, so this release and other copies side by side each use their own).",
    "`npm start` executes each notebook in a",
    "fresh tslab kernel with *your* code in the exercise cells, writes the executed copies to",
    "`build/executed/student/` (never over your notebooks), prints a summary table and the exercises",
    "still to do. It exits non-zero only if a cell fails for another reason than an exercise that is",
    "still a stub.",
    "",
  ].join("\n");
}

function exercisesSection(f: ReadmeFacts): string {
  const rows = f.todo.map((e) => `| \`${e.id}\` | \`${e.notebook}\` | ${Number.isFinite(e.week) ? e.week : "–"} | ${e.points} |`);
  const lines = [
    `This is the student edition for week ${f.week}.`,
    "",
    "- Each ✏️ exercise cell holds a signature, its documentation and a stub that throws",
    "  `not implemented: <name>`. Replace the stub with your code; later cells use your function.",
    "- `npm test` checks the functions in your notebooks (the public checks in `tests/exercises/`):",
    "  the checks of an exercise that is still a stub are skipped and listed, so the suite stays",
    "  green until you write code, and turns red only when your code fails a check. It also executes",
    "  your notebooks; a past week's notebook that you have not changed since the release (it holds",
    "  the reference solutions, which the course checked) is skipped there, and `npm start` runs it.",
    "- Keep each exercise cell's metadata (`exercise: {id, points, week}`): grading finds your",
    "  exercises by it. Adding, moving or running cells is fine.",
    "- Submit the notebook file itself (e.g. `" + (f.notebooks[0] ?? "notebooks/NN_topic.ipynb") + "`).",
  ];
  if (rows.length > 0) lines.push("", "| exercise | notebook | due week | points |", "|---|---|---|---|", ...rows);
  if (f.released.length > 0 && f.solutionsShipped) {
    lines.push("", `Reference solutions of past weeks (${f.released.map((e) => `\`${e.id}\``).join(", ")}) are filled in`,
      "in the notebooks and kept in `solutions/`.");
  }
  return lines.join("\n") + "\n\n";
}

/** Keep the table rows (lines starting with `|`) for which `keep` holds; other lines stay. */
function filterRows(body: string, keep: (row: string) => boolean): string {
  let header = 0;
  return body.split("\n").filter((l) => {
    if (!l.startsWith("|")) {
      header = 0;
      return true;
    }
    header += 1;
    return header <= 2 || keep(l);
  }).join("\n");
}

function scriptsUsed(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/\bnpm run ([\w:-]+)/g)) out.add(m[1]);
  for (const m of text.matchAll(/\bnpm (start|test)\b/g)) out.add(m[1]);
  return [...out];
}

/** The student README for a release, from the repository README's text. */
export function studentReadme(repoReadme: string, f: ReadmeFacts): string {
  const { head, sections } = splitSections(repoReadme);
  const stems = new Set(f.notebooks.map((n) => path.basename(n, ".ipynb")));
  const out: string[] = [head.replace(/\n*$/, "\n\n") + `> **Student edition, week ${f.week}.** Your exercises are in the notebooks; see *Exercises* below.\n\n`];
  for (const s of sections) {
    const t = s.title.toLowerCase();
    let body = s.body;
    if (t === "two commands") body = twoCommands();
    else if (t.startsWith("continuous integration") || t.startsWith("grading")) continue;
    else if (t === "notebooks") body = filterRows(body, (row) => [...row.matchAll(/`(\d\d_[^`]+)`/g)].some((m) => stems.has(m[1])));
    else if (t === "other commands") {
      body = filterRows(body, (row) => scriptsUsed(row).every((x) => x in f.scripts) && !/--mode instructor/.test(row));
    } else if (t === "layout") {
      body = body.split("\n").filter((l) => (f.solutionsShipped || !/^solutions\//.test(l)) && !/instructor edition only/.test(l))
        .map((l) => l.replace(/^(solutions\/\s+).*$/, "$1reference solutions of past weeks (after their deadlines)")).join("\n");
    }
    out.push(`## ${s.title}\n\n${body.trim()}\n\n`);
    if (t === "open the notebooks") out.push(`## Exercises\n\n${exercisesSection(f).trim()}\n\n`);
  }
  let text = out.join("");
  // A parenthetical that points to a script the release lacks (e.g. "(see `npm run bench` …)") goes.
  for (const x of scriptsUsed(text).filter((k) => !(k in f.scripts))) {
    text = text.replace(new RegExp(`[ \\t]*\\([^()]*\\bnpm run ${x}\\b[^()]*\\)`, "g"), "");
  }
  return text.replace(/\n{3,}/g, "\n\n").replace(/\n*$/, "\n");
}

/** Ways the README is untrue for the release in `dir` (empty when it holds). */
export function readmeProblems(readme: string, dir: string, scripts: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const s of scriptsUsed(readme)) if (!(s in scripts)) problems.push(`README mentions \`npm ${s === "start" || s === "test" ? s : `run ${s}`}\` but package.json has no "${s}" script`);
  const generated = /^(build|node_modules)\//;
  for (const m of readme.matchAll(/`((?:notebooks|lib|tools|tests|solutions|checkpoints|datasets)\/[^`\s]*)`/g)) {
    const p = m[1].replace(/[:,.]$/, "");
    if (generated.test(p) || /[<>*…]/.test(p) || /NN_/.test(p)) continue;
    if (!fs.existsSync(path.join(dir, p))) problems.push(`README names \`${p}\`, which the release does not contain`);
  }
  for (const word of [/npm run (grade|release)\b/, /tests\/exercises\/hidden/]) if (word.test(readme)) problems.push(`README mentions ${word.source} (instructor only)`);
  return problems;
}
