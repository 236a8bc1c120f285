import { REPORT_MIME, ReportItem, formatReportValue, report, reportBundle, reportItemsFromOutputs, validateReportItems } from "../../lib/src/report";

const items: ReportItem[] = [
  { name: "final loss", value: 0.41234567, unit: "", meaning: "denoising MSE on held-out data" },
  { name: "train time", value: 12, unit: "s", meaning: "wall-clock <training> time & more" },
  { name: "tiny", value: 1.5e-7, unit: "nats", meaning: "a very small number" },
];

describe("reportBundle", () => {
  it("carries the items as JSON, an HTML table and an aligned text table", () => {
    const b = reportBundle(items, { title: "Score matching" });
    expect(b[REPORT_MIME]).toEqual({ items, title: "Score matching" });
    const html = b["text/html"] as string;
    expect(html).toContain("<table");
    expect((html.match(/<tr>/g) ?? []).length).toBe(4); // header + 3 rows
    expect(html).toContain("wall-clock &lt;training&gt; time &amp; more");
    expect(html).not.toContain("<training>");
    expect(html).toContain(">0.4123<");
    expect(html).toContain('title="0.41234567"');
    const text = b["text/plain"] as string;
    expect(text.split("\n")).toEqual([
      "[report] Score matching",
      "name           value  unit  meaning",
      "----------  --------  ----  ---------------------------------",
      "final loss    0.4123  -     denoising MSE on held-out data",
      "train time        12  s     wall-clock <training> time & more",
      "tiny        1.500e-7  nats  a very small number",
    ]);
  });

  it("omits the title when none is given", () => {
    const b = reportBundle(items.slice(0, 1));
    expect(b[REPORT_MIME]).toEqual({ items: items.slice(0, 1) });
    expect((b["text/plain"] as string).split("\n")[0]).toBe("[report]");
  });
});

describe("formatReportValue", () => {
  it("formats integers, 4 significant digits and exponents", () => {
    expect(formatReportValue(12)).toBe("12");
    expect(formatReportValue(-3)).toBe("-3");
    expect(formatReportValue(3.14159)).toBe("3.142");
    expect(formatReportValue(0.000123456)).toBe("1.235e-4");
    expect(formatReportValue(1234567.8)).toBe("1.235e+6");
  });
});

describe("validateReportItems", () => {
  it("rejects NaN / Infinity values, naming the item", () => {
    expect(() => reportBundle([{ name: "FID", value: NaN, unit: "", meaning: "m" }])).toThrow(/"FID" has value NaN/);
    expect(() => reportBundle([{ name: "loss", value: Infinity, unit: "", meaning: "m" }])).toThrow(/"loss" has value Infinity.*finite/);
  });
  it("rejects empty and duplicate names, bad units and meanings", () => {
    expect(() => validateReportItems([{ name: "", value: 1, unit: "", meaning: "m" }])).toThrow(/item 0 needs a non-empty string name/);
    expect(() => validateReportItems([{ name: "a", value: 1, unit: "", meaning: "m" }, { name: "a", value: 2, unit: "", meaning: "m" }])).toThrow(/duplicate name "a"/);
    expect(() => validateReportItems([{ name: "a", value: 1, unit: 3, meaning: "m" }])).toThrow(/"a" needs a string unit/);
    expect(() => validateReportItems([{ name: "a", value: 1, unit: "", meaning: " " }])).toThrow(/"a" needs a non-empty meaning/);
    expect(() => validateReportItems([{ name: "a", value: "1", unit: "", meaning: "m" }])).toThrow(/"a" has value 1/);
    expect(() => validateReportItems([])).toThrow(/non-empty array/);
    expect(() => validateReportItems([null])).toThrow(/item 0 is not an object/);
  });
});

