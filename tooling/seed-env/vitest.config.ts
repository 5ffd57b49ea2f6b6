import { defineProject } from 'vitest/config'

// The seed systems' example environment blocks (fixtures/, copied from their READMEs) against the
// `fromEnv` readers, read from the packages' sources: no build needed beyond core's dist.
export default defineProject({
  test: {
    name: 'seed-env',
    include: ['test/**/*.test.ts'],
  },
})
