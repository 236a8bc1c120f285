import { TableColumn, showTable, tableBundle } from "../../lib/src/table";

interface Row {
  name: string;
  x: number;
  y: number;
}

const rows: Row[] = [
  { name: "a<b", x: 1, y: 0.123456 },
  { name: "long name", x: 250, y: 12345678 },
];
const columns: TableColumn<Row>[] = [
  { header: "name", value: (r) => r.name },
  { header: "x", value: (r) => r.x },
  { header: "y & z", value: (r) => r.y, format: (v) => v.toFixed(2) },
];

describe("tableBundle", () => {
  test("text/plain: optional title, then right-aligned columns two spaces apart, numbers formatted", () => {
    const text = tableBundle(rows, columns)["text/plain"];
    expect(text).toBe(["     name    x        y & z", "      a<b    1         0.12", "long name  250  12345678.00"].join("\n"));
    const titled = tableBundle(rows, columns, { title: "Sweep <1>" })["text/plain"] as string;
    expect(titled.split("\n")[0]).toBe("Sweep <1>");
    expect(titled.split("\n").slice(1).join("\n")).toBe(text);
    // the default format is report()'s: integers as is, else 4 significant digits
    const plain = tableBundle([{ v: 0.123456 }, { v: 7 }, { v: 1e-5 }], [{ header: "v", value: (r: { v: number }) => r.v }])["text/plain"];
    expect(plain).toBe(["     v", "0.1235", "     7", "1.000e-5"].map((l) => l.padStart(8)).join("\n"));
  });

  test("text/html: one header row, one row per data row, right-aligned, everything escaped, title as caption", () => {
    const html = tableBundle(rows, columns, { title: "s <& guidance>" })["text/html"] as string;
    expect(html.startsWith('<table class="course-table"><caption style="text-align:left;font-weight:bold">s &lt;&amp; guidance&gt;</caption>')).toBe(true);
    expect(html.match(/<th style="text-align:right">/g)?.length).toBe(3);
    expect(html).toContain("<th style=\"text-align:right\">y &amp; z</th>");
    expect(html.match(/<tr>/g)?.length).toBe(3);
    expect(html.match(/<td style="text-align:right;font-variant-numeric:tabular-nums">/g)?.length).toBe(6);
    expect(html).toContain(">a&lt;b</td>");
    expect(html).toContain(">12345678.00</td>");
    expect(html).not.toMatch(/a<b|<1>|y & z/);
    expect(tableBundle(rows, columns)["text/html"]).not.toContain("<caption");
  });

  test("no rows gives just the header; no columns is an error", () => {
    const b = tableBundle([], columns);
    expect(b["text/plain"]).toBe("name  x  y & z");
    expect(b["text/html"]).toContain("<tbody></tbody>");
    expect(() => tableBundle(rows, [])).toThrow("showTable: no columns");
  });
});

describe("showTable", () => {
  test("outside a notebook it prints the text form once", () => {
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      showTable(rows, columns, { title: "T" });
      expect(log).toHaveBeenCalledTimes(1);
      expect(log).toHaveBeenCalledWith(tableBundle(rows, columns, { title: "T" })["text/plain"]);
    } finally {
      log.mockRestore();
    }
    expect(() => showTable(rows, [])).toThrow(/no columns/);
  });
});
