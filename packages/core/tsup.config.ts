import { packageBuild } from '@switchyard/config/tsup'
import { defineConfig } from 'tsup'

// Several entry points: `splitting` puts the modules they share (the error classes) in one chunk
// for CommonJS too, so every entry sees one class identity; `treeshake` has rollup write those
// chunks (clean CommonJS, relative source maps). tsdown always splits and accepts `treeshake`.
export default defineConfig({
  ...packageBuild(['src/index.ts', 'src/transport-entry.ts']),
  splitting: true,
  treeshake: true,
})
