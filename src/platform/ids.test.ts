import { describe, expect, it } from "vitest";
import { newId } from "./ids.js";

describe("row ids", () => {
  it("sort by the millisecond they were made in, so new rows land side by side in their index", async () => {
    const groups: string[][] = [];
    for (let g = 0; g < 5; g++) {
      groups.push(Array.from({ length: 20 }, () => newId()));
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    for (let g = 1; g < groups.length; g++)
      expect([...groups[g - 1]!].sort().at(-1)! < [...groups[g]!].sort()[0]!).toBe(true);
    const all = groups.flat();
    expect(new Set(all).size).toBe(all.length);
    for (const id of all)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
