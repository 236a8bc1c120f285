/**
 * Compiling exercise cells: each exercise ALONE, as the module
 *
 *   <the course notebook's import declarations>   (minus names the cell declares itself)
 *   <the student's exercise cell>                 (top-level `export` keywords stripped)
 *   export { <id> };
 *
 * type-checked with the course's compiler settings (tsconfig.base.json, TypeScript 5.0 as in
 * tslab), with errors reported at line:col of the student's cell; then its declared signature is
 * checked against the released stub's (the student's function must be assignable to the stub's
 * type, with the same number of parameters); then it is emitted as CommonJS for the sandbox.
 *
 * All exercises of a submission share one ts.Program, and parsed library declarations (tfjs,
 * @course/lib, node) are cached across submissions: ~1 s for the first, ~0.15 s after.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { stripExport } from "../exercises";

/** An exercise cell to compile, with the stub whose signature it must keep. */
export interface ExerciseSource {
  id: string;
  source: string;
  stub: string;
}

/** Why an exercise did not compile. */
export type CompileProblem = "not-defined" | "syntax" | "type" | "signature";

/** A compiled exercise (CommonJS for the sandbox) or a student-facing reason it failed. */
export type Compiled =
  | { id: string; ok: true; moduleJs: string }
  | { id: string; ok: false; problem: CompileProblem; message: string };

/** How many diagnostics a message lists. */
const SHOWN = 3;

/** tsconfig.base.json's options (the course's), adjusted to emit one CommonJS file in memory. */
export function courseCompilerOptions(root: string): ts.CompilerOptions {
  const file = path.join(root, "tsconfig.base.json");
  let options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2020, lib: ["lib.es2020.d.ts"], strict: true, esModuleInterop: true, skipLibCheck: true };
  if (fs.existsSync(file)) {
    const read = ts.readConfigFile(file, ts.sys.readFile);
    if (!read.error) options = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, file).options;
  }
  return {
    ...options,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.NodeJs,
    types: ["node"],
    noEmit: false, noEmitOnError: false, declaration: false, declarationMap: false, sourceMap: false,
    inlineSourceMap: false, composite: false, incremental: false, tsBuildInfoFile: undefined,
    outDir: undefined, rootDir: undefined, outFile: undefined, skipLibCheck: true,
    // A student's cell is compiled with the notebook's import cell, most of whose imports it does
    // not use; tslab does not reject unused names either.
    noUnusedLocals: false, noUnusedParameters: false,
  };
}

/** Compiles exercise cells; keep one per process to reuse parsed library declarations. */
export class ExerciseCompiler {
  private readonly options: ts.CompilerOptions;
  private readonly host: ts.CompilerHost;
  private readonly cache = new Map<string, ts.SourceFile | undefined>();
  private readonly virtualDir: string;
  private virtual = new Map<string, string>();
  private old: ts.Program | undefined;

  constructor(readonly root: string) {
    this.options = courseCompilerOptions(root);
    this.virtualDir = path.join(root, "__grade_virtual__");
    const host = ts.createCompilerHost(this.options, true);
    const base = { getSourceFile: host.getSourceFile, fileExists: host.fileExists, readFile: host.readFile };
    host.fileExists = (f) => this.virtual.has(f) || base.fileExists.call(host, f);
    host.readFile = (f) => this.virtual.get(f) ?? base.readFile.call(host, f);
    const dirExists = host.directoryExists;
    host.directoryExists = (d) => d === this.virtualDir || (dirExists ? dirExists.call(host, d) : ts.sys.directoryExists(d));
    host.getSourceFile = (f, lang, onError) => {
      const text = this.virtual.get(f);
      if (text !== undefined) return ts.createSourceFile(f, text, lang, true);
      if (!this.cache.has(f)) this.cache.set(f, base.getSourceFile.call(host, f, lang, onError));
      return this.cache.get(f);
    };
    host.writeFile = () => undefined;
    this.host = host;
  }

