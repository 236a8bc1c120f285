/**
 * The grader's sandbox (tools/grade/sandbox.ts + the child harness tools/dist/grade/child.js, built
 * by `npm run build`) against well-behaved, broken and hostile student modules
 * (tests/tools/fixtures/sandbox/). Every case is contained with the exact status and message, the
 * calls after it still run, and no process or scratch folder is left behind. Small limits keep
 * the file at ~20 s.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { runInSandbox, sandboxCapabilities, SandboxLimits, SandboxResult } from "../../tools/grade/sandbox";
import { decode, DecodedTensor, encode, Wire } from "../../tools/grade/serialize";
import { Rng } from "../../lib/src/random";

const ROOT = path.resolve(__dirname, "..", "..");
const FIX = path.join(__dirname, "fixtures", "sandbox");
const fixture = (name: string): string => fs.readFileSync(path.join(FIX, name), "utf8");
const GOOD = fixture("good.js");
const ADV = fixture("adversarial.js");
const SOLUTIONS = path.join(ROOT, "solutions", "01_score_matching.ts");
const FAST: Partial<SandboxLimits> = { perCallMs: 1500, totalMs: 30_000, memoryMb: 400, cpuSeconds: 20, outputBytes: 4096 };
const caps = sandboxCapabilities();

let scratchRoot = "";
beforeAll(() => {
  scratchRoot = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-test-"));
});
afterAll(() => fs.rmSync(scratchRoot, { recursive: true, force: true }));

/** Live processes whose command line mentions this file's scratch root (= sandbox children). */
function sandboxProcesses(): number[] {
  return fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(scratchRoot);
    } catch {
      return false;
    }
  });
}

type Call = [string, ...unknown[]];

async function run(moduleJs: string, calls: Call[], limits: Partial<SandboxLimits> = {}, jsGuards = true): Promise<SandboxResult> {
  const r = await runInSandbox({
    moduleJs, scratchRoot, jsGuards, limits: { ...FAST, ...limits },
    calls: calls.map(([exportName, ...args]) => ({ exportName, args: args.map((a) => encode(a)) })),
  });
  expect(sandboxProcesses()).toEqual([]);
  expect(fs.readdirSync(scratchRoot)).toEqual([]);
  expect(r.outcomes).toHaveLength(calls.length);
  return r;
}

const ok = (value: unknown) => ({ status: "ok", value: encode(value), ms: expect.any(Number) });
const bad = (status: string, message: string) => ({ status, message, ms: expect.any(Number) });
const tensorWire = (shape: number[], data: number[]): Wire => ({ __tensor: { shape, dtype: "float32", data } });

describe("capabilities", () => {
  test("the permission model is active and the read allow-list holds no secrets", () => {
    console.log(`sandbox mechanisms:\n  ${caps.summary.join("\n  ")}`);
    expect(caps.fsPermission).toBe(true);
    const allowed = (p: string) => p.startsWith(path.join(ROOT, "node_modules") + path.sep)
      || p === path.join(ROOT, "lib", "dist") || p === path.join(ROOT, "lib", "package.json")
      || p === path.join(ROOT, "tools", "dist", "grade", "child.js") || p === path.join(ROOT, "tools", "dist", "grade", "serialize.js");
    expect(caps.allowRead.filter((p) => !allowed(p))).toEqual([]);
    expect(caps.allowRead).toContain(path.join(ROOT, "node_modules", "@tensorflow", "tfjs-backend-wasm"));
    expect(caps.allowRead.some((p) => p.includes("@course"))).toBe(false); // the symlink to lib/ would expose lib/src
  });

  test("a child starts and answers quickly (target ≲ 1 s)", async () => {
    const t0 = Date.now();
    const r = await run(GOOD, [["add", 1, 2]]);
    const ms = Date.now() - t0;
    console.log(`one child, one call: ${ms} ms`);
    expect(r.outcomes).toEqual([ok(3)]);
    expect(ms).toBeLessThan(3000);
  });
});

