import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The HSM suite needs SoftHSM2 installed: `npm run test:hsm` (vitest.hsm.config.ts) runs it.
    exclude: ['test/e2e/**', 'test/hsm/**', '**/*.hsm.test.ts', 'node_modules/**'],
    // Native SQLite handles and child servers are happiest in forked workers.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globals: false,
  },
});
