/**
 * File plans (what goes where) and the small pieces both release kinds share: writing a plan,
 * instructor-only path patterns, pruning TypeScript files whose relative imports were left out,
 * package.json script selection and the release templates.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

/** One file of a plan: copied from `from`, or written from `content`. */
export interface PlanFile {
  /** Destination, relative to the output folder, forward slashes. */
  to: string;
  from?: string;
  content?: string;
  executable?: boolean;
}

/** A plan: the files, and what was deliberately left out (with why). */
export interface Plan {
  files: PlanFile[];
  dropped: { path: string; why: string }[];
}

/** Paths of grader, release and sandbox code and data: never in a student release. */
/** Also the reproduction experiments (tools/experiment*): their results files and script do not ship either. */
export const INSTRUCTOR_ONLY = /(^|\/)[^/]*(grade|grading|release|leakcheck|sandbox|autograd|adversar|hidden|submission|experiment)[^/]*(\/|$)/i;

/** Where the release templates live (tools/release/templates, from tools/ or tools/dist/). */
export function templatesDir(): string {
  for (const dir of [path.join(__dirname, "templates"), path.join(__dirname, "..", "..", "release", "templates")]) {
    if (fs.existsSync(dir)) return dir;
  }
  throw new Error(`release templates not found next to ${__dirname}`);
}

/** A template's text with `{{KEY}}` placeholders filled in. */
export function template(name: string, vars: Record<string, string> = {}): string {
  const text = fs.readFileSync(path.join(templatesDir(), name), "utf8");
  return text.replace(/\{\{(\w+)\}\}/g, (m, k: string) => (k in vars ? vars[k] : m));
}

/** The relative module specifiers a TypeScript/JavaScript file imports or requires. */
export function relativeImports(text: string): string[] {
  const sf = ts.createSourceFile("f.ts", text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) out.push(n.moduleSpecifier.text);
    else if (ts.isCallExpression(n) && n.arguments.length === 1 && ts.isStringLiteral(n.arguments[0])
      && ((ts.isIdentifier(n.expression) && n.expression.text === "require") || n.expression.kind === ts.SyntaxKind.ImportKeyword)) {
      out.push(n.arguments[0].text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out.filter((s) => s.startsWith("./") || s.startsWith("../"));
}

const RESOLVE = ["", ".ts", ".tsx", ".js", ".json", "/index.ts", "/index.js"];

/**
 * Drop, until nothing changes, every .ts file of the plan that imports a relative path the plan
 * does not contain (e.g. a tool that imports the grader): shipped code must compile.
 */
export function pruneBrokenImports(plan: Plan): void {
  for (let changed = true; changed;) {
    changed = false;
    const have = new Set(plan.files.map((f) => f.to));
    for (const f of plan.files) {
      if (!/\.tsx?$/.test(f.to)) continue;
      const text = f.content ?? fs.readFileSync(f.from as string, "utf8");
      const missing = relativeImports(text).find((spec) => {
        const base = path.posix.normalize(path.posix.join(path.posix.dirname(f.to), spec));
        return !RESOLVE.some((ext) => have.has(base + ext));
      });
      if (missing !== undefined) {
        plan.files = plan.files.filter((x) => x !== f);
        plan.dropped.push({ path: f.to, why: `imports ${missing}, which does not ship` });
        changed = true;
        break;
      }
    }
  }
}

/** Scripts of `scripts` whose command runs `tools/dist/<x>.js` for a tool the plan lacks are removed. */
export function scriptsThatWork(scripts: Record<string, string>, plan: Plan): Record<string, string> {
  const have = new Set(plan.files.map((f) => f.to));
  const out: Record<string, string> = {};
  for (const [k, cmd] of Object.entries(scripts)) {
    const tools = [...cmd.matchAll(/tools\/dist\/([\w/.-]+)\.js/g)].map((m) => `tools/${m[1]}.ts`);
    if (tools.every((t) => have.has(t))) out[k] = cmd;
    else plan.dropped.push({ path: `package.json scripts.${k}`, why: `needs ${tools.filter((t) => !have.has(t)).join(", ")}` });
  }
  return out;
}

/** Write a plan under `out` (which must exist and be empty). */
export function writePlan(plan: Plan, out: string): void {
  for (const f of plan.files) {
    const dest = path.join(out, ...f.to.split("/"));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (f.content !== undefined) fs.writeFileSync(dest, f.content);
    else fs.copyFileSync(f.from as string, dest);
    if (f.executable) fs.chmodSync(dest, 0o755);
  }
}

/**
 * Prepare an output folder: create it, or accept it when empty; with `force`, replace a folder
 * that holds an earlier output of the same kind (it has `marker`). Throws with the reason otherwise.
 */
export function prepareOut(out: string, force: boolean, marker: string, root: string): void {
  const abs = path.resolve(out);
  const r = path.resolve(root);
  if (abs === r || r.startsWith(abs + path.sep)) throw new Error(`--out ${out} would overwrite the course repository`);
  if (fs.existsSync(abs)) {
    if (!fs.statSync(abs).isDirectory()) throw new Error(`--out ${out} exists and is not a folder`);
    const entries = fs.readdirSync(abs);
    if (entries.length > 0) {
      if (!force) throw new Error(`--out ${out} is not empty (use --force to replace an earlier release there)`);
      if (!entries.includes(marker)) throw new Error(`--out ${out} is not empty and holds no ${marker}: refusing to delete it, even with --force`);
      fs.rmSync(abs, { recursive: true, force: true });
    }
  }
  fs.mkdirSync(abs, { recursive: true });
}

/** The repository's jest config as data (it must be plain JSON-able values). */
export function jestConfig(root: string): Record<string, unknown> {
  const file = path.join(root, "jest.config.js");
  delete require.cache[require.resolve(file)];
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const cfg = require(file) as Record<string, unknown>;
  const json = JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>;
  if (JSON.stringify(json) !== JSON.stringify(cfg) || Object.keys(json).length !== Object.keys(cfg).length) {
    throw new Error("jest.config.js holds values that are not plain data; the release cannot rewrite it");
  }
  return json;
}
