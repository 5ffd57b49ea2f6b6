/** Shared tsup options: ESM + CJS + .d.ts, sourcemaps, node20 target. */
export declare function packageBuild(entry?: Record<string, string> | string[]): {
  entry: Record<string, string> | string[]
  format: ('esm' | 'cjs')[]
  dts: boolean
  sourcemap: boolean
  clean: boolean
  target: string
}
