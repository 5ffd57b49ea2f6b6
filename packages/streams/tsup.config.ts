import { packageBuild } from '@switchyard/config/tsup'
import { defineConfig } from 'tsup'

export default defineConfig(packageBuild())
