import { defineProject } from 'vitest/config'

// Runs the code blocks of every README as users would paste them: the blocks import the built
// `dist` of the packages, so the global setup runs the (cached) turbo build first.
export default defineProject({
  test: {
    name: 'readme-examples',
    include: ['test/**/*.test.ts'],
    globalSetup: ['build.setup.ts'],
    maxConcurrency: 64,
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
})
