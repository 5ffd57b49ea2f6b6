import { packageBuild } from '@switchyard/config/tsup'
import { defineConfig } from 'tsup'

export default defineConfig(packageBuild(['src/index.ts', 'src/transport-entry.ts']))
