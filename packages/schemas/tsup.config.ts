import { packageBuild } from '@switchyard/config/tsup'
import { defineConfig } from 'tsup'

export default defineConfig(
  packageBuild({
    index: 'src/index.ts',
    olive: 'src/olive/index.ts',
    anumate: 'src/anumate/index.ts',
    marty: 'src/marty/index.ts',
  }),
)
