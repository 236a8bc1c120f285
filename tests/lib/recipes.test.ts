import { RECIPES, getRecipe, recipeData } from "../../lib/src/recipes";

describe("recipes", () => {
  test("every recipe is self-consistent and named by its key", () => {
    for (const [key, r] of Object.entries(RECIPES)) {
      expect(r.name).toBe(key);
      expect(getRecipe(key)).toBe(r);
      expect(r.net.dataDim).toBe(2);
      expect(r.train.steps).toBeGreaterThan(0);
      if (r.train.condDropout !== undefined) expect(r.net.numClasses).toBeGreaterThan(0);
    }
    expect(() => getRecipe("nope")).toThrow(/unknown recipe "nope"; known recipes: ring-mlp/);
  });

  test("recipeData draws the recipe's ring, reproducibly from the seed", () => {
    const r = getRecipe("ring-mlp");
    const a = recipeData(r);
    const b = recipeData(r);
    const c = recipeData(r, r.train.seed + 1);
    expect(a.n).toBe(r.data.n);
    expect(a.numClasses).toBe(r.data.numModes);
    expect(Array.from(a.x.subarray(0, 10))).toEqual(Array.from(b.x.subarray(0, 10)));
    expect(Array.from(a.x.subarray(0, 10))).not.toEqual(Array.from(c.x.subarray(0, 10)));
    let meanRadius = 0;
    for (let i = 0; i < a.n; i++) meanRadius += Math.hypot(a.x[2 * i], a.x[2 * i + 1]) / a.n;
    expect(meanRadius).toBeGreaterThan(r.data.radius - 0.1);
    expect(meanRadius).toBeLessThan(r.data.radius + 0.1);
  });
});
