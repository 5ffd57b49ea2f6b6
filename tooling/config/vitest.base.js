// Shared vitest project settings: resolve workspace packages to their TypeScript source in tests,
// so a test run never depends on a stale dist folder.
// No 'import' or 'module' here: vitest hands these to workers as `node --conditions`, and forcing
// 'import' makes CommonJS packages (pg-pool) load their ESM build from require().
const conditions = ['@switchyard/source', 'node', 'development|production']

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
