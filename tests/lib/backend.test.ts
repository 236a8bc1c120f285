import { spawnSync } from "child_process";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { BACKEND_ENV, initBackend, useBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { MlpDenoiser, epsModel } from "../../lib/src/nets/mlp";
import { makeSchedule } from "../../lib/src/schedules";
import { ddimStep, sample } from "../../lib/src/samplers";

const ROOT = path.resolve(__dirname, "..", "..");

/** Run initBackend() in a fresh node process with an environment override (uses the built lib). */
function chooseIn(env: Record<string, string | undefined>): { status: number | null; out: string; err: string } {
  const code = `require("@course/lib").initBackend().then(i => console.log(JSON.stringify(i)), e => { console.error(e.message); process.exit(3); })`;
  const r = spawnSync(process.execPath, ["-e", code], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8", timeout: 60000 });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

describe("initBackend", () => {
  test("chooses tfjs-node if it loads, else wasm, and says why", async () => {
    const info = await initBackend();
    expect(["tensorflow", "wasm"]).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name);
    expect(info.reason.length).toBeGreaterThan(0);
    expect(await initBackend()).toBe(info); // once per process
  });

  test(`${BACKEND_ENV}=cpu forces the cpu backend`, () => {
    const r = chooseIn({ [BACKEND_ENV]: "cpu" });
    expect(r.status).toBe(0);
    const info = JSON.parse(r.out);
    expect(info.name).toBe("cpu");
    expect(info.reason).toBe(`forced by ${BACKEND_ENV}; sampling engine: ${info.engine}`);
  });

  test(`${BACKEND_ENV}=wasm forces wasm`, () => {
    const r = chooseIn({ [BACKEND_ENV]: "wasm" });
    expect(JSON.parse(r.out).name).toBe("wasm");
  });

  test("an unknown override is a clear error, not a silent fallback", () => {
    const r = chooseIn({ [BACKEND_ENV]: "gpu" });
    expect(r.status).toBe(3);
    expect(r.err).toMatch(/COURSE_BACKEND=gpu is not a backend; use one of: tensorflow \(alias node\), wasm, cpu/);
  });

  test("the sampling engine is reported, and COURSE_ENGINE forces it", () => {
    const forced = chooseIn({ [BACKEND_ENV]: "cpu", COURSE_ENGINE: "tfjs" });
    expect(JSON.parse(forced.out).engine).toBe("tfjs (forced by COURSE_ENGINE)");
    const auto = JSON.parse(chooseIn({ [BACKEND_ENV]: "cpu", COURSE_ENGINE: "" }).out).engine as string;
    let ortInstalled = true;
    try {
      require.resolve("onnxruntime-node");
    } catch {
      ortInstalled = false;
    }
    expect(auto).toMatch(ortInstalled ? /^onnx \(onnxruntime-node installed/ : /^tfjs \(onnxruntime-node not installed/);
    const bad = chooseIn({ COURSE_ENGINE: "gpu" });
    expect(bad.status).toBe(3);
    expect(bad.err).toMatch(/COURSE_ENGINE=gpu is not an engine; use tfjs or onnx/);
  });

  test("asking for tfjs-node where it is not installed says so", () => {
    let installed = true;
    try {
      require.resolve("@tensorflow/tfjs-node");
    } catch {
      installed = false;
    }
    const r = chooseIn({ [BACKEND_ENV]: "node" });
    if (installed) expect(JSON.parse(r.out).name).toBe("tensorflow");
    else expect(r.err).toMatch(/asks for tfjs-node but tfjs-node unavailable/);
  });
});

describe("backends agree", () => {
  test("an MLP denoiser's 10-step DDIM samples agree between the chosen backend and cpu within 1e-4 relative", async () => {
    await initBackend();
    const run = () => {
      const net = new MlpDenoiser({ dataDim: 2, hidden: 64, depth: 2, timeDim: 16 }, new Rng(0));
      const x = sample({ model: epsModel(net), schedule: makeSchedule("linear", 100), step: ddimStep(0), shape: [64, 2], numSteps: 10, rng: new Rng(1) });
      const out = Array.from(x.dataSync());
      x.dispose();
      net.dispose();
      return out;
    };
    const main = run();
    const previous = await useBackend("cpu");
    let ref: number[];
    try {
      ref = run();
    } finally {
      await useBackend(previous as "wasm" | "tensorflow");
    }
    let worst = 0;
    main.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ref[i]) / (1 + Math.abs(ref[i])))));
    expect(worst).toBeLessThan(1e-4);
    expect(tf.getBackend()).toBe(previous);
  });
});
