/**
 * The per-user `tslab` kernelspec is per checkout in effect (tools/kernelspec.ts,
 * tools/kernel-launcher.ts): kernel.json starts a launcher that runs the tslab of the course copy
 * holding the notebook, two copies side by side each get their own, and `npm ci`'s install says
 * when it re-points the fallback or replaces a foreign kernelspec. The real kernel starts through
 * the installed kernel.json, and, where Jupyter is installed, `jupyter kernelspec list` shows it
 * and nbconvert runs a notebook with it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { courseRootAbove, parseLauncherArgs, resolveKernel } from "../../tools/kernel-launcher";
import { KernelClient } from "../../tools/jupyter/kernel";
import { installKernelspec, jupyterDataDir, kernelJson, KERNEL_NAME } from "../../tools/kernelspec";

const ROOT = path.resolve(__dirname, "..", "..");
const COURSE = "diffusion-guidance-course";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kernelspec-test-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A fake copy of the course whose "tslab" prints who it is, its arguments and its folder. */
function fakeCheckout(name: string, withTslab = true): string {
  const root = path.join(tmp, name);
  fs.mkdirSync(path.join(root, "notebooks", "sub"), { recursive: true });
  fs.writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: COURSE }));
  if (withTslab) {
    const dist = path.join(root, "node_modules", "tslab", "dist");
    fs.mkdirSync(dist, { recursive: true });
    fs.writeFileSync(path.join(dist, "main.js"),
      `exports.main = () => console.log(JSON.stringify({ who: ${JSON.stringify(name)}, argv: process.argv.slice(1), cwd: process.cwd() }));\n`);
  }
  return root;
}

const a = fakeCheckout("course-a");
const b = fakeCheckout("release-week2");
const bare = fakeCheckout("fresh-clone", false);
const outside = path.join(tmp, "elsewhere");
fs.mkdirSync(outside);

describe("which copy of the course a kernel runs", () => {
  test("the nearest folder above with the course's package.json", () => {
    expect(courseRootAbove(path.join(b, "notebooks", "sub"), COURSE)).toBe(b);
    expect(courseRootAbove(a, COURSE)).toBe(a);
    expect(courseRootAbove(outside, COURSE)).toBeNull();
    fs.writeFileSync(path.join(outside, "package.json"), "{ not json");
    expect(courseRootAbove(outside, COURSE)).toBeNull();
    fs.rmSync(path.join(outside, "package.json"));
  });

  test("two copies side by side: each notebook gets its own copy's tslab, whichever registered the kernel", () => {
    expect(resolveKernel(path.join(b, "notebooks"), COURSE, a)).toEqual({ root: b, main: path.join(b, "node_modules", "tslab", "dist", "main.js") });
    expect(resolveKernel(path.join(a, "notebooks", "sub"), COURSE, b)).toEqual({ root: a, main: path.join(a, "node_modules", "tslab", "dist", "main.js") });
  });

  test("outside any copy, or in one not installed yet: the registering copy, with the reason", () => {
    const out = resolveKernel(outside, COURSE, a);
    expect(out).toMatchObject({ root: a, note: expect.stringMatching(/elsewhere is not inside a copy of the course .*starting the tslab of .*course-a/) });
    const notYet = resolveKernel(path.join(bare, "notebooks"), COURSE, a);
    expect(notYet).toMatchObject({ root: a, note: expect.stringMatching(/fresh-clone has no node_modules\/tslab yet \(run `npm ci` there\)/) });
  });

  test("the registering copy is gone: an error that says what to do", () => {
    const r = resolveKernel(outside, COURSE, path.join(tmp, "deleted"));
    expect(r).toEqual({ error: expect.stringMatching(/deleted, the copy of the course that registered this kernel, has no node_modules\/tslab any more .*Run `npm ci` in your copy of the course/) });
  });

  test("launcher arguments: its own options, then tslab's", () => {
    expect(parseLauncherArgs(["--course", COURSE, "--fallback", a, "kernel", "--config-path", "c.json"]))
      .toEqual({ course: COURSE, fallback: a, rest: ["kernel", "--config-path", "c.json"] });
    expect(() => parseLauncherArgs(["kernel"])).toThrow(/usage: launch\.js --course NAME --fallback ROOT/);
  });
});

