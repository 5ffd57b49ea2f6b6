import { packageBuild } from '@switchyard/config/tsup'
import { defineConfig } from 'tsup'

// `shims` gives the CommonJS build an `import.meta.url`, which finds the assets beside it.
export default defineConfig({ ...packageBuild(), shims: true })
