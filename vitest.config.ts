// Vitest config: unit tests under test/, in forked processes (native modules like koffi stay isolated).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ once: CLI tests run the compiled command, and runner worker threads run compiled code.
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
