import { packageProject } from '@switchyard/config/vitest'
import { defineProject } from 'vitest/config'

const project = packageProject('outbox')
// Vitest hands ssr.resolve.conditions to the worker as `node --conditions`; with `import` among
// them Node's own require() of dual packages (pg → pg-pool) picks their ESM build and `pg` breaks.
// Keep the source condition for workspace packages and let Node choose the rest.
project.ssr.resolve.conditions = ['@switchyard/source', 'node', 'default']

export default defineProject(project)
