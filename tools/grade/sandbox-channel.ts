/**
 * The parent's end of the sandbox reply channel (fd 3 of a child; protocol in
 * tools/grade/child.ts): only lines that start with the child's secret per-child token reach the
 * grader; anything else (a student writing to fd 3 without the token) is dropped without being
 * buffered. Bounds: a token line longer than 64 Mi characters ("returned a value too large to
 * grade") or more than 512 Mi characters on the channel in all ("sent too much data to the
 * grader") end the child as `output-limit`.
 *
 * @see notebooks/01_score_matching.ipynb (its exercises are what the grader runs in the sandbox)
 */
import type { Duplex } from "stream";

const MAX_LINE_CHARS = 64 * 1024 * 1024;
const MAX_CHANNEL_CHARS = 512 * 1024 * 1024;

/**
 * Read `channel` as UTF-8 lines; call `onMessage` with the rest of each line that starts with
 * `prefix` (the token and a space), and `onFlood` with a student message when a bound is passed.
 */
export function readTokenLines(channel: Duplex, prefix: string, onMessage: (json: string) => void, onFlood: (message: string) => void): void {
  let pending: string[] = [];
  let pendingLen = 0;
  let junk = false;
  let channelChars = 0;
  channel.setEncoding("utf8");
  channel.on("data", (s: string) => {
    channelChars += s.length;
    if (channelChars > MAX_CHANNEL_CHARS) return onFlood("sent too much data to the grader");
    let start = 0;
    for (let nl = s.indexOf("\n"); nl >= 0; start = nl + 1, nl = s.indexOf("\n", start)) {
      if (!junk) pending.push(s.slice(start, nl));
      const line = junk ? "" : pending.join("");
      pending = [];
      pendingLen = 0;
      junk = false;
      if (line.startsWith(prefix)) onMessage(line.slice(prefix.length));
    }
    if (junk || start >= s.length) return;
    const rest = s.slice(start);
    pending.push(rest);
    pendingLen += rest.length;
    const head = pending.length === 1 ? rest : pending.join("");
    if (!prefix.startsWith(head.slice(0, prefix.length)) && !head.startsWith(prefix)) {
      junk = true; // cannot become a token line: stop buffering it
      pending = [];
      pendingLen = 0;
    } else if (pendingLen > MAX_LINE_CHARS) {
      onFlood("returned a value too large to grade");
    }
  });
  channel.on("error", () => undefined);
}
