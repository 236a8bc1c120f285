/**
 * The sandbox's words for the student and its output cap: durations and sizes as they appear in
 * outcome messages ("timed out after 10 s", "printed more than 64 KiB of output"), and the
 * {@link OutputSink} that keeps at most `outputBytes` of stdout+stderr per run (across all of
 * the run's children), then marks the text as truncated.
 *
 * @see notebooks/01_score_matching.ipynb (its exercises are what the grader runs in the sandbox)
 */

/** `ms` as seconds for a message: "10 s", "0.5 s". */
export function sec(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** `n` bytes for a message: "64 KiB", "16 MiB", "1000 bytes". */
export function bytes(n: number): string {
  return n % 1024 === 0 && n >= 1024 ? (n % (1024 * 1024) === 0 ? `${n / 1024 / 1024} MiB` : `${n / 1024} KiB`) : `${n} bytes`;
}

/** Text kept from all children of one run: at most `cap` bytes in all, then a marker. */
export class OutputSink {
  private parts: Record<"stdout" | "stderr", Buffer[]> = { stdout: [], stderr: [] };
  private truncated = { stdout: false, stderr: false };
  private kept = 0;
  constructor(private readonly cap: number) {}
  add(stream: "stdout" | "stderr", chunk: Buffer): void {
    const room = this.cap - this.kept;
    if (chunk.length > room) this.truncated[stream] = true;
    if (room <= 0) return;
    const part = chunk.subarray(0, room);
    this.parts[stream].push(part);
    this.kept += part.length;
  }
  text(stream: "stdout" | "stderr"): string {
    const s = Buffer.concat(this.parts[stream]).toString("utf8");
    return this.truncated[stream] ? `${s}\n[output truncated: more than ${bytes(this.cap)} in all]\n` : s;
  }
}
