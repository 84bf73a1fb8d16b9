import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      // Real parts: xmlsec1, xmllint, the built CLI, RabbitMQ. Longer timeouts, no timing asserts.
      { test: { name: 'integration', include: ['tests/integration/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } },
      // The chaos suite (npm run chaos): fault runs under load and fuzzing, one file at a time. Its
      // fault runs stop and kill the shared broker, so npm test runs it alone, after the others.
      { test: { name: 'chaos', include: ['tests/chaos/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 120_000, fileParallelism: false } },
    ],
  },
});
