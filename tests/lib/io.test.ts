import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isAtomicTempFile, writeFileAtomic } from "../../lib/src/io";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "io-test-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("writeFileAtomic", () => {
  test("writes text and bytes, creating folders, replacing old content, leaving no temp files", () => {
    const f = path.join(dir, "a", "b", "x.json");
    writeFileAtomic(f, "old");
    writeFileAtomic(f, '{"new": true}');
    expect(fs.readFileSync(f, "utf8")).toBe('{"new": true}');
    const g = path.join(dir, "w.bin");
    const bytes = new Uint8Array(3_000_000).map((_, i) => i % 251);
    writeFileAtomic(g, bytes);
    expect(Buffer.compare(fs.readFileSync(g), Buffer.from(bytes))).toBe(0);
    expect(fs.readdirSync(path.dirname(f))).toEqual(["x.json"]);
  });

  test("a failed write keeps the old file and removes its temp file", () => {
    const f = path.join(dir, "target");
    fs.mkdirSync(f); // renaming a file over a folder fails
    expect(() => writeFileAtomic(f, "data")).toThrow();
    expect(fs.statSync(f).isDirectory()).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(["target"]);
  });

  test("temp names are recognised, ordinary names are not", () => {
    expect(isAtomicTempFile(".alice.json.1234.k3j9x2.tmp")).toBe(true);
    expect(isAtomicTempFile("alice.json")).toBe(false);
    expect(isAtomicTempFile(".alice.json.tmp")).toBe(false);
  });
});
