import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tools/**/*.test.ts', 'workers/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // vitest's default on 2 cores is one file at a time; most files keep one core busy (SwiftShader's
    // shader compiler, Python oracles, one-threaded graph building), so two run side by side
    maxWorkers: 2,
  },
});
