import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { heapFlags, tuneHeap } from "./heap.js";

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
    const growth = (execArgv: string[]) => heapFlags(execArgv, 8).filter((f) => f.includes("growing"));
    expect(growth(["--heap-growing-percent=50"])).toEqual([]);
    expect(growth(["--max-semi-space-size=2", "--heap_growing_percent=50"])).toEqual([]);
    expect(growth(["--max-semi-space-size=2"])).toEqual(["--heap-growing-percent=30"]);
  });

  it("collects the young generation on the main thread alone on two cores or fewer", () => {
    const alone = (execArgv: string[], cores: number) =>
      heapFlags(execArgv, cores).includes("--no-parallel-scavenge");
    expect(alone([], 1)).toBe(true);
    expect(alone([], 2)).toBe(true);
    expect(alone([], 4)).toBe(false);
    expect(alone(["--parallel-scavenge"], 2)).toBe(false);
    expect(alone(["--no_parallel_scavenge"], 2)).toBe(false);
    // Applied to this process's V8 without complaint.
    expect(tuneHeap(["--heap-growing-percent=50"])).toEqual(heapFlags(["--heap-growing-percent=50"]));
  });
});
