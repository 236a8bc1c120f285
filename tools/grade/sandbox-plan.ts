/**
 * Capability probing and the read allow-list of the grader's sandbox. Finds the tools
 * (prlimit, unshare, setpriv), the Node permission-model flag (`--permission` or
 * `--experimental-permission`) and a free uid range, then starts tiny probe children with each
 * combination (strongest first) until one proves that the allow-list is readable, a path outside
 * it is not, and (with `unshare`) that connect() fails with ENETUNREACH. The winning {@link Plan}
 * is cached for the process; {@link sandboxCapabilities} reports it, one summary line per mechanism.
 *
 * Read allow-list (nothing else in the repository or on the machine): the two harness files
 * (tools/dist/grade/child.js, serialize.js); the package folders tfjs loads at run time
 * ({@link RUNTIME_PACKAGES}, hoisted copies under node_modules; nested node_modules inside them
 * come along) and lib's own runtime dependencies ({@link dependencyClosure}); @course/lib's `dist/` and `package.json` (not `src/`: node_modules/@course/lib is
 * a symlink to lib/, so the lib is allowed by its real path). Scratch folders come on top
 * (tools/grade/sandbox-command.ts).
 *
 * @see notebooks/01_score_matching.ipynb (its exercises are what the grader runs in the sandbox)
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { command, HIDE_SCRIPT, Plan } from "./sandbox-command";
import { DEFAULT_LIMITS, SandboxCapabilities } from "./sandbox-types";

/** Packages tfjs + the wasm backend load at run time (checked by the sandbox tests). */
export const RUNTIME_PACKAGES = [
  "@tensorflow/tfjs", "@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-cpu", "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-backend-webgl", "@tensorflow/tfjs-layers", "@tensorflow/tfjs-converter", "@tensorflow/tfjs-data",
  "long", "seedrandom",
] as const;

/**
 * The packages @course/lib itself depends on at run time (its package.json `dependencies`, and
 * theirs, transitively, as hoisted under node_modules), so that adding a lib dependency (e.g.
 * ml-matrix) never needs a second edit here.
 */
export function dependencyClosure(root: string, pkgDir: string): string[] {
  const seen = new Set<string>();
  const visit = (dir: string) => {
    const deps = (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> }).dependencies ?? {};
    const names = Object.keys(deps);
    if (dir === pkgDir) names.push(...requiredPackages(path.join(dir, "dist", "index.js")));
    for (const name of names) {
      const d = path.join(root, "node_modules", name);
      if (seen.has(name) || !fs.existsSync(path.join(d, "package.json"))) continue;
      seen.add(name);
      visit(d);
    }
  };
  visit(pkgDir);
  return [...seen].sort();
}

/**
 * Bare package names `require`d at the top level of the lib's compiled modules reachable from `entry` (following
 * relative requires), so that a lib module using a package its package.json does not list still
 * loads in the sandbox. Only packages under node_modules: never a relative path or the repository.
 */
function requiredPackages(entry: string): string[] {
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || seen.size > 2000) return;
    seen.add(file);
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      return;
    }
    for (const m of text.matchAll(/require\("(\.[^"]*)"\)/g)) {
      const base = path.resolve(path.dirname(file), m[1]);
      const f = [`${base}.js`, path.join(base, "index.js"), base].find((x) => fs.existsSync(x) && fs.statSync(x).isFile());
      if (f) visit(f);
    }
    // packages: top-level requires only (what loading the module needs; lazy ones inside functions are not followed)
    for (const m of text.matchAll(/^(?:const|var|let) [\w$]+ = (?:__import\w+\()?require\("([^".][^"]*)"\)/gm)) {
      const name = /^(@[\w.-]+\/[\w.-]+|[\w][\w.-]*)/.exec(m[1].replace(/^node:/, ""));
      if (name) out.add(name[1]);
    }
  };
  visit(entry);
  return [...out];
}

/** Whether `unshare … sh -c HIDE_SCRIPT` works here and really hides the folders (no file of them is readable). */
function hidesSecrets(unshare: string[], hide: string[]): boolean {
  const check = hide.map((d) => `[ -z "$(ls -A ${JSON.stringify(d)} 2>/dev/null)" ] || exit 3`).join("; ");
  const r = spawnSync(unshare[0], [...unshare.slice(1), "/bin/sh", "-c", HIDE_SCRIPT, "sh", String(hide.length), ...hide, "/bin/sh", "-c", `${check}; exit 0`], { stdio: "ignore", timeout: 15_000 });
  return r.status === 0;
}

