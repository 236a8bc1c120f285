import { MimeBundle } from "../../lib/src/display";
import { ProgressBar, formatDuration, renderProgressLine } from "../../lib/src/progress";

/** A fake clock and stream. */
function fakes(isTTY: boolean) {
  let ms = 0;
  const writes: string[] = [];
  return {
    clock: { now: () => ms, advance: (d: number) => (ms += d) },
    stream: { isTTY, write: (s: string) => writes.push(s) },
    writes,
  };
}

test("formatDuration", () => {
  expect(formatDuration(0)).toBe("0:00");
  expect(formatDuration(65)).toBe("1:05");
  expect(formatDuration(3725)).toBe("1:02:05");
  expect(formatDuration(Infinity)).toBe("?");
  expect(formatDuration(NaN)).toBe("?");
});

test("renderProgressLine: counts, percent, fields, rate and ETA", () => {
  const line = renderProgressLine({ label: "train", step: 25, total: 100, elapsed: 2.5, info: { loss: 0.5, note: "x" } });
  expect(line).toBe("train [#####---------------] 25/100  25% | loss 0.5000 | note x | 10.0 it/s | ETA 0:08");
  const done = renderProgressLine({ step: 100, total: 100, elapsed: 65, info: { loss: 1.23456e-5 } });
  expect(done).toBe("[####################] 100/100 100% | loss 1.235e-5 | 1.5 it/s | took 1:05");
  expect(renderProgressLine({ step: 0, total: 10, elapsed: 0 })).toBe("[--------------------] 0/10   0% | ? it/s | ETA ?");
});

test("TTY: redraws in place with \\r, throttled, newline at done", () => {
  const f = fakes(true);
  const bar = new ProgressBar({ total: 10, label: "a", mode: "bar", stream: f.stream, now: f.clock.now, minIntervalMs: 100 });
  bar.update(1); // drawn (first)
  f.clock.advance(50);
  bar.update(2); // throttled
  f.clock.advance(60);
  bar.update(3, { loss: 2 }); // drawn
  f.clock.advance(10);
  bar.done();
  bar.done(); // second call is a no-op
  expect(f.writes.length).toBe(3);
  expect(f.writes.every((w) => w.startsWith("\r") && w.includes("\x1b[K"))).toBe(true);
  expect(f.writes[1]).toContain("3/10");
  expect(f.writes[1]).toContain("loss 2.000");
  expect(f.writes[2].endsWith("\n")).toBe(true);
  expect(f.writes.slice(0, 2).some((w) => w.endsWith("\n"))).toBe(false);
});

test("non-TTY: plain lines at each 10 % (and at done), not every step", () => {
  const f = fakes(false);
  const bar = new ProgressBar({ total: 100, mode: "bar", stream: f.stream, now: f.clock.now });
  for (let i = 1; i <= 100; i++) {
    f.clock.advance(10);
    bar.update(i);
  }
  bar.done();
  // step 1 (first line), 10, 20, …, 90, then done at 100
  expect(f.writes.length).toBe(11);
  expect(f.writes.every((w) => w.endsWith("\n") && !w.includes("\r"))).toBe(true);
  expect(f.writes[10]).toContain("100/100 100%");
});

test("non-TTY: a line at least every 30 s even without 10 % progress", () => {
  const f = fakes(false);
  const bar = new ProgressBar({ total: 1000, mode: "bar", stream: f.stream, now: f.clock.now });
  bar.update(1);
  f.clock.advance(31000);
  bar.update(2);
  f.clock.advance(1000);
  bar.update(3);
  expect(f.writes.length).toBe(2);
});

test("notebook mode: updates one display slot with text and HTML", () => {
  const f = fakes(false);
  const bundles: MimeBundle[] = [];
  const bar = new ProgressBar({ total: 4, label: "nb<1>", mode: "notebook", display: { update: (b) => bundles.push(b) }, stream: f.stream, now: f.clock.now, minIntervalMs: 250 });
  bar.update(1);
  bar.update(2); // throttled
  f.clock.advance(300);
  bar.update(3, { loss: 0.1 });
  bar.done();
  expect(f.writes).toEqual([]);
  expect(bundles.length).toBe(3);
  expect(bundles[2]["text/plain"]).toContain("3/4");
  const html = bundles[2]["text/html"] as string;
  expect(html).toContain('<progress value="3" max="4"');
  expect(html).toContain("nb&lt;1&gt;");
});

test("mode none prints nothing; auto outside a notebook is a bar", () => {
  const f = fakes(true);
  const quiet = new ProgressBar({ total: 3, mode: "none", stream: f.stream, now: f.clock.now });
  quiet.update(1);
  quiet.done();
  expect(f.writes).toEqual([]);
  expect(new ProgressBar({ total: 3, stream: f.stream }).mode).toBe("bar");
});
