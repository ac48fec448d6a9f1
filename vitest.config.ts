import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// The same suite runs on SQLite (default) and on PostgreSQL when SESAME_TEST_DATABASE_URL is set.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // One worker per core, not Vitest's cores - 1: the tests spend much of their time waiting on
    // PostgreSQL, child processes and Chromium (on 2 cores: SQLite 220 s -> 173 s, PostgreSQL 365 s -> 240 s).
    maxWorkers: availableParallelism(),
    globalSetup: ["test/global-setup.ts"],
    setupFiles: ["test/worker-database.ts"],
  },
});