describe("npm ci's install", () => {
  const env = (dir: string) => ({ ...process.env, JUPYTER_DATA_DIR: path.join(tmp, dir) });

  test("writes kernel.json and the launcher under JUPYTER_DATA_DIR, named tslab", () => {
    const { file, message } = installKernelspec(env("jd-fresh"), a);
    expect(file).toBe(path.join(tmp, "jd-fresh", "kernels", KERNEL_NAME, "kernel.json"));
    expect(jupyterDataDir(env("jd-fresh"))).toBe(path.join(tmp, "jd-fresh"));
    expect(message).toMatch(/^tslab kernelspec registered: .*kernel\.json \(notebooks inside a copy of the course run that copy's own tslab; elsewhere, the one in .*course-a\)$/);
    const spec = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(spec.argv).toEqual([process.execPath, path.join(path.dirname(file), "launch.js"), "--course", COURSE, "--fallback", a, "kernel", "--config-path", "{connection_file}"]);
    expect(spec).toMatchObject({ display_name: "TypeScript (tslab)", language: "typescript", interrupt_mode: "signal", metadata: { course: COURSE, root: a } });
    expect(fs.existsSync(path.join(path.dirname(file), "launch.js"))).toBe(true);
  });

  test("installing again from the same copy is quiet; from another copy it says what it re-points", () => {
    expect(installKernelspec(env("jd-fresh"), a).message).toMatch(/^tslab kernelspec registered:/);
    const moved = installKernelspec(env("jd-fresh"), b).message;
    expect(moved).toMatch(/kernel\.json pointed to the course in .*course-a; it now falls back to .*release-week2\. Each copy of the course still runs its own tslab/);
  });

  test("an old kernel.json that ran one checkout's tslab directly counts as that checkout", () => {
    const dir = path.join(tmp, "jd-old", "kernels", "tslab");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "kernel.json"), JSON.stringify(kernelJson(a)));
    expect(installKernelspec(env("jd-old"), b).message).toMatch(/pointed to the course in .*course-a; it now falls back to .*release-week2/);
  });

  test("a foreign tslab kernelspec is replaced with a message and kept as kernel.json.bak", () => {
    const dir = path.join(tmp, "jd-foreign", "kernels", "tslab");
    fs.mkdirSync(dir, { recursive: true });
    const foreign = JSON.stringify({ argv: ["tslab", "kernel", "--config-path", "{connection_file}"], display_name: "TypeScript", language: "typescript" });
    fs.writeFileSync(path.join(dir, "kernel.json"), foreign);
    expect(installKernelspec(env("jd-foreign"), a).message).toMatch(/replaced .*kernel\.json, which was not this course's \(it ran: tslab kernel --config-path \{connection_file\}\); the old one is kept as kernel\.json\.bak/);
    expect(fs.readFileSync(path.join(dir, "kernel.json.bak"), "utf8")).toBe(foreign);
  });

  test("the installed kernel.json, run as Jupyter runs it, starts the tslab of the copy that holds the notebook", () => {
    const { file } = installKernelspec(env("jd-run"), a);
    const argv = (JSON.parse(fs.readFileSync(file, "utf8")).argv as string[]).map((x) => x.replace("{connection_file}", "/c/kernel-1.json"));
    const launch = (cwd: string) => spawnSync(argv[0], argv.slice(1), { cwd, encoding: "utf8", timeout: 30_000 });
    const inB = launch(path.join(b, "notebooks"));
    expect([inB.status, inB.stderr]).toEqual([0, ""]);
    expect(JSON.parse(inB.stdout)).toEqual({ who: "release-week2", argv: [path.join(b, "node_modules", "tslab", "bin", "tslab"), "kernel", "--config-path", "/c/kernel-1.json"], cwd: path.join(b, "notebooks") });
    expect(JSON.parse(launch(path.join(a, "notebooks")).stdout).who).toBe("course-a");
    const out = launch(outside);
    expect(JSON.parse(out.stdout).who).toBe("course-a");
    expect(out.stderr).toMatch(/^tslab kernel: .*elsewhere is not inside a copy of the course/);
    fs.renameSync(a, `${a}-moved`);
    try {
      const gone = launch(outside);
      expect(gone.status).toBe(1);
      expect(gone.stderr).toMatch(/has no node_modules\/tslab any more .*Run `npm ci` in your copy of the course to register the kernel again/);
    } finally {
      fs.renameSync(`${a}-moved`, a);
    }
  });
});

describe("the real kernel through the installed kernelspec", () => {
  const jd = path.join(tmp, "jd-real");
  let file = "";
  beforeAll(() => {
    file = installKernelspec({ ...process.env, JUPYTER_DATA_DIR: jd }).file;
  });

  test("starts this checkout's tslab for a notebook in notebooks/ and runs TypeScript", async () => {
    const argv = JSON.parse(fs.readFileSync(file, "utf8")).argv as string[];
    const kernel = await KernelClient.start({ cwd: path.join(ROOT, "notebooks"), argv });
    try {
      const r = await kernel.execute('const n: number = 6 * 7; console.log(n, require.resolve("tslab"))', 60_000);
      expect(r.status).toBe("ok");
      expect(JSON.stringify(r.outputs)).toContain(`42 ${path.join(ROOT, "node_modules", "tslab")}`);
    } finally {
      await kernel.shutdown();
    }
  }, 120_000);

  const jupyter = spawnSync("jupyter", ["kernelspec", "list"], { encoding: "utf8", env: { ...process.env, JUPYTER_DATA_DIR: jd } });
  const withJupyter = jupyter.status === 0 ? test : test.skip;
  if (jupyter.status !== 0) console.log("SKIPPED: `jupyter kernelspec` is not installed; the Jupyter checks of the kernelspec run in CI");
  withJupyter("Jupyter lists it as tslab, and nbconvert runs a notebook with it", () => {
    const list = spawnSync("jupyter", ["kernelspec", "list"], { encoding: "utf8", env: { ...process.env, JUPYTER_DATA_DIR: jd } });
    expect(list.stdout).toMatch(new RegExp(`^ *tslab +${path.dirname(file).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    fs.mkdirSync(path.join(ROOT, "build"), { recursive: true });
    const dir = fs.mkdtempSync(path.join(ROOT, "build", "kernelspec-test-"));
    try {
      const nb = {
        cells: [{ cell_type: "code", execution_count: null, id: "c1", metadata: {}, outputs: [], source: ['import { Rng } from "@course/lib";\nconsole.log(typeof Rng, process.cwd());'] }],
        metadata: { kernelspec: { name: "tslab", display_name: "TypeScript (tslab)", language: "typescript" } }, nbformat: 4, nbformat_minor: 5,
      };
      fs.writeFileSync(path.join(dir, "k.ipynb"), JSON.stringify(nb));
      const r = spawnSync("jupyter", ["nbconvert", "--to", "notebook", "--execute", "--stdout", "k.ipynb"],
        { cwd: dir, encoding: "utf8", env: { ...process.env, JUPYTER_DATA_DIR: jd, JUPYTER_PATH: "" }, timeout: 180_000 });
      if (r.status !== 0) throw new Error(`nbconvert failed (exit ${r.status}): ${(r.stderr ?? "").split("\n").slice(-8).join("\n")}`);
      expect(JSON.stringify(JSON.parse(r.stdout).cells[0].outputs)).toContain(`function ${dir}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 200_000);
});
