/**
 * The parent's end of the sandbox reply channel (fd 3 of a child; protocol in
 * tools/grade/child.ts): only lines that start with the child's secret per-child token reach the
 * grader; anything else (a student writing to fd 3 without the token) is dropped without being
 * buffered.
 *
 * Bounds, enforced here BEFORE anything is parsed (the child's harness may have been tampered
 * with, so nothing it promises is trusted):
 * - one token line longer than {@link MAX_REPLY_CHARS} ends the child ("returned a value too
 *   large to grade");
 * - more than {@link MAX_RUN_CHARS} characters on the channels of one run (one exercise, all its
 *   children together, junk and newlines included) end it ("sent too much data to the grader").
 * The reader is linear time: each character is looked at a constant number of times (a partial
 * line is kept as a list of pieces and joined once, at its newline), so a newline flood or one
 * long line costs the grader only the bytes themselves.
 *
 * @see notebooks/01_score_matching.ipynb (its exercises are what the grader runs in the sandbox)
 */
import type { Duplex } from "stream";

/** Longest reply line (characters after the token). */
export const MAX_REPLY_CHARS = 8 * 1024 * 1024;
/** Most characters on the reply channels of one run (one exercise). */
export const MAX_RUN_CHARS = 32 * 1024 * 1024;

/** A run's shared channel budget (characters left). */
export interface ChannelBudget {
  left: number;
}

/** Fresh budget for one run. */
export function channelBudget(chars = MAX_RUN_CHARS): ChannelBudget {
  return { left: chars };
}

/**
 * Read `channel` as UTF-8 lines; call `onMessage` with the rest of each line that starts with
 * `prefix` (the token and a space), and `onFlood` (once) with a student message when a bound is
 * passed; nothing is read after that.
 */
export function readTokenLines(channel: Duplex, prefix: string, onMessage: (json: string) => void, onFlood: (message: string) => void,
  budget: ChannelBudget = channelBudget(), maxReply = MAX_REPLY_CHARS): void {
  let pieces: string[] = [];
  let kept = 0;
  let head = ""; // the line's first characters, until it is known whether it carries the token
  let state: "head" | "token" | "junk" = "head";
  let stopped = false;
  const stop = (message: string): void => {
    stopped = true;
    pieces = [];
    channel.removeAllListeners("data");
    channel.resume(); // drain and drop
    onFlood(message);
  };
  channel.setEncoding("utf8");
  channel.on("data", (s: string) => {
    if (stopped) return;
    budget.left -= s.length;
    if (budget.left < 0) return stop("sent too much data to the grader");
    let start = 0;
    while (start <= s.length) {
      const nl = s.indexOf("\n", start);
      const end = nl < 0 ? s.length : nl;
      if (state === "head" && end > start) {
        head += s.slice(start, Math.min(end, start + prefix.length - head.length));
        if (!prefix.startsWith(head)) state = "junk";
        else if (head.length === prefix.length) state = "token";
      }
      if (state !== "junk" && end > start) {
        kept += end - start;
        if (kept > maxReply + prefix.length) return stop("returned a value too large to grade");
        pieces.push(s.slice(start, end));
      }
      if (nl < 0) break;
      if (state === "token") {
        const line = pieces.length === 1 ? pieces[0] : pieces.join("");
        pieces = [];
        onMessage(line.slice(prefix.length));
        if (stopped) return;
      }
      pieces = [];
      kept = 0;
      head = "";
      state = "head";
      start = nl + 1;
    }
  });
  channel.on("error", () => undefined);
}
