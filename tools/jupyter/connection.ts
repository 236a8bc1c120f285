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

/** Ask the OS for `n` distinct free TCP ports on `ip` (held open together so none repeats). */
export async function freePorts(n: number, ip = "127.0.0.1"): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, ip, () => resolve());
      });
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