function findRoot(): string {
  for (let d = __dirname; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, "node_modules", "@tensorflow", "tfjs", "package.json"))) return d;
    if (path.dirname(d) === d) throw new Error(`sandbox: no node_modules/@tensorflow/tfjs above ${__dirname}`);
  }
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(path.delimiter).concat(["/usr/bin", "/bin", "/usr/sbin"])) {
    const f = path.join(dir, cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      // next
    }
  }
  return null;
}

function uidRange(): [number, number] | null {
  try {
    for (const line of fs.readFileSync("/proc/self/uid_map", "utf8").trim().split("\n")) {
      const [inside, , count] = line.trim().split(/\s+/).map(Number);
      const lo = Math.max(inside, 1_000_000);
      const hi = Math.min(inside + count - 1, 2_000_000);
      if (hi - lo > 1000) return [lo, hi];
      const lo2 = Math.max(inside, 60_000);
      const hi2 = Math.min(inside + count - 1, 65_000);
      if (hi2 - lo2 > 100) return [lo2, hi2];
    }
  } catch {
    // not Linux
  }
  return null;
}

const PROBE = `const a=JSON.parse(process.argv[1]),fs=require("fs");for(const f of a.allow)fs.readFileSync(f);
try{fs.readFileSync(a.deny);process.exit(3)}catch(e){}if(!a.netns)process.exit(0);
const s=require("net").connect(9,"127.0.0.1");s.on("connect",()=>process.exit(4));
s.on("error",(e)=>process.exit(e.code==="ENETUNREACH"?0:5));`;

let cachedPlan: Plan | null = null;