describe("a good module", () => {
  test("returns correct values, tensors included, on the wasm backend", async () => {
    const x0 = tensorWire([2, 2], [1, 2, 3, 4]);
    const eps = tensorWire([2, 2], [0, 1, 1, 0]);
    const r = await runInSandbox({
      moduleJs: GOOD, scratchRoot, limits: FAST,
      calls: [
        { exportName: "addNoise", args: [x0, eps, 0.25] },
        { exportName: "meanSquare", args: [x0] },
        { exportName: "asInt", args: [tensorWire([3], [1.7, -2.2, 3])] },
      ],
    });
    const [noisy, loss, ints] = r.outcomes.map((o) => (o.status === "ok" ? decode(o.value) : o));
    const s = Math.sqrt(0.75);
    expect(noisy).toBeInstanceOf(DecodedTensor);
    expect((noisy as DecodedTensor).shape).toEqual([2, 2]);
    [0.5, 1 + s, 1.5 + s, 2].forEach((v, i) => expect((noisy as DecodedTensor).data[i]).toBeCloseTo(v, 5));
    expect(loss).toEqual(new DecodedTensor([], "float32", [7.5]));
    expect(ints).toEqual(new DecodedTensor([3], "int32", [1, -2, 3]));
  });

  test("plain values, promises, special numbers, @course/lib, and per-call tensor disposal", async () => {
    const r = await run(GOOD, [
      ["add", 2, 3], ["later", 21], ["echo", NaN, undefined, -0, { __num: "not a marker" }, new Float64Array([1, Infinity])],
      ["special"], ["seeded", 7], ["backend"], ["numTensors"], ["leak"], ["numTensors"], ["disposed"],
      ["notAFunction"], ["missing"],
    ]);
    const o = r.outcomes;
    expect(o.slice(0, 2)).toEqual([ok(5), ok(42)]);
    expect(o[2]).toEqual(ok([NaN, undefined, 0, { __num: "not a marker" }, new Float64Array([1, Infinity])]));
    expect(decode((o[3] as { value: Wire }).value)).toEqual({
      nan: NaN, inf: [Infinity, -Infinity], undef: undefined, f32: new Float32Array([1.5, NaN]),
    });
    expect(o[4]).toEqual(ok(new Rng(7).normalArray(3))); // the child's lib agrees with the trusted process
    expect(o[5]).toEqual(ok("wasm"));
    const count = (i: number): number => (o[i] as { value: number }).value;
    expect(count(7)).toBeGreaterThan(count(6) + 50);
    expect(count(8)).toBe(count(6)); // the 50 tensors and the variable of "leak" were disposed after it
    expect(o[9]).toEqual({ status: "ok", value: { __unsupported: "disposed tensor" }, ms: expect.any(Number) });
    expect(o[10]).toEqual(bad("load-error", 'the submission does not define a function named "notAFunction"'));
    expect(o[11]).toEqual(bad("load-error", 'the submission does not define a function named "missing"'));
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("");
  });
});

