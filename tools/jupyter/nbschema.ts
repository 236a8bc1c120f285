/**
 * Validation against nbformat's own JSON schema (v4.5, draft-04, in tools/schema/) via
 * ajv-draft-04. Instead of ajv's raw `oneOf` noise, each cell is checked against the definition
 * its `cell_type` selects and each output against the one its `output_type` selects, and
 * problems carry a JSON path such as `cells[3].outputs[0].name`.
 *
 * @see https://nbformat.readthedocs.io/en/latest/format_description.html
 * @see notebooks/01_score_matching.ipynb
 */
import Ajv, { ErrorObject, ValidateFunction } from "ajv-draft-04";
import * as fs from "fs";
import * as path from "path";


interface Validators {
  full: ValidateFunction;
  top: ValidateFunction;
  cell: Record<string, ValidateFunction>;
  output: Record<string, ValidateFunction>;
}

/** Path of the nbformat schema, from tools/jupyter/ (ts-jest) or tools/dist/jupyter/ (compiled). */
export function schemaPath(): string {
  const name = "nbformat.v4.5.schema.json";
  const candidates = [path.join(__dirname, "..", "schema", name), path.join(__dirname, "..", "..", "schema", name)];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`nbformat schema not found (looked in ${candidates.join(", ")})`);
  return found;
}

// Compiled once per process (~70 ms) and never changed after: a cache, not configuration.
const validatorCache: { v?: Validators } = {};
function validators(): Validators {
  if (validatorCache.v) return validatorCache.v;
  const schema = JSON.parse(fs.readFileSync(schemaPath(), "utf8")) as Record<string, unknown>;
  // A shallow copy whose `cell` and `output` accept any object, so each cell and output can be
  // checked against the one definition its type selects (clear messages instead of oneOf noise).
  const shallow = JSON.parse(JSON.stringify(schema)) as { definitions: Record<string, unknown> };
  shallow.definitions.cell = { type: "object" };
  shallow.definitions.output = { type: "object" };
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addSchema(shallow, "shallow");
  const ref = (def: string) => ajv.compile({ $ref: `shallow#/definitions/${def}` });
  validatorCache.v = {
    full: new Ajv({ allErrors: false, strict: false }).compile(schema),
    top: ajv.compile({ $ref: "shallow#" }),
    cell: { code: ref("code_cell"), markdown: ref("markdown_cell"), raw: ref("raw_cell") },
    output: { execute_result: ref("execute_result"), display_data: ref("display_data"), stream: ref("stream"), error: ref("error") },
  };
  return validatorCache.v;
}

/** Schema problems of a notebook, each "<json path>: <message>"; empty when valid. */
export function schemaProblems(nb: unknown): string[] {
  const v = validators();
  if (v.full(nb) as boolean) return []; // (not a type guard here: nb stays `unknown`)
  const problems = (v.top(nb) as boolean) ? [] : formatErrors(v.top.errors, "");
  const cells = isObject(nb) && Array.isArray(nb.cells) ? nb.cells : [];
  cells.forEach((cell: unknown, i: number) => {
    if (!isObject(cell)) return; // reported by `top`
    const check = v.cell[String(cell.cell_type)];
    if (!check) return problems.push(`cells[${i}].cell_type: must be "code", "markdown" or "raw" (got ${JSON.stringify(cell.cell_type)})`);
    if (!check(cell)) problems.push(...formatErrors(check.errors, `cells[${i}]`));
    const outputs = Array.isArray(cell.outputs) ? cell.outputs : [];
    outputs.forEach((out: unknown, j: number) => {
      if (!isObject(out)) return;
      const checkOut = v.output[String(out.output_type)];
      const where = `cells[${i}].outputs[${j}]`;
      if (!checkOut) return problems.push(`${where}.output_type: unknown output type ${JSON.stringify(out.output_type)}`);
      if (!checkOut(out)) problems.push(...formatErrors(checkOut.errors, where));
    });
  });
  if (problems.length === 0) problems.push(...formatErrors(v.full.errors, ""));
  return problems;
}

function formatErrors(errors: ErrorObject[] | null | undefined, prefix: string): string[] {
  // Group by location: a failed oneOf (e.g. "string or list of lines") becomes one message.
  const groups = new Map<string, ErrorObject[]>();
  for (const e of errors ?? []) groups.set(e.instancePath, [...(groups.get(e.instancePath) ?? []), e]);
  const out: string[] = [];
  for (const [pointer, group] of groups) {
    const where = (prefix + pointerToPath(pointer)).replace(/^\./, "") || "(notebook)";
    const types = group.filter((e) => e.keyword === "type").map((e) => String(e.params.type));
    if (group.some((e) => e.keyword === "oneOf" || e.keyword === "anyOf") && types.length > 0) {
      out.push(`${where}: must be ${types.join(" or ")}`);
      continue;
    }
    for (const e of group) {
      const extra =
        e.keyword === "additionalProperties" ? ` ('${String(e.params.additionalProperty)}')`
        : e.keyword === "enum" ? ` (${JSON.stringify(e.params.allowedValues)})`
        : "";
      out.push(`${where}: ${e.message ?? e.keyword}${extra}`);
    }
  }
  return out;
}

/** JSON pointer "/cells/0/data/text~1plain" → path ".cells[0].data["text/plain"]". */
function pointerToPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((raw) => raw.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((k) => (/^\d+$/.test(k) ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`))
    .join("");
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
