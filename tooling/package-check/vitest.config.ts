import { defineProject } from 'vitest/config'

// Checks the built packages as users load them: plain Node children resolve each package's dist
// through its `exports`, so `pnpm build` must have run first.
export default defineProject({
  test: {
    name: 'package-check',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
  },
})