describe("broken code is contained and the next call still runs", () => {
  test("throws and infinite recursion", async () => {
    const r = await run(ADV, [["throws"], ["add", 1, 1], ["throwsType"], ["throwsString"], ["recursion"], ["add", 2, 2]]);
    expect(r.outcomes).toEqual([
      bad("threw", "not implemented: throws"), ok(2),
      bad("threw", "TypeError: Cannot read properties of null (reading 'field')"),
      bad("threw", 'threw string "plain string"'),
      bad("threw", "RangeError: Maximum call stack size exceeded"), ok(4),
    ]);
  });

  test("an infinite loop and a promise that never settles time out", async () => {
    const r = await run(ADV, [["loop"], ["add", 1, 1], ["neverResolves"], ["add", 2, 2]], { perCallMs: 1000 });
    expect(r.outcomes).toEqual([
      bad("timeout", "timed out after 1 s (infinite loop?)"), ok(2),
      bad("timeout", "timed out after 1 s (infinite loop?)"), ok(4),
    ]);
    expect(r.outcomes[0].ms).toBeGreaterThanOrEqual(1000);
    expect(r.outcomes[0].ms).toBeLessThan(1500);
  });

  test("process.exit(0), process.exit(3), abort and a broken channel", async () => {
    const r = await run(ADV, [["exit0"], ["add", 1, 1], ["exit3"], ["add", 2, 2], ["abort"], ["closeChannel"], ["add", 3, 3]]);
    expect(r.outcomes).toEqual([
      bad("exited", "called process.exit(0)"), ok(2), bad("exited", "called process.exit(3)"), ok(4),
      bad("crashed", "crashed (SIGABRT)"),
      bad("crashed", "broke the grading harness (closed or corrupted its file descriptors?)"), ok(6),
    ]);
  });

  test("4 GB of buffers, a V8 heap bomb and a wasm tensor bomb hit the memory cap", async () => {
    const r = await run(ADV, [["alloc4gb"], ["add", 1, 1], ["heapBomb"], ["add", 2, 2], ["tensorBomb"], ["add", 3, 3]],
      { memoryMb: 400, perCallMs: 5000 });
    const mem = bad("memory", "used more than 400 MB of memory");
    expect(r.outcomes).toEqual([mem, ok(2), mem, ok(4), mem, ok(6)]);
  });

  test("a wasm abort (tensor heap exhausted) is a memory outcome, and a fresh child serves the next calls", async () => {
    const r = await run(ADV, [["wasmAbort"], ["add", 1, 1], ["wasmAbortCaught"], ["add", 2, 2]], { memoryMb: 1024, perCallMs: 10_000 });
    expect(r.outcomes).toEqual([
      bad("memory", "ran out of tensor memory (the wasm backend aborted)"), ok(2),
      ok("Aborted(). Build with -sASSERTIONS for more info."), ok(4), // caught, yet the child was replaced
    ]);
  });

  test("unbounded output is cut off and killed; the text kept is capped", async () => {
    const r = await run(ADV, [["flood"], ["add", 1, 1], ["floodStderr"], ["add", 2, 2]], { outputBytes: 4096 });
    const out = bad("output-limit", "printed more than 4 KiB of output");
    expect(r.outcomes).toEqual([out, ok(2), out, ok(4)]);
    const marker = "\n[output truncated: more than 4 KiB in all]\n";
    expect(r.stdout.endsWith(marker)).toBe(true);
    expect(r.stderr.endsWith(marker)).toBe(true);
    expect(Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr)).toBeLessThanOrEqual(4096 + 2 * marker.length);
  });

  test("files in scratch: at most 16 MiB each (RLIMIT_FSIZE) and 64 MiB in all", async () => {
    const r = await run(ADV, [["bigFile"], ["diskFlood"], ["add", 1, 1]]);
    expect(r.outcomes).toEqual([
      bad("threw", "EFBIG: file too large, write"), bad("output-limit", "wrote more than 64 MiB of files"), ok(2),
    ]);
  });

  (caps.cpuLimit ? test : test.skip)("a busy loop beyond cpuSeconds is stopped by RLIMIT_CPU", async () => {
    const r = await run(ADV, [["spin"], ["add", 1, 1]], { cpuSeconds: 1, perCallMs: 10_000 });
    expect(r.outcomes).toEqual([bad("cpu-limit", "used more than 1 s of CPU time"), ok(2)]);
    expect(r.outcomes[0].ms).toBeLessThan(5000); // well before perCallMs: the CPU limit stopped it
  });

  test("the total time limit stops the run; the rest are reported, not run", async () => {
    const r = await run(ADV, [["loop"], ["add", 1, 1], ["add", 2, 2]], { perCallMs: 10_000, totalMs: 2000 });
    expect(r.outcomes).toEqual([
      bad("timeout", "stopped: the submission's total time limit of 2 s ran out"),
      bad("timeout", "not run: the submission's total time limit of 2 s was used up"),
      bad("timeout", "not run: the submission's total time limit of 2 s was used up"),
    ]);
  });

  test("errors thrown later (timers, unhandled rejections) go to stderr, not to another call", async () => {
    const r = await run(ADV, [["lateThrow"], ["sleep", 50], ["add", 2, 3]]);
    expect(r.outcomes).toEqual([ok(1), ok("slept"), ok(5)]);
    expect(r.stderr).toContain("uncaught error: thrown later");
    expect(r.stderr).toContain("unhandled promise rejection: rejected later");
  });
});