describe("items with n, ci and seeds (issue 14)", () => {
  const stat: ReportItem[] = [
    { name: "acc s=3", value: 0.62, unit: "fraction", meaning: "accuracy, 95% Wilson CI", n: 1500, ci: [0.595, 0.644], seeds: [11, 12, 13] },
    { name: "final loss", value: 0.41234567, unit: "", meaning: "denoising MSE" },
  ];
  it("round-trips the extra fields and shows interval, n and seeds columns (\"-\" where absent)", () => {
    const b = reportBundle(stat);
    expect(b[REPORT_MIME]).toEqual({ items: stat });
    expect((b[REPORT_MIME] as { items: object[] }).items[1]).not.toHaveProperty("ci");
    expect((b["text/plain"] as string).split("\n")).toEqual([
      "[report]",
      "name         value  interval        n     seeds     unit      meaning",
      "----------  ------  --------------  ----  --------  --------  -----------------------",
      "acc s=3       0.62  [0.595, 0.644]  1500  11,12,13  fraction  accuracy, 95% Wilson CI",
      "final loss  0.4123  -               -     -         -         denoising MSE",
    ]);
    const html = b["text/html"] as string;
    expect(html).toContain(">interval</th>");
    expect(html).toContain(">[0.595, 0.644]<");
    expect(html).toContain(">11,12,13<");
  });
  it("adds only the columns some item uses", () => {
    const text = reportBundle([{ name: "a", value: 1, unit: "", meaning: "m", n: 5 }])["text/plain"] as string;
    expect(text.split("\n")[1]).toBe("name  value  n  unit  meaning");
  });
  it("validates n, ci and seeds, naming the item", () => {
    const it0 = { name: "a", value: 0.5, unit: "", meaning: "m" };
    expect(() => validateReportItems([{ ...it0, n: 0 }])).toThrow(/"a" has n = 0; n must be a positive integer/);
    expect(() => validateReportItems([{ ...it0, n: 2.5 }])).toThrow(/n must be a positive integer/);
    expect(() => validateReportItems([{ ...it0, ci: [0.6, 0.7] }])).toThrow(/"a" has value 0.5 outside its ci \[0.6, 0.7\]/);
    expect(() => validateReportItems([{ ...it0, ci: [0.4, 0.45] }])).toThrow(/outside its ci/);
    expect(() => validateReportItems([{ ...it0, ci: [0.7, 0.4] }])).toThrow(/outside its ci/);
    expect(() => validateReportItems([{ ...it0, ci: [0.4] }])).toThrow(/ci must be \[lo, hi\]/);
    expect(() => validateReportItems([{ ...it0, ci: [NaN, 1] }])).toThrow(/ci must be \[lo, hi\]/);
    expect(() => validateReportItems([{ ...it0, seeds: [1, 2.5] }])).toThrow(/seeds must be a non-empty array of integers/);
    expect(() => validateReportItems([{ ...it0, seeds: [] }])).toThrow(/seeds must be/);
    expect(validateReportItems([{ ...it0, ci: [0.5, 0.5], n: 3, seeds: [0] }])).toEqual([{ ...it0, ci: [0.5, 0.5], n: 3, seeds: [0] }]);
    expect(validateReportItems([{ ...it0, ci: [0.5 + 1e-12, 0.6] }])[0].ci).toEqual([0.5 + 1e-12, 0.6]); // round-off tolerated
  });
  it("survives the nbformat round trip", () => {
    const out = [{ output_type: "display_data", data: { [REPORT_MIME]: JSON.stringify(reportBundle(stat)[REPORT_MIME]) } }];
    expect(reportItemsFromOutputs(out)).toEqual(stat);
  });
});

describe("report", () => {
  it("prints the text table outside a notebook", () => {
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      report(items.slice(0, 2), { title: "T" });
      expect(log).toHaveBeenCalledTimes(1);
      expect(String(log.mock.calls[0][0])).toMatch(/^\[report\] T\nname/);
    } finally {
      log.mockRestore();
    }
  });
  it("throws before displaying anything when an item is invalid", () => {
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      expect(() => report([{ name: "x", value: NaN, unit: "", meaning: "m" }])).toThrow(/"x"/);
      expect(log).not.toHaveBeenCalled();
    } finally {
      log.mockRestore();
    }
  });
});

describe("reportItemsFromOutputs", () => {
  it("round-trips bundles through nbformat outputs (object or JSON string payloads)", () => {
    const a = reportBundle(items.slice(0, 2), { title: "A" });
    const b = reportBundle(items.slice(2));
    const outputs: unknown[] = [
      { output_type: "stream", name: "stdout", text: "hello\n" },
      { output_type: "display_data", data: a, metadata: {} },
      { output_type: "display_data", data: { "text/plain": "[plot] x" }, metadata: {} },
      { output_type: "execute_result", execution_count: 3, data: { [REPORT_MIME]: JSON.stringify(b[REPORT_MIME]) }, metadata: {} },
      { output_type: "error", ename: "E", evalue: "", traceback: [] },
      null,
    ];
    expect(reportItemsFromOutputs(outputs)).toEqual(items);
    expect(reportItemsFromOutputs([])).toEqual([]);
  });
  it("throws on a malformed payload, naming the output", () => {
    const bad = { output_type: "display_data", data: { [REPORT_MIME]: { items: [{ name: "x", value: null, unit: "", meaning: "m" }] } } };
    expect(() => reportItemsFromOutputs([{ output_type: "stream" }, bad])).toThrow(/output 1: .*"x" has value null/);
    expect(() => reportItemsFromOutputs([{ output_type: "display_data", data: { [REPORT_MIME]: "{not json" } }])).toThrow(/not valid JSON/);
  });
});
