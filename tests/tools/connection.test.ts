/**
 * Kernel ports: picked below the OS's ephemeral range (no self-connect, no clash with listen(0)),
 * and a kernel that cannot bind one of its ports is restarted on fresh ones instead of hanging.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { ConnectionFile, ephemeralPortRange, freePorts, writeConnectionFile } from "../../tools/jupyter/connection";
import { KernelClient } from "../../tools/jupyter/kernel";

const FIX_NOTEBOOKS = path.join(__dirname, "fixtures", "notebooks");

describe("ephemeralPortRange", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ports-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (text: string) => {
    const f = path.join(dir, `range-${Math.random()}`);
    fs.writeFileSync(f, text);
    return f;
  };

  test("reads Linux's ip_local_port_range", () => {
    expect(ephemeralPortRange(file("32768\t60999\n"))).toEqual([32768, 60999]);
  });

  test.each(["", "abc def", "70000 60000", "0 100"])("falls back to the IANA range on %j", (text) => {
    expect(ephemeralPortRange(file(text))).toEqual([49152, 65535]);
  });

  test("falls back when the file is missing", () => {
    expect(ephemeralPortRange(path.join(dir, "nope"))).toEqual([49152, 65535]);
  });
});

describe("freePorts", () => {
  test("distinct, free, and below the ephemeral range", async () => {
    const [low] = ephemeralPortRange();
    for (let round = 0; round < 20; round++) {
      const ports = await freePorts(5);
      expect(new Set(ports).size).toBe(5);
      for (const p of ports) {
        expect(p).toBeGreaterThanOrEqual(1025);
        expect(p).toBeLessThan(low);
      }
    }
    // released: each can be bound again
    const ports = await freePorts(5);
    for (const p of ports) {
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(p, "127.0.0.1", () => resolve());
      });
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });
});

describe("KernelClient.start", () => {
  test("a kernel whose shell port is taken is restarted on fresh ports, not waited on", async () => {
    const blocker = net.createServer((socket) => socket.destroy()); // a plain TCP server: not a kernel
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const taken = (blocker.address() as net.AddressInfo).port;
    const files: ConnectionFile[] = [];
    const connectionFile = async () => {
      const conn = await writeConnectionFile();
      if (files.length === 0) {
        conn.info.shell_port = taken;
        fs.writeFileSync(conn.file, JSON.stringify(conn.info));
      }
      files.push(conn);
      return conn;
    };
    const t0 = Date.now();
    const kernel = await KernelClient.start({ cwd: FIX_NOTEBOOKS, connectionFile, startupTimeoutMs: 60_000 });
    try {
      expect(files).toHaveLength(2);
      expect(Date.now() - t0).toBeLessThan(30_000); // not the 60 s startup timeout
      expect(fs.existsSync(files[0].file)).toBe(false); // the deaf kernel was killed and its file removed
      const r = await kernel.execute("console.log(6 * 7)", 30_000);
      expect(r.status).toBe("ok");
      expect(JSON.stringify(r.outputs)).toContain("42");
    } finally {
      await kernel.shutdown();
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