describe("modules that fail to load give every call load-error", () => {
  test.each([
    ["syntax_error.js", "SyntaxError: Unexpected end of input"],
    ["import_throw.js", "boom at import"],
    ["import_exit.js", "called process.exit(2) while loading the module"],
    ["import_loop.js", "timed out after 1 s while loading the module (infinite loop at the top level?)"],
    ["import_read.js", "Access to this API has been restricted"],
  ])("%s", async (name, message) => {
    const r = await run(fixture(name).replace("__SOLUTIONS__", SOLUTIONS), [["f"], ["f"]], { perCallMs: 1000 });
    expect(r.outcomes).toEqual([bad("load-error", message), bad("load-error", message)]);
  });
});

describe("isolation", () => {
  test("cannot read solutions, tests, lib/src, /etc or the repo, nor write outside scratch", async () => {
    const outside = path.join(os.tmpdir(), `sandbox-pwned-${process.pid}`);
    const submissions = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-submissions-"));
    fs.writeFileSync(path.join(submissions, "alice.ipynb"), "{}");
    try {
      const denied = "ERR_ACCESS_DENIED";
      const r = await run(ADV, [
        ["readFile", SOLUTIONS], ["readDir", path.join(ROOT, "solutions")], ["readDir", path.join(ROOT, "tests", "exercises")],
        ["readFile", path.join(ROOT, "tests", "exercises", "hidden", "01_score_matching.test.ts")],
        ["readFile", "/etc/passwd"], ["readFile", path.join(ROOT, "lib", "src", "random.ts")],
        ["readFile", path.join(ROOT, "node_modules", "@course", "lib", "src", "random.ts")],
        ["readFile", path.join(ROOT, "package.json")], ["readFile", path.join(ROOT, "tools", "dist", "grade", "sandbox.js")],
        ["readFile", path.join(submissions, "alice.ipynb")], ["requireFile", SOLUTIONS],
        ["writeFile", outside], ["writeFile", path.join(ROOT, "pwned.txt")], ["writeFile", "../submission.js"],
        ["writeFile", "in-scratch.txt"], ["readUncaught", SOLUTIONS],
      ]);
      // requireFile: the harness's require serves no file paths at all (before the permission model is asked)
      const required = r.outcomes[10];
      expect(required.status === "ok" && /^cannot import ".*" in an exercise cell/.test(String(required.value))).toBe(true);
      expect([...r.outcomes.slice(0, 10), ...r.outcomes.slice(11, 14)]).toEqual(Array(13).fill(ok(denied)));
      expect(r.outcomes[14]).toEqual(ok("no error"));
      expect(r.outcomes[15]).toEqual(bad("threw", "Access to this API has been restricted"));
      expect(fs.existsSync(outside)).toBe(false);
      expect(fs.existsSync(path.join(ROOT, "pwned.txt"))).toBe(false);
    } finally {
      fs.rmSync(submissions, { recursive: true, force: true });
    }
  });

  test("no processes, workers, links out of scratch, WASI, inspector, bindings or addons", async () => {
    const r = await run(ADV, [["escapes", SOLUTIONS, "."], ["spawnUncaught"]]);
    const d = "ERR_ACCESS_DENIED";
    expect(r.outcomes).toEqual([
      ok({
        symlink: d, hardlink: d, procEnviron: d, spawnSync: d, execSync: d, exec: d, fork: d, worker: d, wasi: d,
        inspector: d, inspectorSession: d, processBinding: d, dlopen: "ERR_DLOPEN_DISABLED", env: "COURSE_BACKEND",
      }),
      bad("threw", "Access to this API has been restricted"),
    ]);
  });

  test("a run cannot read another run's scratch folder while both are live", async () => {
    const slow = runInSandbox({ moduleJs: GOOD, scratchRoot, limits: { ...FAST, perCallMs: 10_000 }, calls: [{ exportName: "sleep", args: [2500] }] });
    let other = "";
    for (let i = 0; i < 100 && !other; i++) {
      await new Promise((res) => setTimeout(res, 20));
      other = fs.readdirSync(scratchRoot).map((d) => path.join(scratchRoot, d, "submission.js")).find((f) => fs.existsSync(f)) ?? "";
    }
    expect(other).not.toBe("");
    const spy = await runInSandbox({ moduleJs: ADV, scratchRoot, limits: FAST, calls: [{ exportName: "readFile", args: [other] }] });
    expect(spy.outcomes).toEqual([ok("ERR_ACCESS_DENIED")]);
    expect((await slow).outcomes).toEqual([ok("slept")]);
    expect(sandboxProcesses()).toEqual([]);
  });

  test("no network: nothing reaches a server listening in the grader", async () => {
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const guarded = await run(ADV, [["netConnect", port], ["httpGet", port], ["fetchGet", port], ["dnsLookup"], ["add", 1, 1]]);
      const guard = "network access is disabled in the grader";
      expect(guarded.outcomes).toEqual([ok(guard), ok(guard), ok(guard), ok("name resolution is disabled in the grader"), ok(2)]);
      if (caps.networkNamespace) {
        // The namespace alone (JS guards off) is the guarantee.
        const bare = await run(ADV, [["netConnect", port], ["httpGet", port], ["fetchGet", port], ["dnsLookup"]], {}, false);
        expect(bare.outcomes.slice(0, 3)).toEqual([ok("ENETUNREACH"), ok("ENETUNREACH"), ok("ENETUNREACH")]);
        expect(bare.outcomes[3]).toMatchObject({ status: "ok", value: expect.stringMatching(/^(EAI_AGAIN|ENOTFOUND|ECONNREFUSED)$/) });
      }
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  test("the JS guard refuses to signal other processes", async () => {
    const r = await run(ADV, [["killParent"]]);
    expect(r.outcomes).toEqual([ok("EPERM")]);
  });

  (caps.separateUid ? test : test.skip)("a separate uid: the child cannot signal the grader even without the JS guard", async () => {
    const r = await run(ADV, [["killParent"]], {}, false);
    expect(r.outcomes).toEqual([ok("EPERM")]);
  });

  test("tampering with Math.random, tfjs, JSON, prototypes, process.exit and console changes only that run's own values", async () => {
    const r = await run(ADV, [
      ["useSub"], ["tamper"], ["random"], ["useSub"], ["add", 2, 3], ["fakeResults"], ["exit3"], ["add", 1, 1],
    ]);
    const o = r.outcomes;
    expect(o.slice(0, 5)).toEqual([ok("no error: 2"), ok("tampered"), ok(0.42), ok("tampered Tensor.sub"), ok(5)]);
    // Array.prototype.toJSON garbles this run's own arrays, nothing else; process.exit is now a no-op.
    expect(o[5]).toEqual(ok({ value: 7, others: "tampered" }));
    expect(o.slice(6)).toEqual([ok(undefined), ok(2)]);
    expect(r.stdout).toBe('{"type":"done"}\n'); // console.log was silenced; fd 1 was written directly
    // Breaking tfjs itself fails the harness's health probe: the next call gets a fresh child.
    const broken = await run(ADV, [["breakTf"], ["useSub"]]);
    expect(broken.outcomes).toEqual([ok("broken"), ok("no error: 2")]);
    // A fresh run is untouched.
    const clean = await run(ADV, [["useSub"], ["random"]]);
    expect(clean.outcomes[0]).toEqual(ok("no error: 2"));
    expect(clean.outcomes[1]).not.toEqual(ok(0.42));
    expect(Math.random).not.toBe(undefined);
  });

  test("fake result lines on stdout, stderr and fd 3 are just text", async () => {
    const r = await run(ADV, [["fakeResults"], ["add", 1, 1]]);
    expect(r.outcomes[0]).toMatchObject({ status: "ok", value: { value: 7 } });
    expect(r.outcomes[1]).toEqual(ok(2));
    expect(r.stdout).toContain('{"type":"result","i":0,"status":"ok","value":999}');
    expect(r.stderr).toContain('{"type":"result","i":0,"status":"ok","value":999}');
  });
});

describe("defence in depth for the secrets", () => {
  test("where the OS allows a mount namespace, solutions/ and tests/ are empty and unreadable for the child even without the permission model", () => {
    const { plan } = require("../../tools/grade/sandbox-plan") as typeof import("../../tools/grade/sandbox-plan");
    const { command } = require("../../tools/grade/sandbox-command") as typeof import("../../tools/grade/sandbox-command");
    const p = plan();
    const caps = sandboxCapabilities();
    if (!caps.mountNamespace) {
      // the stated behaviour where unshare -m is refused (e.g. Docker's default profile)
      expect(caps.summary).toContain("secrets: no mount namespace (unshare -m not allowed): the permission model is the only layer hiding solutions/ and tests/");
      return;
    }
    const argv = command(p, { limits: { perCallMs: 1, totalMs: 1, cpuSeconds: 5, memoryMb: 64, outputBytes: 1 }, scratch: null, work: null, uid: null, script: [] });
    const wrapper = argv.slice(0, argv.indexOf(process.execPath));
    const { spawnSync } = require("child_process") as typeof import("child_process");
    const inside = spawnSync(wrapper[0], [...wrapper.slice(1), "/bin/cat", SOLUTIONS], { encoding: "utf8" });
    expect(inside.status).not.toBe(0);
    expect(inside.stdout).toBe("");
    const listing = spawnSync(wrapper[0], [...wrapper.slice(1), "/bin/ls", "-A", path.join(ROOT, "tests")], { encoding: "utf8" });
    expect(listing.stdout.trim()).toBe("");
    expect(spawnSync("/bin/cat", [SOLUTIONS]).status).toBe(0); // the grader itself still reads them
  });

  test("in a container without unshare (simulated), the stated layers remain and the secrets are still denied", () => {
    const { execFileSync } = require("child_process") as typeof import("child_process");
    const script = `
      const { runInSandbox, sandboxCapabilities } = require(${JSON.stringify(path.join(ROOT, "tools", "dist", "grade", "sandbox.js"))});
      runInSandbox({ moduleJs: ${JSON.stringify(ADV)}, calls: [{ exportName: "readFile", args: [${JSON.stringify(SOLUTIONS)}] }] })
        .then((r) => console.log(JSON.stringify({ caps: sandboxCapabilities(), outcome: r.outcomes[0] })));`;
    const out = JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8", env: { ...process.env, COURSE_SANDBOX_NO_UNSHARE: "1" } }));
    expect(out.caps.networkNamespace).toBe(false);
    expect(out.caps.mountNamespace).toBe(false);
    expect(out.caps.fsPermission).toBe(true);
    expect(out.caps.summary).toContain("network: JS-level guards only (no usable unshare): defence in depth, not a guarantee");
    expect(out.outcome).toEqual({ status: "ok", value: "ERR_ACCESS_DENIED", ms: expect.any(Number) });
  });
});