  /** Compile every exercise of one submission (one shared program). */
  compileAll(prelude: string[], exercises: ExerciseSource[]): Compiled[] {
    const v = (id: string, kind: string) => path.join(this.virtualDir, `${id}.${kind}.ts`);
    this.virtual = new Map();
    const plans = exercises.map((ex) => {
      const cell = stripExport(ex.source.replace(/\r\n?/g, "\n"));
      const declared = topLevelNames(cell);
      const kept = filterPrelude(prelude, declared);
      const head = kept.length > 0 ? kept.join("\n") + "\n" : "";
      const offset = head.split("\n").length - 1;
      const student = v(ex.id, "student");
      this.virtual.set(student, `${head}${cell}\n;export { ${ex.id} };\n`);
      this.virtual.set(v(ex.id, "stub"), `${prelude.join("\n")}\n${stripExport(ex.stub)}\n;export { ${ex.id} };\n`);
      this.virtual.set(v(ex.id, "sig"), [
        `import { ${ex.id} as __student } from "./${ex.id}.student";`,
        `import { ${ex.id} as __reference } from "./${ex.id}.stub";`,
        `export const __check: typeof __reference = __student;`,
      ].join("\n"));
      return { ex, cell, defined: declared.has(ex.id), student, offset };
    });
    const program = ts.createProgram({ rootNames: [...this.virtual.keys()], options: this.options, host: this.host, oldProgram: this.old });
    this.old = program;
    const checker = program.getTypeChecker();
    return plans.map((p): Compiled => {
      const id = p.ex.id;
      if (!p.defined) return { id, ok: false, problem: "not-defined", message: notDefinedMessage(id, p.cell) };
      const sf = program.getSourceFile(p.student) as ts.SourceFile;
      const syntax = program.getSyntacticDiagnostics(sf);
      if (syntax.length > 0) return { id, ok: false, problem: "syntax", message: `syntax error in the '${id}' cell:\n${formatDiagnostics(syntax, p.offset, p.cell)}` };
      const types = program.getSemanticDiagnostics(sf);
      if (types.length > 0) return { id, ok: false, problem: "type", message: `the '${id}' cell does not compile:\n${formatDiagnostics(types, p.offset, p.cell)}` };
      const stubSf = program.getSourceFile(v(id, "stub")) as ts.SourceFile;
      const want = signatureOf(stubSf, id, checker);
      const got = signatureOf(sf, id, checker);
      const sig = program.getSemanticDiagnostics(program.getSourceFile(v(id, "sig")));
      if (sig.length > 0 || want.params !== got.params) {
        return { id, ok: false, problem: "signature", message: `wrong signature for ${id}: expected ${want.text}, got ${got.text} (keep the signature of the released cell)` };
      }
      let moduleJs = "";
      program.emit(sf, (_name, text) => { moduleJs = text; });
      return { id, ok: true, moduleJs };
    });
  }
}

/** Names declared at the top level of a cell (functions, variables, classes, types, imports). */
export function topLevelNames(source: string): Set<string> {
  const sf = ts.createSourceFile("cell.ts", source, ts.ScriptTarget.ES2020, true);
  const names = new Set<string>();
  const addBinding = (n: ts.BindingName) => {
    if (ts.isIdentifier(n)) names.add(n.text);
    else n.elements.forEach((e) => { if (!ts.isOmittedExpression(e)) addBinding(e.name); });
  };
  for (const s of sf.statements) {
    if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isEnumDeclaration(s)) && s.name) names.add(s.name.text);
    else if (ts.isVariableStatement(s)) s.declarationList.declarations.forEach((d) => addBinding(d.name));
    else if (ts.isImportEqualsDeclaration(s)) names.add(s.name.text);
    else if (ts.isImportDeclaration(s) && s.importClause) {
      const c = s.importClause;
      if (c.name) names.add(c.name.text);
      if (c.namedBindings && ts.isNamespaceImport(c.namedBindings)) names.add(c.namedBindings.name.text);
      else if (c.namedBindings) c.namedBindings.elements.forEach((e) => names.add(e.name.text));
    }
  }
  return names;
}

