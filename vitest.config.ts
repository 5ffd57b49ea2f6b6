import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      'packages/*',
      'apps/*',
      'tooling/package-check',
      'tooling/seed-env',
      'tooling/readme-examples',
    ],
    // Broker suites share one real server each; keep files sequential per project on 2 cores.
    fileParallelism: true,
    reporters: ['default'],
  },
})
