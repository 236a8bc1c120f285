/**
 * Jupyter connection files: the five localhost ports and the HMAC key a kernel is started with.
 *
 * A frontend (Jupyter, nbconvert, our headless runner) picks free ports, writes them with a random
 * key to a JSON file, and passes its path to the kernel as `{connection_file}` in kernel.json's
 * argv. The kernel binds the ports; the frontend connects to them.
 *
 * @see https://jupyter-client.readthedocs.io/en/latest/kernels.html#connection-files
 * @see notebooks/01_score_matching.ipynb
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/** The five channels of the Jupyter messaging protocol. */
export type Channel = "shell" | "iopub" | "stdin" | "control" | "hb";

/** Contents of a connection file (the fields tslab and jupyter_client read). */
export interface ConnectionInfo {
  transport: "tcp";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  /** HMAC-SHA256 key shared by kernel and frontend (hex). */
  key: string;
  signature_scheme: "hmac-sha256";
  kernel_name: string;
}

/** A connection file on disk, in its own private temp directory. */
export interface ConnectionFile {
  info: ConnectionInfo;
  /** Path of the JSON file. */
  file: string;
  /** Its temp directory (removed by {@link removeConnectionFile}). */
  dir: string;
}

/**
 * The OS's ephemeral port range: where it picks the source port of an outgoing connection and the
 * port of a `listen(0)`. Linux publishes it in /proc; elsewhere the IANA range (macOS, Windows).
 */
export function ephemeralPortRange(file = "/proc/sys/net/ipv4/ip_local_port_range"): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync(file, "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo > 1024 && lo <= hi) return [lo, hi];
  } catch {
    // not Linux
  }
  return [49152, 65535];
}

/** Lowest port {@link freePorts} picks from (below it sit well-known services: 8888, 5432, ...). */
const LOWEST_PORT = 10000;

/** Listen on `port` (0: any) and resolve with the server, or with null if the port is taken. */
function tryListen(port: number, ip: string): Promise<net.Server | null> {
  const server = net.createServer();
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => (e.code === "EADDRINUSE" || e.code === "EACCES" ? resolve(null) : reject(e)));
    server.listen(port, ip, () => resolve(server));
  });
}

/**
 * `n` distinct free TCP ports on `ip`, held open together so none repeats, then released for the
 * kernel to bind. They are drawn at random from *below* the ephemeral range, not from `listen(0)`:
 * the frontend connects before the kernel has bound its ports (tslab takes ~2 s to start), and
 * ZeroMQ keeps retrying; a retry whose ephemeral source port happens to equal the destination port
 * connects the socket to itself (TCP simultaneous open), and the kernel's bind then fails. tslab
 * stays alive after a failed bind and never answers. Below the ephemeral range no source port,
 * and no other program's `listen(0)`, can take the port. Falls back to `listen(0)` when no such
 * port is free.
 */
export async function freePorts(n: number, ip = "127.0.0.1"): Promise<number[]> {
  const servers: net.Server[] = [];
  const [ephemeralLow] = ephemeralPortRange();
  const lo = ephemeralLow - LOWEST_PORT >= 1000 ? LOWEST_PORT : 1025;
  const canPick = ephemeralLow - lo >= 100;
  try {
    const ports: number[] = [];
    for (let tries = 0; ports.length < n; tries++) {
      const wanted = canPick && tries < 50 * n ? crypto.randomInt(lo, ephemeralLow) : 0;
      if (ports.includes(wanted)) continue;
      const server = await tryListen(wanted, ip);
      if (!server) continue;
      servers.push(server);
      const addr = server.address();
      if (addr === null || typeof addr === "string") throw new Error("could not read a free port");
      ports.push(addr.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** The ZeroMQ address of one channel, e.g. `tcp://127.0.0.1:50123`. */
export function channelAddress(info: ConnectionInfo, channel: Channel): string {
  const port = info[`${channel}_port`];
  return `${info.transport}://${info.ip}:${port}`;
}

/** Pick ports and a random key, and write the connection file (mode 0600) to a fresh temp dir. */
export async function writeConnectionFile(kernelName = "tslab"): Promise<ConnectionFile> {
  const ip = "127.0.0.1";
  const [shell, iopub, stdin, control, hb] = await freePorts(5, ip);
  const info: ConnectionInfo = {
    transport: "tcp",
    ip,
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    key: crypto.randomBytes(32).toString("hex"),
    signature_scheme: "hmac-sha256",
    kernel_name: kernelName,
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "course-kernel-"));
  const file = path.join(dir, `kernel-${crypto.randomUUID()}.json`);
  fs.writeFileSync(file, JSON.stringify(info, null, 1) + "\n", { mode: 0o600 });
  return { info, file, dir };
}

/** Delete a connection file and its temp directory (ignores what is already gone). */
export function removeConnectionFile(conn: ConnectionFile): void {
  fs.rmSync(conn.dir, { recursive: true, force: true });
}
