import { defineConfig } from 'vitest/config';

/**
 * The PKCS#11 suite: real SoftHSM2 tokens, so it needs `apt-get install softhsm2`, and `npm test`
 * leaves it out. Run it with `npm run test:hsm`; a machine without SoftHSM2 fails it loudly.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.hsm.test.ts', 'test/hsm/**/*.test.ts'],
    exclude: ['node_modules/**'],
    // One process per file: SOFTHSM2_CONF and the loaded module are per process.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globals: false,
  },
});
