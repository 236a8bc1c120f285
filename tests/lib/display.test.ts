import { displayBundle, escapeHtml, inNotebook, newDisplayHandle } from "../../lib/src/display";

// tslab's display writer is a mutable export of its jupyter module; the kernel sets it per cell.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };

type Call = { data: { data: Record<string, unknown>; transient: Record<string, unknown> }; update: boolean };

function fakeKernel(): Call[] {
  const calls: Call[] = [];
  jupyter.lastWriteDisplayData = (data: Call["data"], update: boolean) => calls.push({ data, update });
  return calls;
}

afterEach(() => {
  jupyter.lastWriteDisplayData = null;
  jest.restoreAllMocks();
});

describe("display outside a notebook", () => {
  test("inNotebook is false and displayBundle prints the text/plain part only", () => {
    expect(inNotebook()).toBe(false);
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    displayBundle({ "text/html": "<b>x</b>", "text/plain": "plain x" });
    displayBundle({ "text/html": "<b>only html</b>" });
    expect(log.mock.calls).toEqual([["plain x"]]);
  });

  test("a display handle is silent outside a notebook", () => {
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    newDisplayHandle().update({ "text/plain": "progress" });
    expect(log).not.toHaveBeenCalled();
  });
});

describe("display inside a tslab kernel", () => {
  test("displayBundle sends the whole MIME bundle in one display_data", () => {
    const calls = fakeKernel();
    expect(inNotebook()).toBe(true);
    const bundle = { "application/vnd.plotly.v1+json": { data: [] }, "text/html": "<svg/>", "text/plain": "[plot]" };
    displayBundle(bundle);
    expect(calls).toHaveLength(1);
    expect(calls[0].update).toBe(false);
    expect(calls[0].data.data).toEqual(bundle);
  });

  test("a handle first displays, then updates in place under one display id", () => {
    const calls = fakeKernel();
    const h = newDisplayHandle();
    h.update({ "text/plain": "1/3" });
    h.update({ "text/plain": "3/3" });
    expect(calls.map((c) => c.update)).toEqual([false, true]);
    const id = calls[0].data.transient.display_id;
    expect(typeof id).toBe("string");
    expect(calls[1].data.transient.display_id).toBe(id);
    const other = newDisplayHandle();
    other.update({ "text/plain": "x" });
    expect(calls[2].data.transient.display_id).not.toBe(id);
  });
});

test("escapeHtml escapes markup and quotes", () => {
  expect(escapeHtml(`<script>alert("x") & 'y'</script>`)).toBe("&lt;script&gt;alert(&quot;x&quot;) &amp; 'y'&lt;/script&gt;");
});
