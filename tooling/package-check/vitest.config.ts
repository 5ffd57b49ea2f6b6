import { defineProject } from 'vitest/config'

// Checks the built packages as users load them: plain Node children resolve each package's dist
// through its `exports`; the global setup builds the packages first.
export default defineProject({
  test: {
    name: 'package-check',
    include: ['test/**/*.test.ts'],
    globalSetup: ['build.setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
})
