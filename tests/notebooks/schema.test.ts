/**
 * Every committed notebook is valid nbformat 4.5, uses the tslab kernelspec, has its outputs
 * stripped, has no `export` in cells, and ships exercise stubs only (tools/nbvalidate.ts).
 */
import * as path from "path";
import { checkCommittedNotebook, committedNotebooks } from "../../tools/nbvalidate";

const ROOT = path.resolve(__dirname, "..", "..");
const files = committedNotebooks(ROOT);

if (files.length === 0) {
  test.skip("no notebooks/*.ipynb yet: nothing to validate", () => undefined);
}

test.each(files.map((f) => [path.relative(ROOT, f)]))("%s is a valid committed notebook", (rel) => {
  expect(checkCommittedNotebook(path.join(ROOT, rel))).toEqual([]);
});