function makePlan(): Plan {
  const root = findRoot();
  const here = path.join(__dirname, "child.js");
  const childScript = fs.existsSync(here) ? here : path.join(root, "tools", "dist", "grade", "child.js");
  const serializeJs = path.join(path.dirname(childScript), "serialize.js");
  if (!fs.existsSync(childScript) || !fs.existsSync(serializeJs)) {
    throw new Error(`sandbox: ${childScript} is missing; build the tools first (npm run build)`);
  }
  const resolve = (id: string): string => fs.realpathSync(require.resolve(id, { paths: [root] }));
  const paths = { tfjs: resolve("@tensorflow/tfjs"), wasm: resolve("@tensorflow/tfjs-backend-wasm"), lib: resolve("@course/lib") };
  const libDir = path.dirname(fs.realpathSync(path.join(root, "node_modules", "@course", "lib", "package.json")));
  // no duplicates: Node 20's permission radix tree asserts on a repeated --allow-fs-read path
  const packages = [...new Set([...RUNTIME_PACKAGES, ...dependencyClosure(root, libDir)])].map((p) => path.join(root, "node_modules", p))
    .filter((d) => fs.existsSync(path.join(d, "package.json"))).map((d) => fs.realpathSync(d)).filter((d, i, all) => all.indexOf(d) === i);
  const allowRead = [childScript, serializeJs, ...packages, path.join(libDir, "dist"), path.join(libDir, "package.json")];

  const flags = process.allowedNodeEnvironmentFlags;
  const permissionFlag = flags.has("--permission") ? "--permission" : flags.has("--experimental-permission") ? "--experimental-permission" : "";
  const warningFlag = flags.has("--disable-warning") ? "--disable-warning=ExperimentalWarning" : "--no-warnings";
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  // COURSE_SANDBOX_NO_UNSHARE=1 simulates a container that forbids unshare (Docker's default seccomp profile)
  const unsharePath = process.env.COURSE_SANDBOX_NO_UNSHARE === "1" ? null : which("unshare");
  const secrets = ["solutions", "tests"].map((d) => path.join(root, d)).filter((d) => fs.existsSync(d));
  const setpriv = which("setpriv");
  const range = isRoot && setpriv ? uidRange() : null;
  const base: Plan = {
    caps: { fsPermission: false, networkNamespace: false, mountNamespace: false, separateUid: false, parentDeathSignal: setpriv !== null,
      cpuLimit: false, memoryWatchdog: fs.existsSync("/proc/self/status"), allowRead, summary: [] },
    permissionFlag, flagStyle: "repeat", warningFlag, prlimit: which("prlimit"), unshare: [], hide: [], setpriv, uidRange: range,
    childScript, paths,
  };
  const probe = (p: Plan, netns: boolean): boolean => {
    const uid = p.uidRange ? p.uidRange[0] : null;
    const arg = JSON.stringify({ allow: [childScript, path.join(paths.wasm)], deny: path.join(root, "package.json"), netns });
    const [file, ...args] = command(p, { limits: DEFAULT_LIMITS, scratch: null, work: null, uid, script: ["-e", PROBE, arg] });
    return spawnSync(file, args, { cwd: "/", env: {}, stdio: "ignore", timeout: 15_000 }).status === 0;
  };
  if (!permissionFlag) return finishPlan(base, `this Node (${process.version}) has no permission model`);
  // with a private mount namespace first (secrets hidden), then the network namespace alone, then nothing
  const unshares: Array<{ unshare: string[]; hide: string[] }> = [];
  if (unsharePath) {
    for (const f of isRoot ? [["-m", "-n"], ["-r", "-m", "-n"]] : [["-r", "-m", "-n"]]) unshares.push({ unshare: [unsharePath, ...f, "--"], hide: secrets });
    for (const f of isRoot ? [["-n"], ["-rn"]] : [["-rn"]]) unshares.push({ unshare: [unsharePath, ...f, "--"], hide: [] });
  }
  for (const style of ["repeat", "comma"] as const) {
    for (const { unshare, hide } of [...unshares, { unshare: [], hide: [] }]) {
      if (hide.length > 0 && !hidesSecrets(unshare, hide)) continue;
      for (const uids of range ? [range, null] : [null]) {
        const p: Plan = { ...base, flagStyle: style, unshare, hide, uidRange: uids };
        if (!probe(p, unshare.length > 0)) continue;
        p.caps = { ...p.caps, fsPermission: true, networkNamespace: unshare.length > 0, mountNamespace: hide.length > 0, separateUid: uids !== null, cpuLimit: p.prlimit !== null };
        return finishPlan(p, "");
      }
    }
  }
  return finishPlan(base, "the permission-model probe failed");
}

function finishPlan(p: Plan, problem: string): Plan {
  const c = p.caps;
  c.summary = [
    c.fsPermission ? `filesystem: Node permission model (${p.permissionFlag}), read allow-list of ${c.allowRead.length} entries + scratch` : `filesystem: NOT RESTRICTED (${problem})`,
    c.networkNamespace ? `network: own network namespace (${path.basename(p.unshare[0])} ${p.unshare.slice(1, -1).join(" ")})` : "network: JS-level guards only (no usable unshare): defence in depth, not a guarantee",
    c.mountNamespace ? `secrets: private mount namespace, ${p.hide.map((d) => path.basename(d) + "/").join(" and ")} replaced by empty unreadable tmpfs mounts (second layer under the permission model)` : "secrets: no mount namespace (unshare -m not allowed): the permission model is the only layer hiding solutions/ and tests/",
    c.separateUid ? "processes: separate uid per run (setpriv), cannot signal the grader or other runs" : "processes: same uid as the grader; JS guard on process.kill only",
    c.cpuLimit ? "cpu: RLIMIT_CPU per child (prlimit)" : "cpu: no RLIMIT_CPU (no prlimit); wall-clock limits only",
    c.memoryWatchdog ? "memory: V8 heap cap + RSS watchdog (/proc)" : "memory: V8 heap cap only (no /proc): wasm memory unbounded",
    c.parentDeathSignal ? "orphans: parent-death signal (setpriv --pdeathsig)" : "orphans: killed at grader exit only",
  ];
  return p;
}

/** The probed launch plan of this process (probed on first use). */
export function plan(): Plan {
  if (!cachedPlan) cachedPlan = makePlan();
  return cachedPlan;
}

/** Probe (once) and report the isolation mechanisms available here. */
export function sandboxCapabilities(): SandboxCapabilities {
  return plan().caps;
}