/** The prelude's import declarations without the bindings a cell declares itself. */
export function filterPrelude(prelude: string[], declared: Set<string>): string[] {
  const out: string[] = [];
  for (const text of prelude) {
    const sf = ts.createSourceFile("p.ts", text, ts.ScriptTarget.ES2020, true);
    const s = sf.statements[0];
    if (!s || !ts.isImportDeclaration(s) || !s.importClause) {
      if (!(s && ts.isImportEqualsDeclaration(s) && declared.has(s.name.text))) out.push(text);
      continue;
    }
    const c = s.importClause;
    const from = s.moduleSpecifier.getText(sf);
    const typeOnly = c.isTypeOnly ? "type " : "";
    if (c.name && !declared.has(c.name.text)) out.push(`import ${typeOnly}${c.name.text} from ${from};`);
    if (c.namedBindings && ts.isNamespaceImport(c.namedBindings)) {
      if (!declared.has(c.namedBindings.name.text)) out.push(`import ${typeOnly}* as ${c.namedBindings.name.text} from ${from};`);
    } else if (c.namedBindings) {
      const kept = c.namedBindings.elements.filter((e) => !declared.has(e.name.text)).map((e) => e.getText(sf));
      if (kept.length > 0) out.push(`import ${typeOnly}{ ${kept.join(", ")} } from ${from};`);
    }
  }
  return out;
}

/** A declared signature as written (for messages) and its parameter count. */
function signatureOf(sf: ts.SourceFile, id: string, checker: ts.TypeChecker): { text: string; params: number } {
  for (const s of sf.statements) {
    let fn: ts.SignatureDeclaration | undefined;
    if (ts.isFunctionDeclaration(s) && s.name?.text === id) fn = s;
    if (ts.isVariableStatement(s)) {
      const d = s.declarationList.declarations.find((x) => ts.isIdentifier(x.name) && x.name.text === id);
      if (d?.initializer && (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer))) fn = d.initializer;
      else if (d) {
        const type = checker.getTypeAtLocation(d.name);
        const sig = type.getCallSignatures()[0];
        return { text: `${id}: ${checker.typeToString(type)}`, params: sig ? sig.getParameters().length : -1 };
      }
    }
    if (!fn) continue;
    const params = fn.parameters.map((p) => p.getText(sf).replace(/\s+/g, " ")).join(", ");
    const ret = fn.type ? `: ${fn.type.getText(sf)}` : "";
    return { text: `${id}(${params})${ret}`, params: fn.parameters.length };
  }
  return { text: `(no function ${id})`, params: -1 };
}

function notDefinedMessage(id: string, cell: string): string {
  const others = [...topLevelNames(cell)].filter((n) => /^[a-z]/.test(n) && n !== id);
  const hint = others.length > 0 ? ` (it defines ${others.slice(0, 3).join(", ")}; did you rename it? keep the name ${id})` : "";
  return `cell for '${id}' does not define function ${id}${hint}`;
}

/** Diagnostics as "line L, col C: message (TSnnnn)" relative to the student's cell, first with a code frame. */
function formatDiagnostics(diags: readonly ts.Diagnostic[], offset: number, cell: string): string {
  const cellLines = cell.split("\n");
  const lines: string[] = [];
  for (const d of diags.slice(0, SHOWN)) {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, " ");
    if (!d.file || d.start === undefined) {
      lines.push(`  ${msg} (TS${d.code})`);
      continue;
    }
    const pos = d.file.getLineAndCharacterOfPosition(d.start);
    const line = pos.line - offset;
    if (line < 0) lines.push(`  in the notebook's import cell: ${msg} (TS${d.code})`);
    else if (line >= cellLines.length) lines.push(`  at the end of the cell: ${msg} (TS${d.code})`);
    else {
      lines.push(`  line ${line + 1}, col ${pos.character + 1}: ${msg} (TS${d.code})${hint(d.code)}`);
      if (lines.length === 1) lines.push(`      ${cellLines[line].trimEnd()}`, `      ${" ".repeat(pos.character)}^`);
    }
  }
  if (diags.length > SHOWN) lines.push(`  … and ${diags.length - SHOWN} more`);
  return lines.join("\n");
}

function hint(code: number): string {
  if (code === 2304 || code === 2552) return " — an exercise cell is graded on its own: define any helper inside this cell";
  if (code === 1375 || code === 1378 || code === 1431 || code === 1308) return " — top-level await is not allowed in an exercise cell";
  return "";
}
