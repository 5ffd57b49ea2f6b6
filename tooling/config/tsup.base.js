// One tsup base for every package. Only options tsdown also accepts, so a later switch is one command.
/** @param {Record<string, string> | string[]} entry */
export function packageBuild(entry = ['src/index.ts']) {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
  }
}
