import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Interop and end-to-end tests start real daemons and tshark; give them room, but keep
    // the whole suite well under CI's 90 minutes.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
