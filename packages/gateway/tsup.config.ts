import { packageBuild } from '@switchyard/config/tsup'
import { defineConfig } from 'tsup'

// Two entries (the library and the bin): `splitting` puts the modules they share in one chunk
// for CommonJS too, so both see one class identity; `treeshake` writes clean chunks.
export default defineConfig({
  ...packageBuild({ index: 'src/index.ts', bin: 'src/bin/main.ts' }),
  splitting: true,
  treeshake: true,
})
