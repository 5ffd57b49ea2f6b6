// Shared vitest project settings: resolve workspace packages to their TypeScript source in tests,
// so a test run never depends on a stale dist folder.
const conditions = ['@switchyard/source', 'import', 'module', 'node', 'default']

/** @param {string} name @param {Record<string, unknown>} [test] */
export function packageProject(name, test = {}) {
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@switchyard/source'] } },
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      ...test,
    },
  }
}
