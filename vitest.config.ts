import { defineConfig } from "vitest/config";

// The same suite runs on SQLite (default) and on PostgreSQL when SESAME_TEST_DATABASE_URL is set.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    globalSetup: ["test/global-setup.ts"],
  },
});
