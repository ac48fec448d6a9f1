import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tuneHeap } from "./heap.js";

const root = new URL("../../", import.meta.url);
const startScript: string = JSON.parse(readFileSync(new URL("package.json", root), "utf8")).scripts.start;
const shebang = readFileSync(new URL("bin/sesame.js", root), "utf8").split("\n")[0]!;
const flagsOf = (command: string) => command.split(/\s+/).filter((word) => word.startsWith("--max-semi"));

describe("the server's heap", () => {
  it("is started with a small young generation by npm start and by the sesame command alike", () => {
    expect(flagsOf(startScript)).toEqual(["--max-semi-space-size=2"]);
    expect(shebang).toMatch(/^#!\/usr\/bin\/env -S node /);
    expect(flagsOf(shebang)).toEqual(flagsOf(startScript));
  });

  it("limits the old generation's growth unless the command line set its own", () => {
    expect(tuneHeap(["--heap-growing-percent=50"])).toBe(false);
    expect(tuneHeap(["--max-semi-space-size=2", "--heap_growing_percent=50"])).toBe(false);
    expect(tuneHeap(["--max-semi-space-size=2"])).toBe(true);
  });
});
