import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "src/**/*.test.ts",
      "test/**/*.test.ts",
      "packages/*/src/**/*.test.ts",
      "packages/*/test/**/*.test.ts",
    ],
    // Drops the PostgreSQL test schemas before and after the run, never during it.
    globalSetup: ["test/support/postgres-cleanup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Multi-process and browser suites start real servers; two cores is the budget.
    maxWorkers: 2,
  },
});
