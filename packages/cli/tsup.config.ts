import { packageBuild } from '@switchyard/config/tsup'
import { defineConfig } from 'tsup'

// Two entries (the library and the bin): `splitting` puts what they share in one chunk, so both
// see one class identity in CommonJS too.
export default defineConfig({
  ...packageBuild({ index: 'src/index.ts', bin: 'src/bin.ts' }),
  splitting: true,
  treeshake: true,
})
